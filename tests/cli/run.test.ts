import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runReportSchema } from '../../src/run/report.js';
import { articleOutputSchema, manifestLineSchema } from '../../src/output/schema.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';

const cli = path.resolve('src/cli/index.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `newsbridge <args>` through tsx; `CI` is set so the output is the same on a terminal or not. */
function start(args: string[]): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

const newsbridge = (args: string[]) => start(args).done;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-run-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A workspace with its own pipeline.yaml (cache inside it, the tiny models, no downloads). */
async function workspace(name: string, articles: Record<string, string>): Promise<{ root: string; args: string[] }> {
  const root = path.join(dir, name);
  await mkdir(path.join(root, 'input'), { recursive: true });
  for (const [file, text] of Object.entries(articles)) await writeFile(path.join(root, 'input', file), text);
  const config = path.join(root, 'pipeline.yaml');
  await writeFile(
    config,
    [
      'translation:',
      '  download: false',
      // The tiny models decode to their length limit; a lower one keeps the runs short.
      '  maxNewTokensRatio: 1',
      'cache:',
      `  path: ${JSON.stringify(path.join(root, 'cache.sqlite'))}`,
    ].join('\n'),
  );
  return {
    root,
    args: [
      'run',
      '--config',
      config,
      '--input',
      path.join(root, 'input'),
      '--output',
      path.join(root, 'output'),
      '--models-dir',
      inject('modelsDir'),
    ],
  };
}

const arabic = (n: number) => `${ARABIC_ARTICLE}\nوقال المتحدث إن العدد بلغ ${n} مزارعا في المنطقة.`;
const vietnamese = (n: number) => `${VIETNAMESE_ARTICLE}\nGiá xăng tại trạm số ${n} đã giảm từ chiều nay.`;

describe('newsbridge run', () => {
  it('exits 0 when every article is ok, with outputs, manifest, run report and a one-line summary', async () => {
    const { root, args } = await workspace('ok', { 'a.txt': arabic(1), 'b.txt': vietnamese(1) });
    const result = await newsbridge(args);
    expect(result.stderr).toMatch(
      /^2 articles: 2 ok, 0 partial, 0 failed, 0 skipped in \d+\.\d s \([\d.]+ articles\/s, [\d.]+ sentences translated\/s, \d+ model calls\)\n$/,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    for (const id of ['a', 'b']) {
      const output = articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', `${id}.json`), 'utf8')));
      expect(output.status).toBe('ok');
    }
    const manifest = (await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(manifest.map((line) => manifestLineSchema.parse(JSON.parse(line)).id)).toEqual(['a', 'b']);
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(root, 'output', 'run-report.json'), 'utf8')));
    expect(report.articles).toMatchObject({ total: 2, ok: 2 });
  });

  it('exits 2 when an article fails, and with --jsonl - streams the records to stdout instead of writing files', async () => {
    const { root, args } = await workspace('jsonl', { 'a.txt': vietnamese(2), 'b.txt': '', 'c.txt': arabic(2) });
    const result = await newsbridge([...args, '--jsonl', '-']);
    expect(result.code).toBe(2);
    const records = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => articleOutputSchema.parse(JSON.parse(line)));
    expect(records.map((record) => [record.id, record.status, record.language.lang])).toEqual([
      ['a', 'ok', 'vi'],
      ['c', 'ok', 'ar'],
    ]);
    expect(result.stderr).toContain('3 articles: 2 ok, 0 partial, 1 failed, 0 skipped');
    await expect(stat(path.join(root, 'output'))).rejects.toThrow(/ENOENT/);
  });

  it('exits 1 on a bad pipeline.yaml, naming file:line:col', async () => {
    const config = path.join(dir, 'bad.yaml');
    await writeFile(config, 'run:\n  concurrency: many\n');
    const result = await newsbridge(['run', '--config', config, '--output', path.join(dir, 'never')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`${config}:2:16: run.concurrency is "many" (a string); accepted: integer from 1 to 64`);
    await expect(stat(path.join(dir, 'never'))).rejects.toThrow(/ENOENT/);
  });

  it('documents its options and exit codes in --help', async () => {
    const result = await newsbridge(['run', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--config', '--input', '--output', '--concurrency', '--models-dir', '--force', '--offline', '--jsonl']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(
      /Exit codes: 0 .*; 2 .*; 1 usage,\s+config or output-folder error;\s+130 interrupted \(SIGINT\), 143 terminated \(SIGTERM\), 141 the reader of --jsonl closed it/,
    );
  });

  describe('stopped by a signal', () => {
    /** 40 articles recombined from the short samples: the run is still going when the first output appears. */
    const corpus = () =>
      Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}.txt`, i % 2 ? vietnamese(100 + i) : arabic(100 + i)]),
      );

    async function stopOnFirstOutput(signal: 'SIGTERM' | 'SIGINT') {
      const { root, args } = await workspace(signal, corpus());
      const outputDir = path.join(root, 'output');
      const { child, done } = start(args);
      let exited = false;
      void done.then(() => (exited = true));
      while (!exited) {
        const names = await readdir(outputDir).catch(() => [] as string[]);
        if (names.some((name) => name.endsWith('.json'))) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill(signal);
      const result = await done;
      const report = runReportSchema.parse(JSON.parse(await readFile(path.join(outputDir, 'run-report.json'), 'utf8')));
      const names = await readdir(outputDir);
      return { result, report, names };
    }

    it('SIGTERM: finishes the articles in flight, writes a run report saying interrupted, exits 143, no temp files', async () => {
      const { result, report, names } = await stopOnFirstOutput('SIGTERM');
      expect(result.code).toBe(143);
      expect(result.stderr).toContain('SIGTERM: finishing the articles in flight');
      expect(result.stderr).toMatch(/\(interrupted: \d+ not started\)\n$/);
      expect(report.interrupted).toBe(true);
      expect(report.articles.total).toBe(40);
      expect(report.articles.ok).toBeGreaterThan(0);
      expect(report.articles.notStarted).toBe(40 - report.articles.ok);
      expect(names.filter((name) => name.endsWith('.json') && name !== 'run-report.json')).toHaveLength(report.articles.ok);
      expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });

    it('stops quietly with 141 when the reader of --jsonl - goes away (| head)', async () => {
      const { args } = await workspace('pipe', corpus());
      const { child, done } = start([...args, '--jsonl', '-']);
      child.stdout!.once('data', () => child.stdout!.destroy());
      const result = await done;
      expect(result.stderr).not.toContain('EPIPE');
      expect(result.stderr).toMatch(/^\d+ articles: .*\(interrupted: \d+ not started\)\n$/);
      expect(result.code).toBe(141);
    });

    it('SIGINT: the same, exiting 130', async () => {
      const { result, report, names } = await stopOnFirstOutput('SIGINT');
      expect(result.code).toBe(130);
      expect(report.interrupted).toBe(true);
      expect(report.articles.notStarted).toBeGreaterThan(0);
      expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });
  });
});
