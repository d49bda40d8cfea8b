import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliOutput, runCli } from './cli-run.js';

// `newsbridge … | head -1` and `newsbridge … > /dev/full`: the reader goes away, or the disk is full.

let dir: string;
let config: string;
const files: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-output-failure-'));
  config = path.join(dir, 'pipeline.yaml');
  // The tiny models decode to their length limit; a lower one keeps `translate` short.
  await writeFile(
    config,
    `translation:\n  download: false\n  maxNewTokensRatio: 1\ncache:\n  path: ${JSON.stringify(path.join(dir, 'cache.sqlite'))}\n`,
  );
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    files.push(path.join(dir, name));
    await writeFile(files.at(-1)!, `${sentence(0)}\n`.repeat(4000));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function sentence(i: number): string {
  return `Đây là câu số ${i} của bài báo về kinh tế Việt Nam.`;
}

const lines = Array.from({ length: 200 }, (_, i) => sentence(i)).join('\n');
const records = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, text: sentence(i) })).join('\n');

/** Commands that write what they read from stdin: their reader is gone before they get any input. */
const stdinCommands: { name: string; args: () => string[]; input: string }[] = [
  {
    name: 'translate',
    args: () => ['translate', '--from', 'vi', '--models-dir', inject('modelsDir'), '--config', config],
    input: lines.split('\n').slice(0, 4).join('\n'),
  },
  { name: 'detect', args: () => ['detect', '--jsonl'], input: records },
  { name: 'segment', args: () => ['segment', '--lang', 'vi'], input: lines },
  { name: 'summarize', args: () => ['summarize', '--jsonl', '--lang', 'vi'], input: records },
];

async function toDevFull(args: string[], input: string) {
  const fd = openSync('/dev/full', 'w');
  try {
    return await runCli(args, input, { stdoutFd: fd } satisfies CliOutput);
  } finally {
    closeSync(fd);
  }
}

describe('a command whose output closes early or cannot be written', () => {
  for (const command of stdinCommands) {
    it(`${command.name} | head -1: stops quietly with 141, no stack trace`, async () => {
      const result = await runCli(command.args(), command.input, { closeStdout: 'before-input' });
      expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
      expect(result.code).toBe(141);
    });
  }

  it('extract | head -1: stops quietly with 141 after the first lines', async () => {
    // More output (700 KB) than the pipe holds (64 KiB): extract is still writing when its reader goes.
    const result = await runCli(['extract', ...files], '', { closeStdout: 'after-first-chunk' });
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(141);
  });

  const everyCommand = [...stdinCommands, { name: 'extract', args: () => ['extract', ...files], input: '' }];
  for (const command of everyCommand) {
    it(`${command.name} > /dev/full: one line saying the disk is full, exit 1`, async () => {
      const result = await toDevFull(command.args(), command.input);
      const said = result.stderr.split('\n').filter((line) => line.startsWith('newsbridge'));
      expect(said).toEqual([
        `newsbridge ${command.name}: cannot write to stdout: no space left on the device (ENOSPC); free some space or send the output elsewhere`,
      ]);
      expect(result.stderr).not.toMatch(/Unhandled|\n\s+at /);
      expect(result.code).toBe(1);
    });
  }

  it('run --jsonl - > /dev/full: the same one line, and the run stops (exit 1)', async () => {
    const input = path.join(dir, 'articles');
    await mkdir(input);
    for (let i = 0; i < 10; i++) await writeFile(path.join(input, `${i}.txt`), `${sentence(i)}\n`);
    const args = [
      'run',
      '--config',
      config,
      '--input',
      input,
      '--models-dir',
      inject('modelsDir'),
      '--offline',
      '--concurrency',
      '1',
      '--jsonl',
      '-',
    ];
    const result = await toDevFull(args, '');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('newsbridge'))).toEqual([
      'newsbridge run: cannot write to stdout: no space left on the device (ENOSPC); free some space or send the output elsewhere',
    ]);
    expect(result.stderr).toMatch(/\(interrupted: \d+ not started\)\n$/);
    expect(result.code).toBe(1);
  });

  it('extract 2>&1 | head -1: a closed stderr stops it quietly too (141)', async () => {
    const empties = await Promise.all(
      Array.from({ length: 2000 }, async (_, i) => {
        const file = path.join(dir, `empty-${i}.txt`);
        await writeFile(file, '');
        return file;
      }),
    );
    const result = await runStderrClosedEarly(['extract', ...empties]);
    expect(result.code).toBe(141);
  });
});

/** `newsbridge <args> 2>&1 >/dev/null | head -1`: the messages' reader goes after their first chunk. */
async function runStderrClosedEarly(args: string[]): Promise<{ code: number | null }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/cli/index.ts'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.once('data', () => child.stderr.destroy());
    child.on('error', reject);
    child.on('close', (code) => resolve({ code }));
  });
}
