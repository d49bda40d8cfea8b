import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTempFiles, tempFileName, writeFileAtomic } from '../../src/output/atomic-write.js';
import { OutputError } from '../../src/errors.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'newsbridge-atomic-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** A file name of exactly `bytes` UTF-8 bytes ending in `.json`, of `char` repeated (1 or 2 bytes each). */
function nameOfBytes(bytes: number, char: 'a' | 'خ'): string {
  const name = `${char.repeat(Math.floor((bytes - 5) / Buffer.byteLength(char)))}.json`;
  const padded = Buffer.byteLength(name) < bytes ? `x${name}` : name;
  expect(Buffer.byteLength(padded)).toBe(bytes);
  return padded;
}

describe('writeFileAtomic: a name that fits gets a temp name that fits', () => {
  // NAME_MAX (255) counts bytes: an Arabic letter is 2 of them.
  const cases = [
    { label: '240 bytes, ASCII', name: nameOfBytes(240, 'a') },
    { label: '255 bytes, ASCII', name: nameOfBytes(255, 'a') },
    { label: '240 bytes, Arabic', name: nameOfBytes(240, 'خ') },
    { label: '255 bytes, Arabic', name: nameOfBytes(255, 'خ') },
  ];
  for (const { label, name } of cases) {
    it(`writes a file named with ${label}, leaving no temp file`, async () => {
      const folder = await mkdtemp(join(directory, 'fits-'));
      await writeFileAtomic(join(folder, name), 'first');
      await writeFileAtomic(join(folder, name), 'second');
      expect(await readFile(join(folder, name), 'utf8')).toBe('second');
      expect(await readdir(folder)).toEqual([name]);
    });
  }

  it('cuts an Arabic name at a character boundary, and the temp name stays within 255 bytes', () => {
    const name = nameOfBytes(255, 'خ');
    const temp = tempFileName(name);
    expect(Buffer.byteLength(temp)).toBeLessThanOrEqual(255);
    expect(temp).not.toContain('\uFFFD');
    expect(Buffer.from(temp).toString('utf8')).toBe(temp);
    expect(temp.startsWith(`.${name.slice(0, 100)}`)).toBe(true);
  });

  it('gives two names that share a long start two different temp names', () => {
    const long = 'a'.repeat(250);
    expect(tempFileName(`${long}.md`)).not.toBe(tempFileName(`${long}.md`));
    expect(tempFileName(`${long}.md`).slice(0, 200)).toBe(tempFileName(`${long}.html`).slice(0, 200));
  });

  it('keeps a short name whole', () => {
    expect(tempFileName('001.json')).toMatch(/^\.001\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
  });

  it('still fails a name that does not fit, as an output error naming it', async () => {
    const target = join(directory, nameOfBytes(256, 'a'));
    const error = await writeFileAtomic(target, 'x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).code).toBe('ENAMETOOLONG');
  });

  it('removeStaleTempFiles recognises a shortened temp name a killed run left', async () => {
    const folder = await mkdtemp(join(directory, 'stale-'));
    const stale = join(folder, tempFileName(nameOfBytes(255, 'خ')));
    await writeFile(stale, 'half');
    expect(await removeStaleTempFiles(folder)).toEqual([stale]);
    expect(await readdir(folder)).toEqual([]);
  });
});
