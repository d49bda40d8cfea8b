import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fg from 'fast-glob';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';
import { repoRoot } from './repo-root.js';

/**
 * `npm run docs:links`: every relative link and image of README.md, docs/ and bench/RESULTS.md (which
 * the docs cite and which links back to them) points at a file that exists, and every `#anchor` at a heading of its page, slugged as GitHub slugs headings. Problems
 * are printed at the Markdown file and line of the link.
 */

export interface DocLink {
  /** The Markdown file, relative to the root it was read from. */
  file: string;
  /** 1-based line of the link. */
  line: number;
  href: string;
}

const markdown = new MarkdownIt();
type Token = ReturnType<typeof markdown.parse>[number];
/** `https:`, `mailto:`, `//host`: links that leave the repository are not checked. */
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** The heading anchors GitHub gives a Markdown text: each heading's text slugged, repeats numbered (`-1`, `-2`). */
export function headingAnchors(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = markdown.parse(text, {});
  const anchors = new Set<string>();
  tokens.forEach((token, i) => {
    if (token.type !== 'heading_open') return;
    const inline = tokens[i + 1]?.children ?? [];
    anchors.add(slugger.slug(inline.map(plainText).join('')));
  });
  return anchors;
}

function plainText(token: Token): string {
  if (token.type === 'text' || token.type === 'code_inline') return token.content;
  if (token.type === 'image') return (token.children ?? []).map(plainText).join('');
  return '';
}

/** The links (`[text](href)`, reference links, images) of a Markdown text, each at its own line. */
export function extractLinks(text: string, file: string): DocLink[] {
  const links: DocLink[] = [];
  for (const block of markdown.parse(text, {})) {
    if (block.type !== 'inline' || !block.map) continue;
    let line = block.map[0] + 1;
    for (const token of block.children ?? []) {
      if (token.type === 'softbreak' || token.type === 'hardbreak') line += 1;
      const href = token.type === 'link_open' ? token.attrGet('href') : token.type === 'image' ? token.attrGet('src') : null;
      if (href !== null) links.push({ file, line, href: String(href) });
    }
  }
  return links;
}

/**
 * Checks the links of `files` (paths relative to `root`). A link resolves against its file's folder;
 * a target outside `files` is read when the link names one of its anchors. Returns one message per
 * broken link, `docs/x.md:12: …`.
 */
export async function checkDocLinks(root: string, files: readonly string[]): Promise<string[]> {
  const anchorsByFile = new Map<string, Promise<Set<string> | null>>();
  const anchorsOf = (file: string): Promise<Set<string> | null> => {
    let anchors = anchorsByFile.get(file);
    if (!anchors) {
      anchors = readFile(path.join(root, file), 'utf8').then(headingAnchors, () => null);
      anchorsByFile.set(file, anchors);
    }
    return anchors;
  };
  const problems: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(root, file), 'utf8');
    for (const link of extractLinks(text, file)) {
      const problem = await linkProblem(root, link, anchorsOf);
      if (problem) problems.push(`${link.file}:${link.line}: ${problem}`);
    }
  }
  return problems;
}

async function linkProblem(root: string, link: DocLink, anchorsOf: (file: string) => Promise<Set<string> | null>): Promise<string | null> {
  if (EXTERNAL.test(link.href)) return null;
  const hashAt = link.href.indexOf('#');
  const target = decodeURIComponent(hashAt < 0 ? link.href : link.href.slice(0, hashAt));
  const anchor = hashAt < 0 ? null : decodeURIComponent(link.href.slice(hashAt + 1));
  const targetFile = target === '' ? link.file : path.normalize(path.join(path.dirname(link.file), target));
  if (target !== '' && !(await stat(path.join(root, targetFile)).catch(() => null))) {
    return `${link.href}: ${targetFile} does not exist; fix the path or remove the link`;
  }
  // An anchor into a source file (`#L12`) is GitHub's line link, not a heading.
  if (anchor === null || anchor === '' || !targetFile.endsWith('.md')) return null;
  const anchors = await anchorsOf(targetFile);
  if (anchors?.has(anchor)) return null;
  return `${link.href}: ${targetFile} has no heading with the anchor #${anchor}; link to one of its headings (GitHub's slug: lower case, spaces as -, punctuation dropped)`;
}

async function main(): Promise<void> {
  const files = ['README.md', ...(await fg('docs/**/*.md', { cwd: repoRoot })).sort(), 'bench/RESULTS.md'];
  const problems = await checkDocLinks(repoRoot, files);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log(`the links in ${files.join(', ')} resolve`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
