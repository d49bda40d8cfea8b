import { mkdirSync, openSync, closeSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';

/**
 * The bad inputs of the nightly-run issue that can exist as files, written into an input folder so
 * pipeline tests can run over them. Each entry says what it is and, where the read stage has a
 * right answer, which encoding and language it must come out as. The run must go on past every one
 * of them; what status each article ends with is for the pipeline's tests to assert.
 */

export type BadInputName =
  | 'empty'
  | 'whitespace-only'
  | 'png-renamed-txt'
  | 'invalid-utf8'
  | 'utf16le-bom'
  | 'utf16be-bom'
  | 'utf16le-no-bom'
  | 'utf16be-no-bom'
  | 'windows-1256-arabic'
  | 'huge-50mb'
  | 'long-line-no-punctuation'
  | 'symlink-loop-dir'
  | 'symlink-loop-file'
  | 'duplicate-a'
  | 'duplicate-b'
  | 'persian'
  | 'french'
  | 'mixed-arabic-english';

export interface BadInput {
  name: BadInputName;
  /** Path relative to the input folder. */
  file: string;
  /** Article id the reader derives: `file` without its extension. */
  id: string;
  /** What the file is, for test names and failure messages. */
  what: string;
  /** The encoding the reader must detect, when it can decode the file at all. */
  encoding?: string;
  /** The article language detection must find, when there is text to detect. */
  language?: string;
}

export interface BadInputOptions {
  /** Also write the 50 MB file (off by default: it costs a tenth of a second and 50 MB of disk). */
  huge?: boolean;
}

/** Size of the huge file; over the config's default `input.maxBytes` (20 MiB). */
export const HUGE_BYTES = 50 * 1024 * 1024;
/** Length of the single unpunctuated line. */
export const LONG_LINE_CHARS = 200_000;

export const ARABIC_ARTICLE = [
  'الحكومة تعلن خطة جديدة لدعم المزارعين',
  'أعلنت الحكومة يوم الأحد عن خطة جديدة لدعم المزارعين في المناطق الريفية، تشمل قروضا ميسرة وبذورا محسنة.',
  'وقال وزير الزراعة إن الخطة ستنفذ على مدى ثلاث سنوات، وإنها تهدف إلى زيادة الإنتاج المحلي من القمح.',
  'ورحب اتحاد المزارعين بالخطة، لكنه طالب بتسريع صرف القروض قبل موسم الزراعة المقبل.',
].join('\n');

export const VIETNAMESE_ARTICLE = [
  'Giá xăng giảm lần thứ ba liên tiếp',
  'Liên Bộ Công Thương - Tài chính vừa quyết định giảm giá xăng dầu từ 15h chiều nay.',
  'Theo đó, giá xăng RON 95 giảm hơn 300 đồng mỗi lít, còn giá dầu diesel giảm khoảng 200 đồng.',
  'Đây là lần giảm giá thứ ba liên tiếp kể từ đầu tháng, khi giá dầu thế giới tiếp tục đi xuống.',
].join('\n');

const PERSIAN_ARTICLE = [
  'دولت برنامه تازه‌ای برای حمایت از کشاورزان اعلام کرد',
  'دولت روز یکشنبه برنامه‌ای تازه برای حمایت از کشاورزان در مناطق روستایی اعلام کرد که شامل وام‌های کم‌بهره و بذرهای اصلاح‌شده است.',
  'وزیر کشاورزی گفت این برنامه در طول سه سال اجرا می‌شود و هدف آن افزایش تولید گندم در کشور است.',
].join('\n');

const FRENCH_ARTICLE = [
  'Le gouvernement annonce un nouveau plan pour les agriculteurs',
  'Le gouvernement a annoncé dimanche un nouveau plan de soutien aux agriculteurs des zones rurales, avec des prêts à taux réduit.',
  "Selon le ministre de l'Agriculture, le plan sera mis en œuvre sur trois ans afin d'augmenter la production de blé.",
].join('\n');

const MIXED_ARTICLE = [
  'وزير الخارجية يلتقي نظيره البريطاني في لندن',
  'التقى وزير الخارجية يوم الاثنين نظيره البريطاني في لندن، وبحث الجانبان العلاقات الثنائية والأوضاع في المنطقة.',
  '"We had a very productive meeting and agreed to expand our cooperation on trade and energy," the British minister told reporters after the talks.',
  'وأضاف الوزير أن البلدين سيوقعان اتفاقية جديدة للتعاون الاقتصادي خلال الأشهر المقبلة.',
  'The two ministers are expected to meet again in the autumn to review progress on the agreement.',
].join('\n');

/** A complete 1×1 PNG image. */
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const UTF16_BOM = Buffer.from([0xff, 0xfe]);

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** UTF-8 text with a stray continuation byte, a truncated sequence and a byte that never occurs in UTF-8. */
function invalidUtf8(): Buffer {
  const [first, ...rest] = VIETNAMESE_ARTICLE.split('\n');
  return Buffer.concat([Buffer.from(`${first}\n`), Buffer.from([0x80, 0x20, 0xe1, 0xba, 0x20, 0xff, 0x0a]), Buffer.from(rest.join('\n'))]);
}

function longLine(): string {
  const words = VIETNAMESE_ARTICLE.replace(/[^\p{L}\p{N}\s]/gu, '').split(/\s+/);
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < LONG_LINE_CHARS; i++) {
    const word = words[i % words.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, LONG_LINE_CHARS);
}

/** Writes the 50 MB file a megabyte at a time, so the helper itself stays small in memory. */
function writeHuge(file: string): void {
  const paragraph = Buffer.from(`${ARABIC_ARTICLE}\n\n`);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < chunk.length; at += paragraph.length) paragraph.copy(chunk, at);
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < HUGE_BYTES; written += chunk.length) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Writes every bad input into `inputDir` (created if needed) and returns what was written. */
export function writeBadInputs(inputDir: string, options: BadInputOptions = {}): BadInput[] {
  mkdirSync(inputDir, { recursive: true });
  const written: BadInput[] = [];
  const add = (entry: Omit<BadInput, 'id'>, content?: string | Buffer) => {
    const target = path.join(inputDir, entry.file);
    mkdirSync(path.dirname(target), { recursive: true });
    if (content !== undefined) writeFileSync(target, content);
    written.push({ ...entry, id: entry.file.replace(/\.[^./]+$/, '') });
  };

  add({ name: 'empty', file: 'empty.txt', what: 'an empty file' }, '');
  add(
    { name: 'whitespace-only', file: 'whitespace-only.txt', what: 'spaces, tabs, CRLFs, a no-break and a zero-width space' },
    ' \t\n\r\n\u00a0\u200b  \n',
  );
  add({ name: 'png-renamed-txt', file: 'image.txt', what: 'a PNG image renamed .txt' }, PNG_1X1);
  add(
    { name: 'invalid-utf8', file: 'invalid-utf8.txt', what: 'Vietnamese UTF-8 with invalid byte sequences', language: 'vi' },
    invalidUtf8(),
  );
  add(
    { name: 'utf16le-bom', file: 'utf16le-bom.txt', what: 'Arabic in UTF-16 LE with a BOM', encoding: 'utf-16le', language: 'ar' },
    Buffer.concat([UTF16_BOM, Buffer.from(ARABIC_ARTICLE, 'utf16le')]),
  );
  add(
    { name: 'utf16be-bom', file: 'utf16be-bom.txt', what: 'Vietnamese in UTF-16 BE with a BOM', encoding: 'utf-16be', language: 'vi' },
    utf16be(`\ufeff${VIETNAMESE_ARTICLE}`),
  );
  add(
    { name: 'utf16le-no-bom', file: 'utf16le-no-bom.txt', what: 'Arabic in UTF-16 LE without a BOM', encoding: 'utf-16le', language: 'ar' },
    Buffer.from(ARABIC_ARTICLE, 'utf16le'),
  );
  add(
    {
      name: 'utf16be-no-bom',
      file: 'utf16be-no-bom.txt',
      what: 'Vietnamese in UTF-16 BE without a BOM',
      encoding: 'utf-16be',
      language: 'vi',
    },
    utf16be(VIETNAMESE_ARTICLE),
  );
  add(
    {
      name: 'windows-1256-arabic',
      file: 'windows-1256.txt',
      what: 'Arabic in the legacy windows-1256 code page',
      encoding: 'windows-1256',
      language: 'ar',
    },
    iconv.encode(ARABIC_ARTICLE, 'windows-1256'),
  );
  if (options.huge) {
    add({ name: 'huge-50mb', file: 'huge.txt', what: `a ${HUGE_BYTES / 1024 / 1024} MB file of Arabic paragraphs`, language: 'ar' });
    writeHuge(path.join(inputDir, 'huge.txt'));
  }
  add(
    {
      name: 'long-line-no-punctuation',
      file: 'long-line.txt',
      what: `one ${LONG_LINE_CHARS.toLocaleString('en')}-character Vietnamese line with no punctuation`,
      encoding: 'utf-8',
      language: 'vi',
    },
    longLine(),
  );
  // A directory that contains itself, and two links that point at each other.
  add(
    {
      name: 'symlink-loop-dir',
      file: 'loop/article.txt',
      what: 'an article in a folder that holds a symlink to itself (loop/self -> .)',
      encoding: 'utf-8',
      language: 'vi',
    },
    VIETNAMESE_ARTICLE,
  );
  symlinkSync('.', path.join(inputDir, 'loop', 'self'));
  add({ name: 'symlink-loop-file', file: 'loop-a.txt', what: 'two file symlinks pointing at each other' });
  symlinkSync('loop-b.txt', path.join(inputDir, 'loop-a.txt'));
  symlinkSync('loop-a.txt', path.join(inputDir, 'loop-b.txt'));
  add({ name: 'duplicate-a', file: 'duplicate-a.txt', what: 'an article', encoding: 'utf-8', language: 'ar' }, ARABIC_ARTICLE);
  add(
    { name: 'duplicate-b', file: 'copies/duplicate-b.txt', what: 'the same bytes as duplicate-a.txt', encoding: 'utf-8', language: 'ar' },
    ARABIC_ARTICLE,
  );
  add({ name: 'persian', file: 'persian.txt', what: 'a Persian article (Arabic script, no model)', language: 'fa' }, PERSIAN_ARTICLE);
  add({ name: 'french', file: 'french.txt', what: 'a French article (no model)', language: 'fr' }, FRENCH_ARTICLE);
  add(
    {
      name: 'mixed-arabic-english',
      file: 'mixed.txt',
      what: 'an Arabic article with two English paragraphs',
      encoding: 'utf-8',
      language: 'ar',
    },
    MIXED_ARTICLE,
  );
  return written;
}

/** A YAML "billion laughs": seven levels of aliases, each nine of the one before (9⁷ strings if expanded). */
export function yamlAliasBomb(): string {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [previous, name] of [
    ['a', 'b'],
    ['b', 'c'],
    ['c', 'd'],
    ['d', 'e'],
    ['e', 'f'],
    ['f', 'g'],
  ]) {
    levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
  }
  return levels.join('\n');
}
