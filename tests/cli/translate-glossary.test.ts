import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from './cli-run.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nb-cli-glossary-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('newsbridge translate --glossary', () => {
  const args = () => ['translate', '--from', 'vi', '--model', path.join(inject('modelsDir'), 'Xenova', 'opus-mt-vi-en'), '--dtype', 'fp32'];

  it('puts the glossary terms into the English', async () => {
    const glossary = path.join(dir, 'vi.tsv');
    await writeFile(glossary, '# names\nNhà Trắng\tWhite House\n');
    const result = await runCli([...args(), '--glossary', glossary], 'Nhà Trắng cho biết.\n');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('White House');
  });

  it('stops with file:line and exit 1 on a bad row', async () => {
    const glossary = path.join(dir, 'bad.tsv');
    await writeFile(glossary, 'Nhà Trắng\tWhite House\nHà Nội\n');
    const result = await runCli([...args(), '--glossary', glossary], 'Nhà Trắng cho biết.\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${glossary}:2: a row needs a source term and an English term`);
  });
});
