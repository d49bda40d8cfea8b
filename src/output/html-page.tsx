// JSX settings in the file as well as in tsconfig.json, so tsx compiles it right from any working directory.
/** @jsxRuntime automatic @jsxImportSource preact */
import { createHash } from 'node:crypto';
import type { ComponentChildren } from 'preact';
import { renderToStaticMarkup } from 'preact-render-to-string';

/**
 * The document shell the HTML outputs share (`<id>.html` and `index.html`): the head with its
 * Content-Security-Policy, the stylesheet inline, and the colours, type and print rules both pages use.
 *
 * Pages are preact elements rendered to a string, so every piece of article text and every attribute
 * value is escaped by the renderer: nothing from an input can become markup. The stylesheet is the only
 * raw text on a page, and it is ours.
 */

/** Light and dark colours, type, badges, banners and print rules. */
const BASE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #fcfcfb; --fg: #1c1c1e; --muted: #5c6066; --rule: #d5d7db; --panel: #f1f2f4; --accent: #0b57d0;
  --ok: #137333; --partial: #8f5200; --failed: #b3261e; --skipped: #5c6066;
  --flag-bg: #fff1b8; --flag-fg: #4d3a00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141517; --fg: #e6e6e8; --muted: #a2a6ad; --rule: #3a3d42; --panel: #1f2124; --accent: #8ab4f8;
    --ok: #81c995; --partial: #fdd663; --failed: #f28b82; --skipped: #a2a6ad;
    --flag-bg: #4a3b00; --flag-fg: #ffe08a;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0 auto; max-width: 76rem; padding: 1rem 1.25rem 3rem;
  background: var(--bg); color: var(--fg);
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif;
  overflow-wrap: anywhere;
}
:lang(ar), :lang(fa), :lang(ur), :lang(ps), :lang(sd), :lang(ug), :lang(ckb) {
  font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Geeza Pro", "Segoe UI", Tahoma, "DejaVu Sans", sans-serif;
  line-height: 1.9;
}
a { color: var(--accent); }
h1 { font-size: 1.6rem; line-height: 1.35; margin: .5rem 0; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; }
.muted { color: var(--muted); }
.badge {
  display: inline-block; padding: 0 .45em; border: 1px solid currentColor; border-radius: .3em;
  font-size: .8rem; font-weight: 600; line-height: 1.5; white-space: nowrap;
}
.status-ok { color: var(--ok); }
.status-partial { color: var(--partial); }
.status-failed { color: var(--failed); }
.status-skipped { color: var(--skipped); }
.banner { margin: 1rem 0; padding: .6rem .9rem; border-inline-start: .3rem solid currentColor; background: var(--panel); }
.banner > * { margin: .25rem 0; }
.banner p, .banner li { color: var(--fg); }
.flag {
  display: inline-block; margin-inline-start: .35em; padding: 0 .35em; border-radius: .25em;
  background: var(--flag-bg); color: var(--flag-fg); font-size: .75rem; font-weight: 600; line-height: 1.5; white-space: nowrap;
}
@media print {
  :root {
    color-scheme: light;
    --bg: #fff; --fg: #000; --muted: #444; --rule: #999; --panel: #fff; --accent: #000;
    --ok: #000; --partial: #000; --failed: #000; --skipped: #444; --flag-bg: #fff; --flag-fg: #000;
  }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { text-decoration: none; }
  .screen-only { display: none !important; }
  .flag { border: 1px solid #000; }
  h1, h2 { break-after: avoid; }
}
`;

export interface PageProps {
  /** The document title; isolated so its direction marks cannot reorder the rest of the tab title. */
  title: string;
  /** The page's own rules, appended to the shared ones. */
  css: string;
  children: ComponentChildren;
  /** What the page may do beyond the default policy: post its form to its own origin, run scripts of its origin (the server's page). */
  allow?: { formToSelf?: boolean; scriptsFromSelf?: boolean };
}

/** First-strong isolate … pop directional isolate: the title's own direction, contained. */
function isolated(text: string): string {
  return `\u2068${text}\u2069`;
}

/**
 * A whole document, `<!doctype html>` included. The Content-Security-Policy allows the inline
 * stylesheet by its hash and nothing else: no scripts (inline or not), no style attributes, images,
 * fonts, frames, connections or form submissions.
 */
export function renderPage({ title, css, children, allow = {} }: PageProps): string {
  const stylesheet = BASE_CSS + css;
  const styleHash = createHash('sha256').update(stylesheet).digest('base64');
  const scripts = allow.scriptsFromSelf ? "; script-src 'self'" : '';
  const policy = `default-src 'none'; style-src 'sha256-${styleHash}'${scripts}; base-uri 'none'; form-action ${allow.formToSelf ? "'self'" : "'none'"}`;
  const page = (
    <html lang="en" dir="ltr">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content={policy} />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="no-referrer" />
        <meta name="generator" content="newsbridge" />
        <title>{isolated(title)}</title>
        {/* Our own stylesheet, not input text: the one place raw text is written, so its hash matches. */}
        <style dangerouslySetInnerHTML={{ __html: stylesheet }} />
      </head>
      <body>{children}</body>
    </html>
  );
  return `<!doctype html>\n${renderToStaticMarkup(page)}\n`;
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** `Arabic`, `Vietnamese`; the code itself when it has no English name; `unknown language` for `und`. */
export function languageName(lang: string): string {
  if (lang === 'und') return 'unknown language';
  try {
    return languageNames.of(lang) ?? lang;
  } catch {
    return lang;
  }
}
