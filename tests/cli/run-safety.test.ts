import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFiles } from '../../src/models/layout.js';
import { lockOutputDir } from '../../src/run/output-lock.js';
import { plausibleModelFile, startHub } from '../helpers/hub.js';
import { ARABIC_ARTICLE, yamlAliasBomb } from '../helpers/bad-inputs.js';
import { runCli } from './cli-run.js';

/** `newsbridge run` facing hostile configs and paths: a clear message and exit 1, never a stack trace. */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-cli-safety-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('setup errors', () => {
  it('a YAML alias bomb in the config: a positioned message, exit 1', async () => {
    const config = path.join(scratch, 'bomb.yaml');
    await writeFile(config, `${yamlAliasBomb()}\n`);
    for (const command of [['run', '--offline'], ['validate']]) {
      const result = await runCli([...command, '--config', config]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/bomb\.yaml:2:\d+: YAML aliases expand to too much data/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('an --output name longer than the file system allows: a clear message, exit 1', async () => {
    const input = path.join(scratch, 'long-input');
    await mkdir(input, { recursive: true });
    await writeFile(path.join(input, 'a.txt'), ARABIC_ARTICLE);
    const result = await runCli(['run', '--offline', '--no-cache', '--input', input, '--output', path.join(scratch, 'o'.repeat(300))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/output folder .*o{300} cannot be created: its name is too long .*choose a shorter --output/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('input names of 240 bytes (ASCII, Arabic): their outputs are written, never output-error', async () => {
    const input = path.join(scratch, 'long-names');
    const output = path.join(scratch, 'long-names-out');
    await mkdir(input, { recursive: true });
    const stems = ['a'.repeat(236), 'خ'.repeat(118)];
    for (const stem of stems) await writeFile(path.join(input, `${stem}.txt`), ARABIC_ARTICLE);
    const result = await runCli([
      'run',
      '--offline',
      '--no-cache',
      '--models-dir',
      path.join(scratch, 'no-models'),
      '--input',
      input,
      '--output',
      output,
    ]);
    const manifest = (await readFile(path.join(output, 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; reason?: string });
    expect(manifest.map((line) => [line.id, line.reason])).toEqual(stems.map((stem) => [stem, 'model-unavailable']));
    for (const stem of stems) expect((await stat(path.join(output, `${stem}.json`))).isFile()).toBe(true);
    expect(result.code).toBe(2);
  });

  it('an output folder another run holds: the holder named, exit 1, the folder untouched', async () => {
    const input = path.join(scratch, 'locked-input');
    const output = path.join(scratch, 'locked-output');
    await mkdir(input, { recursive: true });
    await writeFile(path.join(input, 'a.txt'), ARABIC_ARTICLE);
    await mkdir(output, { recursive: true });
    await writeFile(path.join(output, 'manifest.jsonl'), '{"previous":"run"}\n');
    const lock = await lockOutputDir(output);
    try {
      const result = await runCli(['run', '--offline', '--no-cache', '--input', input, '--output', output]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `newsbridge run: output folder ${output} is in use by newsbridge run ${process.pid} on ${hostname()}`,
      );
    } finally {
      await lock?.release();
    }
    expect(await readFile(path.join(output, 'manifest.jsonl'), 'utf8')).toBe('{"previous":"run"}\n');
  });
});

describe('exit codes follow the outputs', () => {
  it('a rerun that skips model-unavailable outputs exits 2, and its manifest keeps their status', async () => {
    const input = path.join(scratch, 'no-models-input');
    const output = path.join(scratch, 'no-models-output');
    await mkdir(input, { recursive: true });
    await writeFile(path.join(input, 'a.txt'), ARABIC_ARTICLE);
    const args = ['run', '--offline', '--no-cache', '--input', input, '--output', output, '--models-dir', path.join(scratch, 'no-models')];
    const first = await runCli(args);
    expect(first.code).toBe(2);
    const second = await runCli(args);
    expect(second.stderr).toMatch(/0 ok, 0 partial, 0 failed, 1 skipped; 1 skipped article still partial from an earlier run/);
    expect(second.code).toBe(2);
    const [line] = (await readFile(path.join(output, 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(line).toMatchObject({
      id: 'a',
      status: 'skipped',
      reason: 'up-to-date',
      output: { status: 'partial', reason: 'model-unavailable' },
    });
    const report = JSON.parse(await readFile(path.join(output, 'run-report.json'), 'utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({ articles: { skipped: 1 }, outputs: { ok: 0, partial: 1, failed: 0 } });
  });
});

describe('a mirror that sends one byte at a time', () => {
  const id = 'Xenova/opus-mt-ar-en';
  const encoder = 'onnx/encoder_model_quantized.onnx';

  /** Starts newsbridge, sends `signal` once the encoder's partial download exists, and resolves with the exit code. */
  async function stopWhileDownloading(
    args: string[],
    modelsDir: string,
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/cli/index.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const part = path.join(modelsDir, id, `${encoder}.part`);
    while (
      !(await stat(part).then(
        (info) => info.size > 0,
        () => false,
      ))
    )
      await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill(signal);
    return { code: await closed, stderr };
  }

  it('models pull stops on SIGTERM (143) and on SIGINT (130), keeping the partial file', async () => {
    const files = new Map(modelFiles('q8').map((file) => [`/${id}/resolve/main/${file}`, plausibleModelFile(file, 4096)]));
    const hub = await startHub(files);
    hub.trickle(`/${id}/resolve/main/${encoder}`, 100);
    try {
      for (const [signal, code] of [
        ['SIGTERM', 143],
        ['SIGINT', 130],
      ] as const) {
        const modelsDir = path.join(scratch, `pull-${signal}`);
        const result = await stopWhileDownloading(
          ['models', 'pull', '--only', 'ar', '--mirror', hub.url, '--models-dir', modelsDir],
          modelsDir,
          signal,
        );
        expect(result.code).toBe(code);
        expect(result.stderr).toMatch(/was stopped after \d+ bytes; run the pull again to resume/);
      }
    } finally {
      await hub.close();
    }
  });

  it('run stops on SIGTERM while it downloads a model (143), with nothing processed', async () => {
    const files = new Map(modelFiles('q8').map((file) => [`/${id}/resolve/main/${file}`, plausibleModelFile(file, 4096)]));
    const hub = await startHub(files);
    hub.trickle(`/${id}/resolve/main/${encoder}`, 100);
    try {
      const root = path.join(scratch, 'run-download');
      const modelsDir = path.join(root, 'models');
      await mkdir(path.join(root, 'input'), { recursive: true });
      await writeFile(path.join(root, 'input', 'a.txt'), ARABIC_ARTICLE);
      const config = path.join(root, 'pipeline.yaml');
      await writeFile(config, `translation:\n  mirror: ${hub.url}\n  models:\n    ar: { id: ${id} }\n`);
      const args = [
        'run',
        '--config',
        config,
        '--no-cache',
        '--input',
        path.join(root, 'input'),
        '--output',
        path.join(root, 'output'),
        '--models-dir',
        modelsDir,
      ];
      const result = await stopWhileDownloading(args, modelsDir, 'SIGTERM');
      expect(result.code).toBe(143);
      expect(result.stderr).toMatch(/interrupted: 1 not started/);
    } finally {
      await hub.close();
    }
  });
});
