import { describe, expect, it } from 'vitest';
import { assignArticleIds } from '../../src/input/article-ids.js';

const ids = (files: { path: string; inputRoot: string }[]) => assignArticleIds(files, '/work').map((file) => file.id);

describe('assignArticleIds', () => {
  it('keeps the plain ids of one input folder', () => {
    expect(
      ids([
        { path: 'input/news/001.txt', inputRoot: 'input' },
        { path: 'input/002.md', inputRoot: 'input' },
      ]),
    ).toEqual(['news/001', '002']);
  });

  it('gives x.txt in three input folders three ids, relative to the folder they share', () => {
    expect(
      ids([
        { path: 'd1/x.txt', inputRoot: 'd1' },
        { path: 'd2/x.txt', inputRoot: 'd2' },
        { path: 'd3/x.txt', inputRoot: 'd3' },
      ]),
    ).toEqual(['d1/x', 'd2/x', 'd3/x']);
  });

  it('is the same whatever the order of the files', () => {
    const files = [
      { path: 'feeds/a/x.txt', inputRoot: 'feeds/a' },
      { path: 'feeds/b/x.md', inputRoot: 'feeds/b' },
      { path: 'feeds/b/x.txt', inputRoot: 'feeds/b' },
      { path: 'feeds/a/X.txt', inputRoot: 'feeds/a' },
    ];
    const forward = assignArticleIds(files, '/work').map((file) => [file.path, file.id] as const);
    const backward = assignArticleIds([...files].reverse(), '/work').map((file) => [file.path, file.id] as const);
    expect(new Map(backward)).toEqual(new Map(forward));
    expect(new Set(forward.map(([, id]) => id.toLowerCase())).size).toBe(files.length);
    expect(new Map(forward).get('feeds/b/x.md')).toBe('b/x.md');
  });

  it('never gives an id the run writes for itself, in any case', () => {
    expect(
      ids([
        { path: 'input/run-report.txt', inputRoot: 'input' },
        { path: 'input/Manifest.txt', inputRoot: 'input' },
        { path: 'input/index.md', inputRoot: 'input' },
        { path: 'input/news/index.txt', inputRoot: 'input' },
      ]),
    ).toEqual(['run-report.txt', 'Manifest.txt', 'index.md', 'news/index']);
  });

  it('keeps extensions until no two ids clash (a.txt, a.txt.md)', () => {
    expect(
      ids([
        { path: 'input/a.txt', inputRoot: 'input' },
        { path: 'input/a.md', inputRoot: 'input' },
        { path: 'input/a.txt.md', inputRoot: 'input' },
      ]),
    ).toEqual(['a.txt', 'a.md', 'a.txt.md']);
  });
});
