import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { printable } from '../../src/cli/printable.js';
import { runCli } from './cli-run.js';

/** What a terminal may act on: C0 controls but tab and newline, DEL, C1 controls. */
function hasRawControl(text: string): boolean {
  return [...text].some((char) => {
    const code = char.codePointAt(0)!;
    return (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
  });
}

// Set the terminal's title, clear the screen, and the same through C1's one-byte CSI.
const TITLE = '\u001b]0;pwned\u0007';
const CLEAR = '\u001b[2J';
const C1_CSI = '\u009b2J';

describe('printable', () => {
  it('writes every control character as its JSON escape, and nothing else', () => {
    expect(printable(`a${TITLE}b${CLEAR}c${C1_CSI}\r\u007f`)).toBe('a\\u001b]0;pwned\\u0007b\\u001b[2Jc\\u009b2J\\u000d\\u007f');
    expect(printable('خبر عاجل — Thủ tướng\u00a0é')).toBe('خبر عاجل — Thủ tướng\u00a0é');
  });

  it('keeps the layout of a message (tab, newline) unless it must keep to one line', () => {
    expect(printable('one\ttwo\nthree')).toBe('one\ttwo\nthree');
    expect(printable('one\ttwo\nthree', { oneLine: true })).toBe('one\\u0009two\\u000athree');
  });

  it('leaves a JSON line the same JSON', () => {
    const line = JSON.stringify({ path: `x${C1_CSI}\u007f${TITLE}.txt` });
    expect(hasRawControl(printable(line))).toBe(false);
    expect(JSON.parse(printable(line))).toEqual(JSON.parse(line));
  });
});

describe('file names with terminal control sequences reach the terminal escaped', () => {
  let dir: string;
  let empty: string;
  let article: string;
  let newline: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-printable-'));
    await mkdir(path.join(dir, 'input'));
    empty = path.join(dir, 'input', `empty${TITLE}${CLEAR}.txt`);
    article = path.join(dir, 'input', `news${C1_CSI}${CLEAR}.txt`);
    newline = path.join(dir, 'input', 'two\nlines.txt');
    await writeFile(empty, '');
    await writeFile(article, 'Thủ tướng Nhật Bản cho biết ông muốn tăng cường hợp tác với Việt Nam.\n');
    await writeFile(newline, 'Thủ tướng Nhật Bản cho biết ông muốn tăng cường hợp tác với Việt Nam.\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('extract: the message about a file and the header of each file', async () => {
    const result = await runCli(['extract', empty, article, newline]);
    expect(result.code).toBe(2);
    expect(hasRawControl(result.stdout + result.stderr)).toBe(false);
    expect(result.stderr).toContain(`${path.join(dir, 'input')}/empty\\u001b]0;pwned\\u0007\\u001b[2J.txt: the article is empty`);
    expect(result.stdout).toContain(`==> ${path.join(dir, 'input')}/news\\u009b2J\\u001b[2J.txt <==\n`);
    expect(result.stdout).toContain(`==> ${path.join(dir, 'input')}/two\\u000alines.txt <==\n`);
  });

  it('extract --jsonl: the records are the same JSON, with no raw control byte', async () => {
    const result = await runCli(['extract', '--jsonl', article]);
    expect(result.code).toBe(0);
    expect(hasRawControl(result.stdout)).toBe(false);
    expect((JSON.parse(result.stdout) as { id: string }).id).toBe(`news${C1_CSI}${CLEAR}`);
  });

  it('run --verbose: log lines and the summary', async () => {
    const config = path.join(dir, 'pipeline.yaml');
    await writeFile(
      config,
      `translation:\n  download: false\n  maxNewTokensRatio: 1\ncache:\n  path: ${JSON.stringify(path.join(dir, 'cache.sqlite'))}\n`,
    );
    const result = await runCli([
      'run',
      '--config',
      config,
      '--input',
      path.join(dir, 'input'),
      '--output',
      path.join(dir, 'output'),
      '--models-dir',
      inject('modelsDir'),
      '--offline',
      '--verbose',
    ]);
    expect(result.stderr).toContain('empty\\u001b]0;pwned\\u0007');
    expect(result.stderr).toContain('news\\u009b2J');
    expect(hasRawControl(result.stdout + result.stderr)).toBe(false);
  });

  it('run: a problem naming the input patterns', async () => {
    const result = await runCli(['run', '--input', path.join(dir, `none${CLEAR}`), '--output', path.join(dir, 'none-out'), '--offline']);
    expect(result.stderr).toContain(`newsbridge: no articles match input.patterns (${path.join(dir, 'none\\u001b[2J')}`);
    expect(hasRawControl(result.stdout + result.stderr)).toBe(false);
  });
});
