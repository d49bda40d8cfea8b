import { describe, expect, it } from 'vitest';
import type { TranslatedArticle } from '../../src/article.js';
import { chooseSummarySentences, contentTerms, summarizeArticle, summarySize } from '../../src/stages/summarize.js';
import { BURIED_STORY, TOWN_MEETING } from '../fixtures/stories.js';

const three = { sentences: 3, ratio: 0 };

const buriedStory = BURIED_STORY;

describe('chooseSummarySentences', () => {
  it('returns indices in document order', () => {
    const indices = chooseSummarySentences(buriedStory, three);
    expect(indices).toHaveLength(3);
    expect([...indices].sort((a, b) => a - b)).toEqual(indices);
  });

  it('chooses on content: a story buried under off-topic openers gets in, ahead of an opener nearer the top', () => {
    const indices = chooseSummarySentences(buriedStory, three);
    expect(indices).toContain(3);
    expect(indices).not.toContain(2);
    expect(indices).not.toContain(8);
  });

  it('does not let a long sentence win on its length: one that strings the others together loses to the lead', () => {
    const article = [
      'A fire broke out at a textile factory in the port city early on Tuesday.',
      'Firefighters brought the blaze under control after four hours.',
      'Twelve workers were taken to hospital with smoke injuries.',
      'The owners said the factory will stay closed for the rest of the week.',
      'The factory owners, who said the workers, firefighters, hospital staff and city officials of the port had all been told on Tuesday, added that the blaze, the fire and the smoke had been under control for hours before the textile plant was closed this week.',
      'Police are investigating what caused the fire at the factory.',
      'The port city has had three factory fires this year.',
    ];
    // It shares terms with every other sentence, so LexRank ranks it first; it adds nothing of its own.
    expect(chooseSummarySentences(article, { ...three, lang: 'en' })).toEqual([0, 1, 2]);
    expect(chooseSummarySentences(article, { sentences: 4, ratio: 0, lang: 'en' })).not.toContain(4);
  });

  it('leans on the lead as the summary grows: at five sentences the first five are the lead, as the first three are at three', () => {
    const article = [
      'The city council approved the new harbour budget on Monday evening.',
      'Fishermen say the old piers have been closed since the spring storms.',
      'A local school will open a sailing club for children next month.',
      'Ticket prices for the summer ferry rise by ten percent.',
      'The mayor thanked volunteers who cleaned the beaches after the storm.',
      'Bus drivers in the region plan a strike over wages and hours.',
      'The bus strike would stop buses across the region for two days.',
      'Union leaders said bus drivers want higher wages and shorter hours.',
      'Regional bus companies said the strike over wages would hurt commuters.',
      'Commuters fear the regional bus strike will close schools and shops.',
    ];
    // The bus story, central to the second half, wins one place at three sentences and at five alike.
    expect(chooseSummarySentences(article, { ...three, lang: 'en' })).toEqual([0, 1, 5]);
    expect(chooseSummarySentences(article, { sentences: 5, ratio: 0, lang: 'en' })).toEqual([0, 1, 2, 3, 5]);
  });

  it('never chooses a sentence that repeats one already chosen', () => {
    const sentences = [
      'Floods forced thousands of families from their homes in the northern province on Tuesday.',
      'Floods forced thousands of families from their homes in the northern province on Tuesday night.',
      'Rescue teams used boats to reach villages cut off by the rising river.',
      'The government promised emergency funds for families who lost their homes.',
      'Schools in the province will stay closed until the water recedes.',
      'Forecasters expect more rain later in the week.',
    ];
    const indices = chooseSummarySentences(sentences, three);
    expect(indices).toHaveLength(3);
    expect(indices.includes(0) && indices.includes(1)).toBe(false);
  });

  it('treats Arabic spelling variants (hamza, diacritics, taa marbuta, clitics) as the same words', () => {
    const sentences = [
      'أعلنت الحكومة المصرية عن خطة جديدة لدعم الزراعة في الصعيد.',
      'اعلنت الحكومه المصريه عن خطه جديده لدعم الزراعه في الصعيد.',
      'وقال وزير الزراعة إن الخطة تشمل قروضا ميسرة للمزارعين.',
      'وتهدف الخطة إلى زيادة إنتاج القمح خلال الأعوام المقبلة.',
      'ورحب المزارعون بالقرار في عدة محافظات.',
    ];
    const indices = chooseSummarySentences(sentences, { ...three, lang: 'ar' });
    expect(indices).toHaveLength(3);
    expect(indices).toContain(0);
    expect(indices).not.toContain(1);
  });

  it('uses the title as a query: it changes the choice towards the sentences it names', () => {
    const sentences = TOWN_MEETING;
    const plain = chooseSummarySentences(sentences, { sentences: 2, ratio: 0, lang: 'en' });
    const withTitle = chooseSummarySentences(sentences, {
      sentences: 2,
      ratio: 0,
      lang: 'en',
      title: 'Town to build new library on the river front',
    });
    expect(withTitle).not.toEqual(plain);
    expect(withTitle.some((index) => index === 3 || index === 4)).toBe(true);
  });

  it('summarizes Vietnamese on syllables, with the title as query', () => {
    const sentences = [
      'Sáng nay, trời Hà Nội có mưa nhỏ.',
      'Giá xăng tăng mạnh từ 15 giờ chiều nay theo điều chỉnh của liên bộ.',
      'Giá xăng RON 95 tăng thêm 500 đồng mỗi lít.',
      'Nhiều người dân đổ xe đi mua xăng trước giờ tăng giá.',
      'Một cửa hàng ở quận Cầu Giấy có hàng dài xe máy.',
    ];
    const indices = chooseSummarySentences(sentences, { sentences: 2, ratio: 0, title: 'Giá xăng tăng 500 đồng mỗi lít' });
    expect(indices).toHaveLength(2);
    expect(indices).toContain(2);
  });

  it('takes the larger of the sentence count and the ratio', () => {
    const sentences = Array.from({ length: 20 }, (_, i) => `Sentence number ${i} reports fact ${i} about item ${i % 4}.`);
    expect(chooseSummarySentences(sentences, { sentences: 2, ratio: 0 })).toHaveLength(2);
    expect(chooseSummarySentences(sentences, { sentences: 2, ratio: 0.25 })).toHaveLength(5);
    expect(chooseSummarySentences(sentences, { sentences: 6, ratio: 0.1 })).toHaveLength(6);
    expect(summarySize(20, { sentences: 1, ratio: 1 })).toBe(20);
  });

  it('handles a very long article, choosing among its first thousand sentences', () => {
    const sentences = Array.from({ length: 1200 }, (_, i) => `Report ${i} covers district ${i % 37} and budget line ${i % 11}.`);
    const indices = chooseSummarySentences(sentences, three);
    expect(indices).toHaveLength(3);
    expect(indices.every((index) => index < 1000)).toBe(true);
    const distinct = Array.from({ length: 1200 }, (_, i) => `Alpha${i} beta${i} gamma${i} delta${i} epsilon${i}.`);
    expect(chooseSummarySentences(distinct, { sentences: 3, ratio: 0.9 })).toEqual(distinct.slice(0, 1000).map((_, i) => i));
  });

  it('returns a short article whole and an empty one empty', () => {
    expect(chooseSummarySentences(['One.', 'Two.'], three)).toEqual([0, 1]);
    expect(chooseSummarySentences(['One.', 'Two.', 'Three.'], three)).toEqual([0, 1, 2]);
    expect(chooseSummarySentences([], three)).toEqual([]);
  });
});

describe('contentTerms', () => {
  it('normalizes Arabic spelling variants and strips the article and clitics', () => {
    expect(contentTerms('الحكومة', 'ar')).toEqual(contentTerms('الحكومه', 'ar'));
    expect(contentTerms('أحمد إبراهيم آمن', 'ar')).toEqual(contentTerms('احمد ابراهيم امن', 'ar'));
    expect(contentTerms('مُسْتَشْفَى', 'ar')).toEqual(contentTerms('مستشفي', 'ar'));
    expect(contentTerms('وبالمدارس للطلاب والمعلمين', 'ar')).toEqual(['مدارس', 'طلاب', 'معلم']);
  });

  it('keeps Vietnamese syllables with their diacritics and drops function syllables', () => {
    expect(contentTerms('Các trường học được nghỉ vì mưa lớn', 'vi')).toEqual(['trường', 'học', 'nghỉ', 'mưa', 'lớn']);
  });

  it('stems English and drops stop words', () => {
    expect(contentTerms('The councils were running repairs on the bridges', 'en')).toEqual(['council', 'run', 'repair', 'bridg']);
  });

  it('guesses the language from the script when none is given', () => {
    expect(contentTerms('وبالمدارس')).toEqual(['مدارس']);
    expect(contentTerms('Các trường học')).toEqual(['trường', 'học']);
  });
});

describe('summarizeArticle', () => {
  function article(paragraphs: { kind: 'title' | 'body'; sentences: string[] }[], title: string | null): TranslatedArticle {
    return {
      id: 'news/001',
      source: { path: 'input/news/001.txt', bytes: 0, encoding: 'utf-8', sha256: '0'.repeat(64) },
      text: '',
      title,
      removed: [],
      language: { lang: 'en', confidence: 1 },
      translation: { status: 'passthrough', models: [] },
      paragraphs: paragraphs.map((paragraph, k) => ({
        line: k + 1,
        kind: paragraph.kind,
        text: paragraph.sentences.join(' '),
        language: { lang: 'en', confidence: 1 },
        flags: [],
        sentences: paragraph.sentences.map((source) => ({ source, target: `EN ${source}`, flags: [] })),
      })),
    };
  }

  it('returns indices over all paragraphs and aligned source/English pairs, never the title line', () => {
    const title = 'City council approves harbour bridge repair';
    const summarized = summarizeArticle(
      article(
        [
          { kind: 'title', sentences: [title] },
          { kind: 'body', sentences: buriedStory.slice(0, 4) },
          { kind: 'body', sentences: buriedStory.slice(4) },
        ],
        title,
      ),
      three,
    );
    const { indices, pairs } = summarized.summary;
    expect(indices).toHaveLength(3);
    expect(indices).not.toContain(0);
    expect([...indices].sort((a, b) => a - b)).toEqual(indices);
    const all = [title, ...buriedStory];
    expect(pairs.map((pair) => pair.source)).toEqual(indices.map((index) => all[index]));
    expect(pairs.map((pair) => pair.target)).toEqual(indices.map((index) => `EN ${all[index]}`));
  });

  it('keeps a null target for an untranslated sentence', () => {
    const untranslated = article([{ kind: 'body', sentences: ['Một câu.', 'Hai câu.'] }], null);
    for (const sentence of untranslated.paragraphs[0]!.sentences) sentence.target = null;
    expect(summarizeArticle(untranslated, three).summary.pairs).toEqual([
      { source: 'Một câu.', target: null },
      { source: 'Hai câu.', target: null },
    ]);
  });
});
