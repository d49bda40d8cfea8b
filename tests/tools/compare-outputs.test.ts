import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareOutputs, listFiles, withoutTimings } from '../../tools/compare-outputs.js';

let root: string;
let expected: string;
let actual: string;

const article = (target: string, readMs: number) =>
  `${JSON.stringify({ id: 'news/a', paragraphs: [{ sentences: [{ source: 'x', target }] }], timings: { read: readMs } }, null, 2)}\n`;
const manifest = (...ids: string[]) => ids.map((id) => `${JSON.stringify({ id, status: 'ok' })}\n`).join('');

function write(dir: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'newsbridge-compare-'));
  expected = path.join(root, 'expected');
  actual = path.join(root, 'actual');
  write(expected, {
    'news/a.json': article('hello', 1.5),
    'news/a.md': '# a\n\nhello\n',
    'b.md': '# b\n',
    'manifest.jsonl': manifest('news/a', 'b'),
    'run-report.json': '{"articles":{"ok":2}}',
    'index.html': '<p>2 ok, run finished 02:00</p>\n',
  });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('compareOutputs', () => {
  it('accepts outputs that differ only in timings, manifest order, the run report and the digest', () => {
    write(actual, {
      'news/a.json': article('hello', 99),
      'news/a.md': '# a\n\nhello\n',
      'b.md': '# b\n',
      'manifest.jsonl': manifest('b', 'news/a'),
      'run-report.json': '{"articles":{"skipped":2}}',
      'index.html': '<p>2 skipped, run finished 02:05</p>\n',
    });
    expect(compareOutputs(expected, actual)).toEqual([]);
  });

  it('accepts manifest lines of articles a resumed run skipped as up to date', () => {
    write(actual, {
      'news/a.json': article('hello', 1.5),
      'news/a.md': '# a\n\nhello\n',
      'b.md': '# b\n',
      'manifest.jsonl': `${JSON.stringify({ id: 'news/a', status: 'skipped', reason: 'up-to-date', output: { status: 'ok' } })}\n${manifest('b')}`,
    });
    expect(compareOutputs(expected, actual)).toEqual([]);
  });

  it('finds a skipped line whose kept outputs have another status than the reference', () => {
    write(actual, {
      'news/a.json': article('hello', 1.5),
      'news/a.md': '# a\n\nhello\n',
      'b.md': '# b\n',
      'manifest.jsonl': `${JSON.stringify({ id: 'news/a', status: 'skipped', reason: 'up-to-date', output: { status: 'partial', reason: 'model-unavailable' } })}\n${manifest('b')}`,
    });
    expect(compareOutputs(expected, actual)).toEqual([
      {
        file: 'manifest.jsonl',
        problem: expect.stringMatching(
          /article news\/a differs at output \(skipped over .*partial.*, the outputs are ok\)/,
        ) as unknown as string,
      },
    ]);
  });

  it('finds changed, truncated, missing, duplicated and stray files', () => {
    write(actual, {
      'news/a.json': article('hello', 1.5).slice(0, 30),
      'news/.a.md.1234.0badf00d.tmp': '# a',
      'b.md': '# b changed\n',
      'manifest.jsonl': manifest('news/a', 'b', 'b'),
    });
    const problems = Object.fromEntries(compareOutputs(expected, actual).map((d) => [d.file, d.problem]));
    expect(problems['news/a.json']).toMatch(/not valid JSON/);
    expect(problems['news/.a.md.1234.0badf00d.tmp']).toMatch(/temporary or stray/);
    expect(problems['news/a.md']).toBe('missing');
    expect(problems['b.md']).toBe('differs from line 1');
    expect(problems['manifest.jsonl']).toMatch(/b is listed more than once/);
  });

  it('names the JSON path where an article differs', () => {
    write(actual, {
      'news/a.json': article('goodbye', 1.5),
      'news/a.md': '# a\n\nhello\n',
      'b.md': '# b\n',
      'manifest.jsonl': manifest('news/a'),
    });
    const problems = Object.fromEntries(compareOutputs(expected, actual).map((d) => [d.file, d.problem]));
    expect(problems['news/a.json']).toBe('differs at paragraphs[0].sentences[0].target');
    expect(problems['manifest.jsonl']).toBe('articles missing: b');
  });
  it('accepts missing outputs of an interrupted run, but not broken ones', () => {
    write(actual, { 'b.md': '# b\n', 'manifest.jsonl': manifest('b') });
    expect(compareOutputs(expected, actual, { allowMissing: true })).toEqual([]);
    write(actual, { 'news/a.json': article('hello', 1.5).slice(0, 30) });
    expect(compareOutputs(expected, actual, { allowMissing: true }).map((d) => d.file)).toEqual(['news/a.json']);
  });
});

describe('withoutTimings', () => {
  it('drops timing fields at any depth and keeps the rest', () => {
    expect(withoutTimings({ a: 1, timings: { read: 2 }, inner: [{ durationMs: 3, b: 4 }] })).toEqual({ a: 1, inner: [{ b: 4 }] });
  });
});

describe('listFiles', () => {
  it('lists nested files without the lock holder, and nothing for a folder that does not exist', () => {
    write(actual, { 'news/a.json': '{}', '.newsbridge-run.lock/holder.json': '{}' });
    expect(listFiles(actual).filter((file) => !file.startsWith('.newsbridge-run.lock'))).toEqual(['news/a.json']);
    expect(listFiles(path.join(root, 'missing'))).toEqual([]);
  });

  it('skips a folder that vanishes while the listing walks (a live run releasing its lock)', async () => {
    write(actual, { 'news/a.json': '{}' });
    const churn = path.join(actual, 'churn');
    // Another process creates and removes folders as fast as it can while this one lists.
    const child = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs'); const d = ${JSON.stringify(churn)}; for (;;) { fs.mkdirSync(d + '/x/y', { recursive: true }); fs.writeFileSync(d + '/x/y/f', ''); fs.rmSync(d, { recursive: true, force: true }); }`,
    ]);
    try {
      for (let i = 0; i < 3000; i += 1) expect(listFiles(actual)).toContain('news/a.json');
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
