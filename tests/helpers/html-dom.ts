import { createHash } from 'node:crypto';
import { JSDOM } from 'jsdom';

/** Parses a page the way a browser does (jsdom's parser is the HTML standard's), without running anything. */
export function parsePage(html: string): Document {
  return new JSDOM(html).window.document;
}

/** Elements that run code, load something or change where the page's links and forms go. */
const ACTIVE_ELEMENTS = 'script, iframe, frame, object, embed, applet, base, form, link, img, svg, math, video, audio, source, template';

/**
 * Everything on the page that could execute or fetch: active elements, event-handler attributes,
 * `style` attributes, `javascript:`/`data:`/`vbscript:` URLs, external URLs and refresh metas.
 * Empty for a safe page. Each finding is a short description for the test's failure message.
 */
export function executableMarkup(document: Document): string[] {
  const findings: string[] = [];
  for (const element of document.querySelectorAll(ACTIVE_ELEMENTS)) findings.push(`<${element.localName}> element`);
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      // Browsers ignore ASCII whitespace and control characters inside a URL's scheme.
      const value = attribute.value.replace(/[\p{Cc} ]/gu, '').toLowerCase();
      if (name.startsWith('on')) findings.push(`${name} attribute on <${element.localName}>`);
      if (name === 'style') findings.push(`style attribute on <${element.localName}>`);
      if (/^(javascript|vbscript|data):/.test(value)) findings.push(`${name}="${attribute.value}" on <${element.localName}>`);
      if (
        ['href', 'src', 'action', 'formaction', 'srcset', 'poster', 'background'].includes(name) &&
        /^([a-z][a-z0-9+.-]*:|\/\/)/.test(value)
      ) {
        findings.push(`external ${name}="${attribute.value}" on <${element.localName}>`);
      }
    }
  }
  for (const meta of document.querySelectorAll('meta[http-equiv]')) {
    if (meta.getAttribute('http-equiv')?.toLowerCase() === 'refresh') findings.push('refresh <meta>');
  }
  return findings;
}

/** The page's Content-Security-Policy, directive by directive. */
export function contentSecurityPolicy(document: Document): Map<string, string[]> {
  const metas = [...document.querySelectorAll('meta[http-equiv]')].filter(
    (meta) => meta.getAttribute('http-equiv')?.toLowerCase() === 'content-security-policy',
  );
  if (metas.length !== 1) throw new Error(`expected one Content-Security-Policy meta, found ${metas.length}`);
  const policy = new Map<string, string[]>();
  for (const directive of metas[0]!.getAttribute('content')!.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name) policy.set(name, values);
  }
  return policy;
}

/** The CSP source expression that allows exactly this inline stylesheet. */
export function styleHashSource(style: HTMLStyleElement): string {
  return `'sha256-${createHash('sha256')
    .update(style.textContent ?? '')
    .digest('base64')}'`;
}

/**
 * Whether `node` sits inside a bidi isolate that ends before any page text around it: an element
 * with a `dir` attribute, or `<bdi>` (both `unicode-bidi: isolate` in the HTML standard's styles),
 * reached before leaving the block it is in.
 */
export function isIsolated(node: Node): boolean {
  for (let element = node.parentElement; element; element = element.parentElement) {
    if (element.localName === 'bdi' || element.hasAttribute('dir')) return true;
    if (element.localName === 'body') return false;
  }
  return false;
}

/** Text nodes whose text contains `needle`. */
export function textNodesContaining(document: Document, needle: string): Text[] {
  const walker = document.createTreeWalker(document.body, 4 /* NodeFilter.SHOW_TEXT */);
  const found: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent?.includes(needle)) found.push(node as Text);
  }
  return found;
}
