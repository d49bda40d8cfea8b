import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { articleId } from '../../src/input/article-ids.js';
import { decodeArticle, normalizeText } from '../../src/input/read.js';
import { listArticleFiles } from '../../src/input/list-files.js';
import { readArticleFile, realInputRoots, stillHolds } from '../../src/input/read-file.js';
import { defaultConfig } from '../../src/config/config.js';
import { ARABIC_ARTICLE, HUGE_BYTES, VIETNAMESE_ARTICLE, writeBadInputs } from '../helpers/bad-inputs.js';
import { InputError } from '../../src/errors.js';

const ARABIC_LINE = 'قال رئيس الوزراء الياباني، الجمعة، إنه يريد تعزيز التعاون العسكري.';
const VIETNAMESE_LINE = 'Tận dụng tối đa hợp tác công nghiệp quốc phòng Nhật-Mỹ.';

/**
 * Vietnamese as windows-1258 holds it: the code page has â, ê, ô, ơ, ư, ă, đ but no toned vowels, so
 * tones are separate combining marks after the letter (ậ = â + dot below).
 */
function windows1258Bytes(text: string): Buffer {
  const TONES = /[\u0300\u0301\u0303\u0309\u0323]/gu;
  const decomposed = Array.from(text.normalize('NFC'), (character) => {
    const parts = character.normalize('NFD');
    return parts.replace(TONES, '').normalize('NFC') + (parts.match(TONES)?.join('') ?? '');
  }).join('');
  const bytes = iconv.encode(decomposed, 'windows-1258');
  expect(iconv.decode(bytes, 'windows-1258').normalize('NFC')).toBe(text.normalize('NFC'));
  return bytes;
}

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('decodeArticle: encodings', () => {
  const cases: { name: string; bytes: Buffer; text: string; encoding: string }[] = [
    { name: 'UTF-8 Arabic', bytes: Buffer.from(ARABIC_ARTICLE), text: ARABIC_ARTICLE, encoding: 'utf-8' },
    {
      name: 'UTF-8 with a BOM',
      bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(VIETNAMESE_ARTICLE)]),
      text: VIETNAMESE_ARTICLE,
      encoding: 'utf-8',
    },
    {
      name: 'UTF-16 LE with a BOM',
      bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ARABIC_ARTICLE, 'utf16le')]),
      text: ARABIC_ARTICLE,
      encoding: 'utf-16le',
    },
    {
      name: 'UTF-16 BE with a BOM',
      bytes: utf16be(`\ufeff${VIETNAMESE_ARTICLE}`),
      text: VIETNAMESE_ARTICLE,
      encoding: 'utf-16be',
    },
    { name: 'UTF-16 LE Arabic without a BOM', bytes: Buffer.from(ARABIC_LINE, 'utf16le'), text: ARABIC_LINE, encoding: 'utf-16le' },
    { name: 'UTF-16 BE Arabic without a BOM', bytes: utf16be(ARABIC_ARTICLE), text: ARABIC_ARTICLE, encoding: 'utf-16be' },
    {
      name: 'UTF-16 LE Vietnamese without a BOM',
      bytes: Buffer.from(VIETNAMESE_ARTICLE, 'utf16le'),
      text: VIETNAMESE_ARTICLE,
      encoding: 'utf-16le',
    },
    {
      name: 'windows-1256 Arabic article',
      bytes: iconv.encode(ARABIC_ARTICLE, 'windows-1256'),
      text: ARABIC_ARTICLE,
      encoding: 'windows-1256',
    },
    {
      name: 'windows-1256 Arabic, one line',
      bytes: iconv.encode(ARABIC_LINE, 'windows-1256'),
      text: ARABIC_LINE,
      encoding: 'windows-1256',
    },
    {
      name: 'windows-1256 Arabic with English words',
      bytes: iconv.encode(`TOKYO (AP) – ${ARABIC_LINE}`, 'windows-1256'),
      text: `TOKYO (AP) – ${ARABIC_LINE}`,
      encoding: 'windows-1256',
    },
    {
      name: 'windows-1258 Vietnamese article',
      bytes: windows1258Bytes(VIETNAMESE_ARTICLE),
      text: VIETNAMESE_ARTICLE,
      encoding: 'windows-1258',
    },
    {
      name: 'windows-1258 Vietnamese, one line',
      bytes: windows1258Bytes(VIETNAMESE_LINE),
      text: VIETNAMESE_LINE,
      encoding: 'windows-1258',
    },
  ];

  for (const { name, bytes, text, encoding } of cases) {
    it(`decodes ${name}`, () => {
      const article = decodeArticle(bytes, 'input/a.txt', 'a');
      expect(article.source.encoding).toBe(encoding);
      expect(article.text).toBe(text.normalize('NFC'));
      expect(article.warnings).toEqual([]);
    });
  }

  it('records the size and sha256 of the original bytes, BOM included', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ARABIC_LINE)]);
    const article = decodeArticle(bytes, 'input/news/1.txt', 'news/1');
    expect(article.id).toBe('news/1');
    expect(article.source).toEqual({
      path: 'input/news/1.txt',
      bytes: bytes.length,
      encoding: 'utf-8',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(article.text.startsWith('\ufeff')).toBe(false);
  });

  it('replaces invalid UTF-8 that no legacy code page explains, and warns', () => {
    const bytes = Buffer.concat([
      Buffer.from('Giá xăng giảm\n'),
      Buffer.from([0x80, 0x20, 0xe1, 0xba, 0x20, 0xff]),
      Buffer.from('\nĐây là lần thứ ba.'),
    ]);
    const article = decodeArticle(bytes, 'input/bad.txt', 'bad');
    expect(article.source.encoding).toBe('utf-8');
    expect(article.text).toBe('Giá xăng giảm\n\ufffd \ufffd \ufffd\nĐây là lần thứ ba.');
    expect(article.warnings).toEqual([
      {
        reason: 'invalid-utf8',
        message: expect.stringMatching(/^input\/bad\.txt: not valid UTF-8 .*re-save the file as UTF-8$/) as unknown as string,
      },
    ]);
  });
});

describe('decodeArticle: bad input', () => {
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

  it('replaces an unpaired surrogate in UTF-16 with a BOM, and warns', () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('نص عربي ', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from(' تمام', 'utf16le'),
    ]);
    const article = decodeArticle(utf16, 'u.txt', 'u');
    expect(article.source.encoding).toBe('utf-16le');
    expect(article.text).toBe('نص عربي \ufffd تمام');
    expect(article.warnings.map((warning) => warning.reason)).toEqual(['invalid-utf16']);
  });

  it('refuses binary data that happens to start with a UTF-16 byte order mark', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), png]);
    expect(inputError(() => decodeArticle(bytes, 'x.bin.txt', 'x')).reason).toBe('binary');
  });

  it('refuses a PNG renamed .txt as binary, naming the file and the fix', () => {
    const error = inputError(() => decodeArticle(png, 'input/photo.txt', 'photo'));
    expect(error.reason).toBe('binary');
    expect(error.path).toBe('input/photo.txt');
    expect(error.message).toMatch(/^input\/photo\.txt: this is a binary file.*remove it from the input or narrow input\.patterns$/);
  });

  it('refuses bytes with no NUL that decode to control characters in every encoding', () => {
    const noise = Buffer.from(Array.from({ length: 2048 }, (_, index) => 1 + ((index * 7919) % 255)));
    expect(inputError(() => decodeArticle(noise, 'input/noise.txt', 'noise')).reason).toBe('binary');
  });

  it('refuses empty and whitespace-only articles', () => {
    expect(inputError(() => decodeArticle(Buffer.alloc(0), 'e.txt', 'e')).message).toBe(
      'e.txt: the article is empty (no bytes); remove the file or give it text',
    );
    const blank = Buffer.from(' \t\r\n\u00a0\u200b\u200f\n');
    expect(inputError(() => decodeArticle(blank, 'w.txt', 'w')).reason).toBe('empty');
    expect(inputError(() => decodeArticle(Buffer.from([0xff, 0xfe, 0x20, 0x00]), 'u.txt', 'u')).reason).toBe('empty');
  });
});

describe('normalizeText', () => {
  it('composes to NFC', () => {
    expect(normalizeText('Vie\u0302\u0323t Nam')).toBe('Việt Nam');
    expect(normalizeText('\u0627\u0653')).toBe('\u0622');
  });

  it('unifies line endings to \\n', () => {
    expect(normalizeText('a\r\nb\rc\u2028d\u0085e\ff')).toBe('a\nb\nc\nd\ne\nf');
  });

  it('drops zero-width and control characters but keeps tabs, direction marks, ZWNJ and ZWJ', () => {
    const text = 'a\u200bb\u00adc\ufeffd\u0007e\u0090f\u2060g\tRLM\u200f LRM\u200e ALM\u061c ZWNJ\u200c ZWJ\u200d';
    expect(normalizeText(text)).toBe('abcdefg\tRLM\u200f LRM\u200e ALM\u061c ZWNJ\u200c ZWJ\u200d');
  });

  it('keeps the RLM of an Arabic article through decoding', () => {
    const text = '\u200fقال الوزير: ‏"Tokyo"\u200f اليوم.';
    expect(decodeArticle(Buffer.from(text), 'a.txt', 'a').text).toBe(text);
  });

  it('removes an invisible character before composing, so the accent joins its letter', () => {
    expect(normalizeText('e\u200b\u0301')).toBe('é');
  });
});

describe('articleId', () => {
  it('is the path relative to the input root without extension, with forward slashes', () => {
    expect(articleId('input/news/2024/001.txt', 'input')).toBe('news/2024/001');
    expect(articleId('/data/in/a.b.md', '/data/in')).toBe('a.b');
  });

  it('is the bare name for a file outside the root, so outputs never escape the output directory', () => {
    expect(articleId('/elsewhere/x.txt', '/data/in')).toBe('x');
  });
});

describe('readArticleFile', () => {
  it('reads, decodes and names an article below the input root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-read-'));
    await mkdir(join(root, 'ar'));
    await writeFile(join(root, 'ar', 'one.txt'), iconv.encode(ARABIC_ARTICLE, 'windows-1256'));
    const article = await readArticleFile(join(root, 'ar', 'one.txt'), root, 1024 * 1024);
    expect(article.id).toBe('ar/one');
    expect(article.source.encoding).toBe('windows-1256');
    expect(article.text).toBe(ARABIC_ARTICLE);
  });

  it('refuses a file over maxBytes without reading it, naming the setting to change', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-read-'));
    await writeFile(join(root, 'big.txt'), 'x'.repeat(101));
    await expect(readArticleFile(join(root, 'big.txt'), root, 100)).rejects.toMatchObject({
      reason: 'too-large',
      message: expect.stringContaining('101 bytes is over input.maxBytes (100); raise input.maxBytes') as unknown as string,
    });
    await expect(readArticleFile(join(root, 'big.txt'), root, 101)).resolves.toMatchObject({ id: 'big' });
  });

  it('refuses the 50 MB file at the default maxBytes with memory to spare', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-read-'));
    const huge = writeBadInputs(root, { huge: true }).find((input) => input.name === 'huge-50mb')!;
    const before = process.memoryUsage().rss;
    await expect(readArticleFile(join(root, huge.file), root, defaultConfig.input.maxBytes)).rejects.toMatchObject({
      reason: 'too-large',
      message: expect.stringContaining(`${HUGE_BYTES} bytes is over input.maxBytes (20971520)`) as unknown as string,
    });
    // Refused on its size: not a byte of it was read into memory.
    expect(process.memoryUsage().rss - before).toBeLessThan(HUGE_BYTES / 2);
  });

  it('reports a file that disappeared as unreadable', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-read-'));
    await expect(readArticleFile(join(root, 'gone.txt'), root, 100)).rejects.toMatchObject({
      name: 'InputError',
      reason: 'unreadable',
      message: expect.stringContaining('gone.txt: cannot be read: it does not exist') as unknown as string,
    });
  });

  it('reads every decodable file of the nightly bad inputs with the expected encoding', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-bad-'));
    const inputs = writeBadInputs(root);
    const outcomes = new Map<string, string>();
    for (const input of inputs) {
      try {
        const article = await readArticleFile(join(root, input.file), root, 20 * 1024 * 1024);
        outcomes.set(input.name, article.warnings[0]?.reason ?? article.source.encoding);
        if (input.encoding) expect(article.source.encoding, input.what).toBe(input.encoding);
        expect(article.id).toBe(input.id);
      } catch (error) {
        outcomes.set(input.name, (error as InputError).reason);
      }
    }
    expect(Object.fromEntries(outcomes)).toMatchObject({
      empty: 'empty',
      'whitespace-only': 'empty',
      'png-renamed-txt': 'binary',
      'invalid-utf8': 'invalid-utf8',
      'symlink-loop-file': 'unreadable',
      'windows-1256-arabic': 'windows-1256',
    });
  });
});

describe('listArticleFiles', () => {
  it('lists each article once with its input root, through symlink loops and duplicate names', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'newsbridge-list-'));
    writeBadInputs(join(cwd, 'input'));
    await mkdir(join(cwd, 'input', 'drafts'));
    await writeFile(join(cwd, 'input', 'drafts', 'wip.txt'), 'draft');
    await mkdir(join(cwd, 'input', 'folder.txt'));
    await symlink('french.txt', join(cwd, 'input', 'zz-link-to-french.txt'));
    await mkdir(join(cwd, 'extra'));
    await writeFile(join(cwd, 'extra', 'note.md'), 'note');

    const { files } = await listArticleFiles(['input/**/*.{txt,md}', '!input/drafts/**', 'extra/*.md', 'input/french.txt'], { cwd });
    const paths = files.map((file) => file.path);
    expect(paths).toEqual([...paths].sort());
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.filter((path) => path.includes('article.txt'))).toEqual(['input/loop/article.txt']);
    expect(paths).toContain('input/loop-a.txt');
    expect(paths).toContain('input/french.txt');
    expect(paths).not.toContain('input/zz-link-to-french.txt');
    expect(paths).not.toContain('input/drafts/wip.txt');
    expect(paths).not.toContain('input/folder.txt');
    expect(files.find((file) => file.path === 'extra/note.md')).toEqual({ path: 'extra/note.md', inputRoot: 'extra' });
    expect(files.find((file) => file.path === 'input/copies/duplicate-b.txt')?.inputRoot).toBe('input');
  });
});

describe('decodeArticle: UTF-8 with a few bad bytes stays UTF-8', () => {
  const sampleArabic = readFileSync('input/000_d3c511104db8d652.txt');
  const sampleVietnamese = readFileSync('input/004_218d8854b8495f3e.txt');

  /** `count` 0xFF bytes spread evenly over the file, each put between two characters. */
  function withBadBytes(bytes: Buffer, count: number): Buffer {
    const parts: Buffer[] = [];
    let start = 0;
    for (let k = 1; k <= count; k++) {
      let at = Math.floor((bytes.length * k) / (count + 1));
      while (at < bytes.length && (bytes[at]! & 0xc0) === 0x80) at++;
      parts.push(bytes.subarray(start, at), Buffer.from([0xff]));
      start = at;
    }
    parts.push(bytes.subarray(start));
    return Buffer.concat(parts);
  }

  for (const [language, sample] of [
    ['Arabic', sampleArabic],
    ['Vietnamese', sampleVietnamese],
  ] as const) {
    for (const count of [1, 10, 100]) {
      it(`${language} sample article with ${count} invalid byte${count > 1 ? 's' : ''}: utf-8, invalid-utf8, the rest of the text intact`, () => {
        const article = decodeArticle(withBadBytes(sample, count), 'input/damaged.txt', 'damaged');
        expect(article.source.encoding).toBe('utf-8');
        expect(article.warnings.map((warning) => warning.reason)).toEqual(['invalid-utf8']);
        expect(article.warnings[0]!.message).toContain(`${count} invalid byte sequence${count > 1 ? 's' : ''} replaced`);
        expect(article.text.split('\ufffd').join('')).toBe(normalizeText(sample.toString('utf8')));
      });
    }
  }

  it('still takes real windows-1256 and windows-1258 files for what they are', () => {
    const arabic = normalizeText(sampleArabic.toString('utf8'));
    const vietnamese = normalizeText(sampleVietnamese.toString('utf8'));
    const asArabic = decodeArticle(iconv.encode(arabic, 'windows-1256'), 'a.txt', 'a');
    expect(asArabic.source.encoding).toBe('windows-1256');
    expect(asArabic.warnings).toEqual([]);
    expect(asArabic.text).toBe(arabic);
    const asVietnamese = decodeArticle(windows1258Bytes(vietnamese), 'v.txt', 'v');
    expect(asVietnamese.source.encoding).toBe('windows-1258');
    expect(asVietnamese.text).toBe(vietnamese);
  });
});

describe('readArticleFile: what is not a regular file inside the input folders', () => {
  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-fifo-'));
    execFileSync('mkfifo', [join(root, 'feed.txt')]);
    const error = await readArticleFile(join(root, 'feed.txt'), root, defaultConfig.input.maxBytes).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ reason: 'unreadable', message: expect.stringContaining('not a regular file but a named pipe (FIFO)') });
  });

  it('refuses a symlink whose target is outside the input roots, and reads one that stays inside', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'newsbridge-symlink-out-'));
    await mkdir(join(cwd, 'input', 'news'), { recursive: true });
    await writeFile(join(cwd, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    await writeFile(join(cwd, 'input', 'news', 'real.txt'), ARABIC_ARTICLE);
    await symlink(join(cwd, 'secret.txt'), join(cwd, 'input', 'p.txt'));
    await symlink(join('news', 'real.txt'), join(cwd, 'input', 'inside.txt'));

    const { files } = await listArticleFiles(['input/**/*.txt'], { cwd });
    const roots = await realInputRoots(files, cwd);
    const read = (name: string, allowed: readonly string[] | null) =>
      readArticleFile(join(cwd, 'input', name), join(cwd, 'input'), defaultConfig.input.maxBytes, allowed);

    const refused = await read('p.txt', roots).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(InputError);
    expect(refused).toMatchObject({
      reason: 'unreadable',
      message: expect.stringMatching(/p\.txt: links to .*secret\.txt, outside the input folders.*input\.followOutsideSymlinks: true$/),
    });
    expect((await read('inside.txt', roots)).text).toBe(ARABIC_ARTICLE);
    // Configured to follow them (input.followOutsideSymlinks), the runner passes no roots.
    expect((await read('p.txt', null)).text).toContain('root:x:0:0');
  });
});

describe('stillHolds: whether a file still has the bytes it was read with', () => {
  it('is true for the same bytes, false once they change, the file is gone or is over the size limit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-still-holds-'));
    const file = join(root, 'a.txt');
    await writeFile(file, ARABIC_ARTICLE);
    const { sha256 } = (await readArticleFile(file, root, defaultConfig.input.maxBytes)).source;
    expect(await stillHolds(file, sha256, defaultConfig.input.maxBytes)).toBe(true);
    expect(await stillHolds(file, sha256, 10)).toBe(false);
    await writeFile(file, `${ARABIC_ARTICLE}\n`);
    expect(await stillHolds(file, sha256, defaultConfig.input.maxBytes)).toBe(false);
    await rm(file);
    expect(await stillHolds(file, sha256, defaultConfig.input.maxBytes)).toBe(false);
  });

  it("answers false at once when a FIFO has taken the file's place, instead of waiting for a writer", async () => {
    const root = await mkdtemp(join(tmpdir(), 'newsbridge-still-holds-fifo-'));
    execFileSync('mkfifo', [join(root, 'a.txt')]);
    expect(await stillHolds(join(root, 'a.txt'), createHash('sha256').update('').digest('hex'), defaultConfig.input.maxBytes)).toBe(false);
  });
});
