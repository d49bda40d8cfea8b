import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TranslationMemory, type ModelKey } from '../../src/translation/memory.js';

const cli = path.resolve('src/cli/index.ts');
const arabic: ModelKey = { id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8', fingerprint: 'f'.repeat(64) };
const vietnamese: ModelKey = { ...arabic, id: 'Xenova/opus-mt-vi-en' };

let dir: string;
let cacheFile: string;
let config: string;

async function newsbridge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'newsbridge-cache-cli-'));
  cacheFile = path.join(dir, 'memory', 'tm.sqlite');
  config = path.join(dir, 'nightly.yaml');
  writeFileSync(config, `cache:\n  path: ${JSON.stringify(cacheFile)}\n`);
  const memory = TranslationMemory.open(cacheFile);
  memory.store(arabic, [
    { source: 'أ', target: 'a', flags: [] },
    { source: 'ب', target: 'b', flags: [] },
  ]);
  memory.store(vietnamese, [{ source: 'c', target: 'c', flags: [] }]);
  memory.close();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('newsbridge cache', () => {
  it('prints sentences per model for the cache the config names', async () => {
    const text = await newsbridge('cache', 'stats', '--config', config);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/memory\/tm\.sqlite: 3 sentences/);
    expect(text.stdout).toMatch(/2 {2}Xenova\/opus-mt-ar-en@main q8/);
    const json = await newsbridge('cache', 'stats', '--config', config, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ sentences: 3, models: [{ sentences: 2 }, { sentences: 1 }] });
  });

  it('clears one model, then everything', async () => {
    const one = await newsbridge('cache', 'clear', '--config', config, '--model', 'Xenova/opus-mt-ar-en');
    expect(one.stdout).toMatch(/deleted 2 cached translations of Xenova\/opus-mt-ar-en/);
    const all = await newsbridge('cache', 'clear', '--config', config);
    expect(all.stdout).toMatch(/deleted 1 cached translation from/);
    const memory = TranslationMemory.open(cacheFile);
    expect(memory.stats().sentences).toBe(0);
    memory.close();
  });

  it('names a damaged cache and the fix, and clear removes it', async () => {
    rmSync(`${cacheFile}-wal`, { force: true });
    writeFileSync(cacheFile, 'not a database');
    const stats = await newsbridge('cache', 'stats', '--config', config);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/memory\/tm\.sqlite is damaged.*newsbridge cache clear/);
    const clear = await newsbridge('cache', 'clear', '--config', config);
    expect(clear.code).toBe(0);
    expect(existsSync(cacheFile)).toBe(false);
  });

  it('fails with exit code 1 on a config it cannot read', async () => {
    const result = await newsbridge('cache', 'stats', '--config', path.join(dir, 'missing.yaml'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/missing\.yaml/);
  });
});

describe('newsbridge cache on a file damaged in the middle', () => {
  beforeEach(() => {
    const memory = TranslationMemory.open(cacheFile);
    memory.store(
      arabic,
      Array.from({ length: 3000 }, (_, i) => ({ source: `جملة ${i}`, target: `sentence ${i}`, flags: [] })),
    );
    memory.close();
    const bytes = readFileSync(cacheFile);
    bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 8192);
    writeFileSync(cacheFile, bytes);
  });

  it('stats says it is damaged instead of looking healthy', async () => {
    const stats = await newsbridge('cache', 'stats', '--config', config);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toMatch(/tm\.sqlite is damaged .*integrity check.*newsbridge cache clear/);
  });

  for (const args of [[], ['--model', 'Xenova/opus-mt-ar-en']]) {
    it(`clear ${args.join(' ')} removes it`.trim(), async () => {
      const clear = await newsbridge('cache', 'clear', '--config', config, ...args);
      expect(clear.code).toBe(0);
      expect(clear.stdout).toMatch(/removed the damaged translation memory/);
      expect(existsSync(cacheFile)).toBe(false);
    });
  }
});
