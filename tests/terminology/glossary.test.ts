import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GlossaryError, loadGlossary, parseGlossary } from '../../src/terminology/glossary.js';

describe('parseGlossary', () => {
  it('reads TSV with comments, a header and the ignore-case option', () => {
    const glossary = parseGlossary('# names\nsource\ttarget\nكيشيدا\tKishida\nnsatu\tNSATU\tignore-case\n\n', 'g.tsv');
    expect(glossary.entries).toEqual([
      { source: 'كيشيدا', target: 'Kishida', ignoreCase: false, line: 3 },
      { source: 'nsatu', target: 'NSATU', ignoreCase: true, line: 4 },
    ]);
  });

  it('reads CSV with quoted commas', () => {
    const glossary = parseGlossary('"Hà Nội, Việt Nam",Hanoi\nKishida,Kishida\n', 'g.csv');
    expect(glossary.entries.map((entry) => [entry.source, entry.target, entry.line])).toEqual([
      ['Hà Nội, Việt Nam', 'Hanoi', 1],
      ['Kishida', 'Kishida', 2],
    ]);
  });

  it('names the file and line of a bad row and how to fix it', () => {
    expect(() => parseGlossary('a\tA\nb\n', 'g.tsv')).toThrow('g.tsv:2: a row needs a source term and an English term');
    expect(() => parseGlossary('a\tA\tloud\n', 'g.tsv')).toThrow('g.tsv:1: unknown option "loud"');
    expect(() => parseGlossary('a,A\n"b,B\n', 'g.csv')).toThrow(/^g\.csv:2: .*fix the quoting$/u);
    expect(() => parseGlossary(`${'x'.repeat(1025)}\tX\n`, 'g.tsv')).toThrow(GlossaryError);
  });
});

describe('loadGlossary', () => {
  it('reads a file, and says so when it cannot', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nb-glossary-'));
    try {
      const file = path.join(dir, 'ar.tsv');
      await writeFile(file, 'كيشيدا\tKishida\n');
      expect((await loadGlossary(file)).entries).toHaveLength(1);
      await expect(loadGlossary(path.join(dir, 'none.tsv'))).rejects.toThrow(/none\.tsv: cannot read the glossary \(ENOENT\)/u);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
