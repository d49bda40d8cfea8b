import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalUrl, pageFileName } from '../../src/fetch/canonical-url.js';
import { savedPage, SIDECAR_SUFFIX } from '../../src/fetch/saved-page.js';
import { type NewsSite, pagePath, startNewsSite } from '../fetch/news-site.js';

const cli = path.resolve('src/cli/index.ts');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts `newsbridge <args>` through tsx; `CI` is set so no progress bar is drawn. */
function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

const newsbridge = (args: string[]) => start(args).done;

let site: NewsSite;
let scratch: string;
beforeAll(async () => {
  site = await startNewsSite();
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-fetch-cli-'));
});
afterAll(async () => {
  await site.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Workspace {
  root: string;
  dir: string;
  config: string;
}

/** A workspace whose pipeline.yaml fetches `feeds` from the loopback site into its own folder. */
async function workspace(name: string, feeds: string[], extra: string[] = ['  contact: https://example.test/contact']): Promise<Workspace> {
  const root = path.join(scratch, name);
  await mkdir(root, { recursive: true });
  const dir = path.join(root, 'input', 'web');
  const config = path.join(root, 'pipeline.yaml');
  await writeFile(
    config,
    [
      'input:',
      '  feeds:',
      ...feeds.map((feed) => `    - ${site.origin}${feed}`),
      'fetch:',
      `  dir: ${JSON.stringify(dir)}`,
      `  state: ${JSON.stringify(path.join(root, 'state', 'fetch.sqlite'))}`,
      '  allowPrivateAddresses: true',
      '  minDelaySeconds: 0',
      '  retries: 0',
      ...extra,
    ].join('\n'),
  );
  return { root, dir, config };
}

const fileOf = (page: string) => pageFileName(canonicalUrl(`${site.origin}${page}`));

describe('newsbridge fetch', () => {
  it('fetches the feed, exit 0 with the report on stderr; the next night everything is not modified', async () => {
    const { dir, config } = await workspace('basic', ['/rdf.xml']);
    const first = await newsbridge(['fetch', '--config', config]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stderr).toMatch(/^fetch: 1 feed \(1 fetched\); 5 pages: 5 fetched\n$/);
    for (let index = 0; index < 5; index++) expect(await savedPage(path.join(dir, fileOf(pagePath(index))))).not.toBeNull();
    const second = await newsbridge(['fetch', '--config', config]);
    expect(second).toMatchObject({ code: 0 });
    expect(second.stderr).toMatch(/^fetch: 1 feed \(1 not modified\); 5 pages: 0 fetched, 5 not modified\n$/);
  });

  it('draws a progress bar of the pages on a terminal', async () => {
    const { config } = await workspace('terminal', ['/rdf.xml']);
    // util-linux's `script` gives the CLI a pseudo-terminal, as a user's shell would; CI unset, as on a desk.
    const command = [process.execPath, '--import', 'tsx', cli, 'fetch', '--config', config].map((arg) => `'${arg}'`).join(' ');
    const { CI: _, ...env } = process.env;
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(output).toMatch(/5\/5 pages \| fetched http:\/\/127\.0\.0\.1:\d+\/news\/\d\.html/);
    expect(output).toMatch(/fetch: 1 feed \(1 fetched\); 5 pages: 5 fetched/);
  });

  it('takes --feeds FILE instead of input.feeds, and names the line of a bad one (exit 1)', async () => {
    const { dir, config } = await workspace('feeds-file', ['/feed.xml']);
    const list = path.join(scratch, 'feeds.txt');
    await writeFile(list, `# tonight\n\n${site.origin}/feed.json  # five items\n`);
    const result = await newsbridge(['fetch', '--config', config, '--feeds', list]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stderr).toMatch(/^fetch: 1 feed \(1 fetched\); 5 pages: 5 fetched\n$/);
    expect((await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.html'))).toHaveLength(5);
    await writeFile(list, `${site.origin}/feed.json\nftp://example.test/feed.xml\n`);
    const bad = await newsbridge(['fetch', '--config', config, '--feeds', list]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${list}:2:1: "ftp://example.test/feed.xml" is not an http(s) URL`);
  });

  it('exits 2 when a feed or a page fails, naming each with its reason', async () => {
    const { config } = await workspace('failing', ['/private.xml', '/broken.xml']);
    const result = await newsbridge(['fetch', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/feed failed: http:\/\/127\.0\.0\.1:\d+\/broken\.xml: not well-formed XML at line \d+/);
    expect(result.stderr).toMatch(/failed http-status: http:\/\/127\.0\.0\.1:\d+\/missing\.html: /);
    expect(result.stderr).toMatch(/robots\.txt: http:\/\/127\.0\.0\.1:\d+\/private\/secret\.html: /);
  });

  it('refuses to start without fetch.contact (exit 1), and does nothing without feeds (exit 0)', async () => {
    const { root, config } = await workspace('no-contact', ['/feed.xml'], []);
    const refused = await newsbridge(['fetch', '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/fetch\.contact is not set/);
    expect(await readdir(root)).toEqual(['pipeline.yaml']);
    const none = await workspace('no-feeds', []);
    await writeFile(none.config, (await readFile(none.config, 'utf8')).replace('  feeds:\n', '  feeds: []\n'));
    const nothing = await newsbridge(['fetch', '--config', none.config]);
    expect(nothing).toMatchObject({ code: 0 });
    expect(nothing.stderr).toMatch(/nothing fetched/);
    expect(await readdir(none.root)).toEqual(['pipeline.yaml']);
  });
});

describe('newsbridge fetch interrupted (SIGINT)', () => {
  it('finishes the request in flight, starts no other, and exits 130 with the report saying so', async () => {
    // A short requestSeconds so the stalled request in flight ends (as `timeout`) soon after the SIGINT.
    const { dir, config } = await workspace(
      'interrupted',
      ['/feed.xml'],
      ['  contact: https://example.test/contact', '  requestSeconds: 2'],
    );
    const stalled = pagePath(30);
    const from = site.requests.length;
    site.stall(stalled);
    const fetching = start(['fetch', '--config', config]);
    while (!site.requests.slice(from).some((request) => request.path === stalled)) await new Promise((resolve) => setTimeout(resolve, 50));
    fetching.child.kill('SIGINT');
    const result = await fetching.done;
    site.release();
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: finishing the requests in flight/);
    expect(result.stderr).toMatch(/fetch: 1 feed \(1 fetched\); \d+ pages: \d+ fetched, 1 failed; interrupted/);
    expect(result.stderr).toMatch(/failed timeout: http:\/\/127\.0\.0\.1:\d+\/news\/30\.html/);
    // Nothing was requested after the stalled page.
    const after = site.requests.slice(from).findIndex((request) => request.path === stalled);
    expect(site.requests.slice(from + after + 1)).toEqual([]);
    const saved = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.html'));
    expect(saved).not.toContain(fileOf(stalled));
  }, 120_000);
});

describe('newsbridge fetch killed mid-fetch (SIGKILL), then run again', () => {
  it('leaves no partial page, and the rerun fetches only what was not complete', async () => {
    const { dir, config } = await workspace('killed', ['/feed.xml']);
    const stalled = pagePath(20);
    const from = site.requests.length;
    const servedBefore = new Map([...site.pages.keys()].map((page) => [page, site.served(page)]));
    site.stall(stalled);
    const fetching = start(['fetch', '--config', config]);
    // Killed once the stalled page is being sent and every page answered before it is on disk, page and sidecar:
    // a state reached whatever the machine's speed, so the rerun's counts below are exact.
    const complete = async () => (await readdir(dir, { recursive: true }).catch(() => [])).filter((file) => file.endsWith('.html')).length;
    for (;;) {
      const answered = site.requests.slice(from).filter((request) => request.path.startsWith('/news/') && request.status === 200);
      if (answered.some((request) => request.path === stalled) && (await complete()) === answered.length - 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    fetching.child.kill('SIGKILL');
    expect((await fetching.done).signal).toBe('SIGKILL');
    site.release();

    const before = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.html'));
    expect(before).not.toContain(fileOf(stalled));
    // Every page on disk is whole: its sidecar speaks for exactly its bytes, and it is the page as served.
    for (const file of before) {
      const saved = await savedPage(path.join(dir, file));
      expect(saved).not.toBeNull();
      expect(await readFile(path.join(dir, file))).toEqual(site.pages.get(new URL(saved!.url).pathname));
    }
    // Besides pages and sidecars, at most the temp file of a write the kill cut short (never an input: see atomic-write.ts).
    const strays = async () =>
      (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile() && !entry.name.endsWith('.html') && !entry.name.endsWith(SIDECAR_SUFFIX))
        .map((entry) => entry.name);
    expect((await strays()).every((name) => name.endsWith('.tmp'))).toBe(true);

    const rerun = await newsbridge(['fetch', '--config', config]);
    expect(rerun).toMatchObject({ code: 0 });
    expect(rerun.stderr).toContain(`50 pages: ${50 - before.length} fetched, ${before.length} not modified`);
    for (const page of site.pages.keys()) {
      // Each page came whole once; the stalled one also came half-way before the kill.
      expect(site.served(page) - servedBefore.get(page)!).toBe(page === stalled ? 2 : 1);
      expect(await readFile(path.join(dir, fileOf(page)))).toEqual(site.pages.get(page));
    }
    expect(await strays()).toEqual([]);
    // Two CLI starts and 70 requests on a shared machine: a ceiling for a stuck test, not a speed goal.
  }, 180_000);
});
