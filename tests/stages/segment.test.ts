import fc from 'fast-check';
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
    expect(splitSentences('"Are you ready?" she asked. Nobody answered.', 'en')).toEqual([
      '"Are you ready?" she asked.',
      'Nobody answered.',
    ]);
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
        {
          line: 2,
          kind: 'body',
          text: 'Mr. Smith spoke. Then he left',
          language: { lang: 'en', confidence: 0.98 },
          flags: ['foreign-language'],
        },
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

describe('splitSentences on news text (issue 14)', () => {
  it('ends a sentence at an abbreviation when a sentence opens after it, in Vietnamese and Arabic too', () => {
    expect(splitSentences('Hoa Kỳ nên tăng gấp đôi viện trợ A.I. Khi Trung Quốc trở nên tích cực hơn.', 'vi')).toEqual([
      'Hoa Kỳ nên tăng gấp đôi viện trợ A.I.',
      'Khi Trung Quốc trở nên tích cực hơn.',
    ]);
    expect(splitSentences('Ông làm việc tại TP.HCM. Sau đó ông ra Hà Nội.', 'vi')).toEqual([
      'Ông làm việc tại TP.HCM.',
      'Sau đó ông ra Hà Nội.',
    ]);
    expect(splitSentences('بنيت المدينة عام 300 ق.م. وكانت عاصمة المملكة.', 'ar')).toEqual([
      'بنيت المدينة عام 300 ق.م.',
      'وكانت عاصمة المملكة.',
    ]);
    expect(splitSentences('The office stays closed until Oct. In order to reopen, it needs staff.', 'en')).toEqual([
      'The office stays closed until Oct.',
      'In order to reopen, it needs staff.',
    ]);
  });

  it('keeps titles, place words and initials with the name, and splits after a one-letter word that is not one', () => {
    expect(splitSentences('PGS.TS. Nguyễn Văn A làm việc ở P. 5, Q. 3, TP. Hồ Chí Minh.', 'vi')).toEqual([
      'PGS.TS. Nguyễn Văn A làm việc ở P. 5, Q. 3, TP. Hồ Chí Minh.',
    ]);
    expect(splitSentences('George W. Bush thăm Hà Nội.', 'vi')).toEqual(['George W. Bush thăm Hà Nội.']);
    // Ý (Italy) and a school grade A end sentences; names after initials are not Vietnamese words.
    expect(splitSentences('Trận đấu diễn ra tại Naples, Ý. Chelsea sẽ gặp Videoton.', 'vi')).toEqual([
      'Trận đấu diễn ra tại Naples, Ý.',
      'Chelsea sẽ gặp Videoton.',
    ]);
    expect(splitSentences('Học sinh đạt điểm A. Dữ liệu được thu thập từ 74 trường.', 'vi')).toEqual([
      'Học sinh đạt điểm A.',
      'Dữ liệu được thu thập từ 74 trường.',
    ]);
  });

  it('does not split an Arabic abbreviation whose stop is wrapped in direction marks', () => {
    expect(splitSentences('وقال د\u202a.\u202c ديفيد سميث إن الوضع خطير. وغادر.', 'ar')).toEqual([
      'وقال د\u202a.\u202c ديفيد سميث إن الوضع خطير.',
      'وغادر.',
    ]);
    expect(splitSentences('التقى أ\u200f.\u200fد\u200f. محمد علي بالوزير.', 'ar')).toEqual([
      'التقى أ\u200f.\u200fد\u200f. محمد علي بالوزير.',
    ]);
  });

  it('splits before a sentence that opens with a number, and never inside one', () => {
    expect(splitSentences('Nhiều người cho rằng bà không nên ra tranh cử. 32% ủng hộ bà ra tranh cử.', 'vi')).toEqual([
      'Nhiều người cho rằng bà không nên ra tranh cử.',
      '32% ủng hộ bà ra tranh cử.',
    ]);
    expect(splitSentences('Mã này tăng 2,8% lên 27.150 đồng. Bitcoin đạt mốc 13.858 USD.', 'vi')).toEqual([
      'Mã này tăng 2,8% lên 27.150 đồng.',
      'Bitcoin đạt mốc 13.858 USD.',
    ]);
    expect(splitSentences('ارتفع السعر إلى 1.500 دولار. وقال التاجر إن الطلب قوي.', 'ar')).toEqual([
      'ارتفع السعر إلى 1.500 دولار.',
      'وقال التاجر إن الطلب قوي.',
    ]);
  });

  it('splits after an e-mail address or URL that ends a sentence, never inside one', () => {
    expect(splitSentences('Liên hệ email tuvan@ghv.com.vn hoặc website https://ksol.vn. Thời gian làm việc từ 8 giờ.', 'vi')).toEqual([
      'Liên hệ email tuvan@ghv.com.vn hoặc website https://ksol.vn.',
      'Thời gian làm việc từ 8 giờ.',
    ]);
    expect(splitSentences('للتواصل: info.desk@example.com. وقال المتحدث إن الخط مفتوح.', 'ar')).toEqual([
      'للتواصل: info.desk@example.com.',
      'وقال المتحدث إن الخط مفتوح.',
    ]);
    expect(splitSentences('Write to Jane.Doe@example.com. She answers.', 'en')).toEqual(['Write to Jane.Doe@example.com.', 'She answers.']);
  });

  it('splits after an ellipsis before a new sentence, not before a lower-case word', () => {
    expect(splitSentences('Họ lập công ty ma để trục lợi... Ủy ban chứng khoán sẽ điều tra.', 'vi')).toEqual([
      'Họ lập công ty ma để trục lợi...',
      'Ủy ban chứng khoán sẽ điều tra.',
    ]);
    expect(splitSentences('Từ dịch bệnh, thương mại, nhân quyền… Giới phân tích lo ngại.', 'vi')).toEqual([
      'Từ dịch bệnh, thương mại, nhân quyền…',
      'Giới phân tích lo ngại.',
    ]);
    expect(splitSentences('Ông nói... rằng mọi việc ổn.', 'vi')).toEqual(['Ông nói... rằng mọi việc ổn.']);
    expect(splitSentences('وانتظر الناس طويلا... ثم جاء الرد.', 'ar')).toEqual(['وانتظر الناس طويلا...', 'ثم جاء الرد.']);
  });

  it('keeps a quote with the attribution after it', () => {
    expect(splitSentences('“Có cá mập ở đó!” Hammel chia sẻ thêm. Cậu bé được đưa đi.', 'vi')).toEqual([
      '“Có cá mập ở đó!” Hammel chia sẻ thêm.',
      'Cậu bé được đưa đi.',
    ]);
    expect(splitSentences('"Are you ready?" CNN reported. Then the rain came.', 'en')).toEqual([
      '"Are you ready?" CNN reported.',
      'Then the rain came.',
    ]);
  });

  it('splits tokenized text, punctuation spaced out, as it splits normal text', () => {
    const normal = 'Hà Nội, ngày 5. Ông nói: “Chúng tôi sẵn sàng.” Sau đó ông rời đi.';
    const tokenized = 'Hà Nội , ngày 5 . Ông nói : “Chúng tôi sẵn sàng . ” Sau đó ông rời đi .';
    expect(splitSentences(tokenized, 'vi')).toEqual(['Hà Nội , ngày 5 .', 'Ông nói : “Chúng tôi sẵn sàng . ”', 'Sau đó ông rời đi .']);
    expect(splitSentences(normal, 'vi')).toHaveLength(3);
    expect(splitSentences('قال الوزير : " نحن مستعدون . " ثم غادر .', 'ar')).toEqual(['قال الوزير : " نحن مستعدون . "', 'ثم غادر .']);
  });

  it('splits numbered and lettered lists that open a paragraph before each item', () => {
    expect(splitSentences('1. Giảm thuế 2. Tăng chi tiêu công 3. Hỗ trợ doanh nghiệp', 'vi')).toEqual([
      '1. Giảm thuế',
      '2. Tăng chi tiêu công',
      '3. Hỗ trợ doanh nghiệp',
    ]);
    expect(splitSentences('The vote was 2. Then 3 more came.', 'en')).toEqual(['The vote was 2.', 'Then 3 more came.']);
  });
});

describe('splitSentences never gives a sentence of punctuation alone (issue 18)', () => {
  const WORDLESS = /^[^\p{L}\p{N}]*$/u;

  it('joins stray punctuation after a sentence in tokenized text to that sentence', () => {
    expect(splitSentences('Tôi trông ông quen quen ? " . Hùng giật mình', 'vi')).toEqual([
      'Tôi trông ông quen quen ? " .',
      'Hùng giật mình',
    ]);
    expect(splitSentences('هل أنت مستعد ؟ . وقال الرجل', 'ar')).toEqual(['هل أنت مستعد ؟ .', 'وقال الرجل']);
    expect(splitSentences('Wow ! ! ! Next time.', 'en')).toEqual(['Wow ! ! !', 'Next time.']);
    expect(splitSentences('He left . ( . ) Then he came back.', 'en')).toEqual(['He left . ( . )', 'Then he came back.']);
    expect(splitSentences('" Hello there . " " . Next one .', 'en')).toEqual(['" Hello there . " " .', 'Next one .']);
  });

  it('joins punctuation that opens the text to the first sentence, and never joins across a line', () => {
    expect(splitSentences('. Hello there. Good.', 'en')).toEqual(['. Hello there.', 'Good.']);
    expect(splitSentences('… Then he said. ...', 'en')).toEqual(['… Then he said. ...']);
    expect(splitSentences('Hello there. " .\n" . Next one.', 'en')).toEqual(['Hello there. " .', '" . Next one.']);
    expect(splitSentences('* * *', 'en')).toEqual(['* * *']);
  });

  // Text as news and tokenized corpora write it: words of three scripts, numbers, and punctuation
  // attached or spaced out, each line with at least one word.
  const word = fc.constantFrom(
    'Hùng',
    'giật',
    'mình',
    'ông',
    'quen',
    'قال',
    'الوزير',
    'وغادر',
    'The',
    'minister',
    'said',
    'U.S.',
    'Mr.',
    '2025',
    '5.4',
    'a',
    'I',
  );
  const punctuation = fc.constantFrom(
    '.',
    '?',
    '!',
    '؟',
    '،',
    '۔',
    '…',
    '...',
    '. . .',
    '"',
    "'",
    '“',
    '”',
    '«',
    '»',
    '(',
    ')',
    '[',
    ']',
    ',',
    ':',
    '؛',
    '-',
    '•',
  );
  const token = fc.oneof({ arbitrary: word, weight: 3 }, { arbitrary: punctuation, weight: 2 });
  const spacing = fc.constantFrom(' ', ' ', ' ', '', '  ');
  const line = fc.tuple(word, fc.array(fc.tuple(spacing, token), { maxLength: 30 }), fc.nat()).map(([first, rest, at]) => {
    const tokens = rest.map(([space, t]) => space + t);
    tokens.splice(at % (tokens.length + 1), 0, ` ${first} `);
    return tokens.join('').trim();
  });
  const text = fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));

  it('on generated text: no sentence is wordless or crosses a line, and the sentences are the text in order', () => {
    fc.assert(
      fc.property(text, fc.constantFrom('ar', 'vi', 'en'), (input, lang) => {
        const sentences = splitSentences(input, lang);
        for (const sentence of sentences) {
          expect(sentence).not.toMatch(WORDLESS);
          expect(sentence).not.toContain('\n');
        }
        // Between one sentence and the next stands only white space: nothing lost, added or moved.
        let rest = input;
        for (const sentence of sentences) {
          rest = rest.trimStart();
          expect(rest.startsWith(sentence)).toBe(true);
          rest = rest.slice(sentence.length);
        }
        expect(rest.trim()).toBe('');
      }),
      { seed: 18, numRuns: 3000 },
    );
  });
});
