import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listArticleFiles } from '../../src/input/list-files.js';
import { OutputDirError } from '../../src/run/output-lock.js';

/** A folder with these files (paths relative to it, folders made as needed). */
async function folderWith(files: readonly string[]): Promise<string> {
  const cwd = await mkdtemp(join(tmpdir(), 'newsbridge-list-files-'));
  for (const file of files) {
    await mkdir(join(cwd, file, '..'), { recursive: true });
    await writeFile(join(cwd, file), 'text');
  }
  return cwd;
}

const paths = (listing: { files: { path: string }[] }) => listing.files.map((file) => file.path);

describe('listArticleFiles: names fast-glob missed', () => {
  it('lists files in folders whose names hold a line break, a carriage return or start with one', async () => {
    const cwd = await folderWith([
      'input/a\nb/x.txt',
      'input/\nlead/y.txt',
      'input/c\rd/z.txt',
      'input/line\nbreak.txt',
      'input/plain.txt',
    ]);
    const listing = await listArticleFiles(['input/**/*.txt'], { cwd });
    expect(paths(listing)).toEqual([
      'input/\nlead/y.txt',
      'input/a\nb/x.txt',
      'input/c\rd/z.txt',
      'input/line\nbreak.txt',
      'input/plain.txt',
    ]);
    expect(listing.notListed).toEqual({ hidden: 0, inOutput: 0 });
  });

  it('takes patterns written with ./ and escaped glob characters as before', async () => {
    const cwd = await folderWith(['input/x(1)/a.txt', 'input/b.txt']);
    expect(paths(await listArticleFiles(['./input/**/*.txt'], { cwd }))).toEqual(['./input/b.txt', './input/x(1)/a.txt']);
    expect(paths(await listArticleFiles(['input/x\\(1\\)/*.txt'], { cwd }))).toEqual(['input/x(1)/a.txt']);
  });
});

describe('listArticleFiles: hidden files are left out and counted', () => {
  it('counts hidden files and files in hidden folders that the patterns would match, and lists those a pattern names', async () => {
    const cwd = await folderWith(['input/.hidden.txt', 'input/.hd/x.txt', 'input/._mac.txt', 'input/.hd/notes.pdf', 'input/seen.txt']);
    const listing = await listArticleFiles(['input/**/*.txt'], { cwd });
    expect(paths(listing)).toEqual(['input/seen.txt']);
    expect(listing.notListed).toEqual({ hidden: 3, inOutput: 0 });

    const named = await listArticleFiles(['input/**/*.txt', 'input/.hd/*.txt'], { cwd });
    expect(paths(named)).toEqual(['input/.hd/x.txt', 'input/seen.txt']);
    expect(named.notListed.hidden).toBe(2);
  });

  it('does not count what a ! pattern excludes', async () => {
    const cwd = await folderWith(['input/drafts/.wip.txt', 'input/a.txt']);
    expect((await listArticleFiles(['input/**/*.txt', '!input/drafts/**'], { cwd })).notListed.hidden).toBe(0);
  });
});

describe('listArticleFiles: the output folder is never input', () => {
  it('leaves out an output folder inside the input folder, and counts what it holds', async () => {
    const cwd = await folderWith(['input/a.txt', 'input/out/a.md', 'input/out/a.html', 'input/out/index.html', 'input/out/deeper/b.md']);
    const listing = await listArticleFiles(['input/**/*.{txt,md,html}'], { cwd, outputDir: 'input/out' });
    expect(paths(listing)).toEqual(['input/a.txt']);
    expect(listing.notListed).toEqual({ hidden: 0, inOutput: 4 });
    // The same folder named another way (absolute, with a trailing slash) is the same folder.
    expect(paths(await listArticleFiles(['**/*.md'], { cwd, outputDir: `${join(cwd, 'input', 'out')}/` }))).toEqual([]);
  });

  it('refuses an output folder that is an input folder, naming both and the fix', async () => {
    const cwd = await folderWith(['feed/a.txt', 'feed/a.md']);
    const refused = await listArticleFiles(['feed/**/*.{txt,md}'], { cwd, outputDir: 'feed' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OutputDirError);
    expect((refused as Error).message).toMatch(
      /^output folder feed is where the input pattern feed\/\*\*\/\*\.\{txt,md\} reads articles from: .* --output/,
    );
  });

  it('lists an input folder inside the output folder (--output . with input/ below it)', async () => {
    const cwd = await folderWith(['input/a.txt', 'a.md']);
    expect(paths(await listArticleFiles(['input/**/*.{txt,md}'], { cwd, outputDir: '.' }))).toEqual(['input/a.txt']);
  });
});
