import { describe, expect, it } from 'vitest';
import type { DetectedArticle } from '../../src/article.js';
import { segmentSentences, splitSentences, splitText } from '../../src/stages/segment.js';

describe('splitSentences', () => {
  it('splits Arabic at the full stop, the question mark and the exclamation mark', () => {
    expect(splitSentences('قال الوزير إن الاجتماع انتهى. هل ستعود المحادثات؟ نعم بالتأكيد! وغادر الوفد.', 'ar')).toEqual([
      'قال الوزير إن الاجتماع انتهى.',
      'هل ستعود المحادثات؟',
      'نعم بالتأكيد!',
      'وغادر الوفد.',
    ]);
  });

  it('splits at an Arabic full stop with no space after it', () => {
    expect(splitSentences('انتهى الاجتماع مساء أمس.وقال المتحدث إن المحادثات ستستمر.', 'ar')).toEqual([
      'انتهى الاجتماع مساء أمس.',
      'وقال المتحدث إن المحادثات ستستمر.',
    ]);
  });

  it('does not split at the Arabic semicolon or comma', () => {
    expect(splitSentences('تأجل الاجتماع؛ لأن الوفد لم يصل، وفق البيان.', 'ar')).toEqual(['تأجل الاجتماع؛ لأن الوفد لم يصل، وفق البيان.']);
  });

  it('keeps closing quotes and guillemets with the sentence they close', () => {
    expect(splitSentences('وقال: «نحن مستعدون للحوار.» ثم غادر القاعة.', 'ar')).toEqual(['وقال: «نحن مستعدون للحوار.»', 'ثم غادر القاعة.']);
    expect(splitSentences('He said: "We are ready." Then he left.', 'en')).toEqual(['He said: "We are ready."', 'Then he left.']);
    expect(splitSentences('Ông nói: “Chúng tôi sẵn sàng.” Sau đó ông rời đi.', 'vi')).toEqual([
      'Ông nói: “Chúng tôi sẵn sàng.”',
      'Sau đó ông rời đi.',
    ]);
  });

  it('does not split numbers', () => {
    expect(splitSentences('Growth reached 2.4 percent. Sales hit 1.000.000 units.', 'en')).toEqual([
      'Growth reached 2.4 percent.',
      'Sales hit 1.000.000 units.',
    ]);
    expect(splitSentences('بلغ النمو 2.4 في المئة. وارتفعت المبيعات.', 'ar')).toEqual(['بلغ النمو 2.4 في المئة.', 'وارتفعت المبيعات.']);
  });

  it('does not split after abbreviations, titles and initials', () => {
    expect(splitSentences('Mr. Smith met Dr. Jones in the U.S. Senate on Monday. They talked.', 'en')).toEqual([
      'Mr. Smith met Dr. Jones in the U.S. Senate on Monday.',
      'They talked.',
    ]);
    expect(splitSentences('The novel by J. K. Rowling sold well. St. Louis agreed.', 'en')).toEqual([
      'The novel by J. K. Rowling sold well.',
      'St. Louis agreed.',
    ]);
    expect(splitSentences('Ông đến TP. Hồ Chí Minh hôm qua. Ông gặp TT. Trump.', 'vi')).toEqual([
      'Ông đến TP. Hồ Chí Minh hôm qua.',
      'Ông gặp TT. Trump.',
    ]);
  });

  it('keeps a quoted question with the attribution that follows in lower case', () => {
    expect(splitSentences('"Are you ready?" she asked. Nobody answered.', 'en')).toEqual(['"Are you ready?" she asked.', 'Nobody answered.']);
  });

  it('splits a Latin full stop with no space before a capitalised word', () => {
    expect(splitSentences('The talks ended today.The delegation left.', 'en')).toEqual(['The talks ended today.', 'The delegation left.']);
  });

  it('returns one sentence for text without a stop, and none for blank text', () => {
    expect(splitSentences('A headline without a stop', 'en')).toEqual(['A headline without a stop']);
    expect(splitSentences('   ', 'en')).toEqual([]);
  });

  it('falls back to general rules for a language it has no rules for', () => {
    expect(splitSentences('Première phrase. Deuxième phrase.', 'xx')).toEqual(['Première phrase.', 'Deuxième phrase.']);
  });
});

describe('segmentSentences', () => {
  it('splits each paragraph in its own language and never across paragraphs', () => {
    const article: DetectedArticle = {
      id: 'a',
      source: { path: 'a.txt', bytes: 0, encoding: 'utf-8', sha256: '' },
      text: '',
      title: null,
      removed: [],
      language: { lang: 'ar', confidence: 0.99 },
      paragraphs: [
        { line: 1, kind: 'body', text: 'انتهى الاجتماع.وقال المتحدث', language: { lang: 'ar', confidence: 0.99 }, flags: [] },
        { line: 2, kind: 'body', text: 'Mr. Smith spoke. Then he left', language: { lang: 'en', confidence: 0.98 }, flags: ['foreign-language'] },
      ],
    };
    const result = segmentSentences(article);
    expect(result.paragraphs.map((p) => p.sentences.map((s) => s.source))).toEqual([
      ['انتهى الاجتماع.', 'وقال المتحدث'],
      ['Mr. Smith spoke.', 'Then he left'],
    ]);
    expect(result.paragraphs[1]!.flags).toEqual(['foreign-language']);
    expect(result.language).toEqual(article.language);
  });
});

describe('splitText', () => {
  it('treats each line as a paragraph: a sentence never crosses a line', () => {
    expect(splitText('A headline without a stop\nThe first sentence. The second one.\n\n', 'en')).toEqual([
      'A headline without a stop',
      'The first sentence.',
      'The second one.',
    ]);
  });
});
