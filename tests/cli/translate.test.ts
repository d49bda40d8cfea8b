import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './cli-run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-translate-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('newsbridge translate', () => {
  it('translates stdin line by line with a model folder given by --model, in fp32', async () => {
    const model = path.join(inject('modelsDir'), 'Xenova', 'opus-mt-vi-en');
    const result = await runCli(
      ['translate', '--from', 'vi', '--model', model, '--dtype', 'fp32', '--models-dir', dir],
      'Thủ tướng Nhật Bản cho biết. Ông muốn tăng cường hợp tác.\nXin chào\n\n',
    );
    expect(result.stderr).not.toContain('newsbridge translate:');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]!.length).toBeGreaterThan(lines[1]!.length);
    expect(lines[1]!.length).toBeGreaterThan(0);
    expect(lines.slice(2)).toEqual(['', '']);
  });

  it('names the model, the folder looked in and the pull command when the model is missing', async () => {
    const result = await runCli(['translate', '--from', 'vi', '--models-dir', dir], 'Xin chào\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `newsbridge translate: model Xenova/opus-mt-vi-en (vi) is unavailable: ${path.join(dir, 'Xenova', 'opus-mt-vi-en')}${path.sep} ` +
        `does not exist (the model is not installed). Fix: run \`newsbridge models pull --only vi --models-dir ${dir}\``,
    );
  });
});
