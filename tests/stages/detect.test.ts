import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanedArticle } from '../../src/article.js';
import { removeBoilerplate } from '../../src/stages/clean.js';
import { LanguageDetector, detectLanguage } from '../../src/stages/detect.js';
import { defaultConfig } from '../../src/config/config.js';
import { MIXED_LANGUAGE, routedLanguages } from '../../src/languages.js';
import { MIXED_PARAGRAPHS } from '../fixtures/mixed-article.js';

const ROUTED = routedLanguages(defaultConfig.translation.models);
let detector: LanguageDetector;
beforeAll(async () => {
  detector = await LanguageDetector.create(ROUTED);
});

function cleaned(paragraphs: string[]): CleanedArticle {
  const text = paragraphs.join('\n');
  return {
    id: 'test',
    source: { path: 'test.txt', bytes: Buffer.byteLength(text), encoding: 'utf-8', sha256: '' },
    text,
    title: null,
    paragraphs: paragraphs.map((p, i) => ({ line: i + 1, kind: 'body', text: p })),
    removed: [],
  };
}

const ARABIC = [
  'قال رئيس الوزراء الياباني يوم الجمعة إنه يريد تعزيز التعاون العسكري مع الولايات المتحدة.',
  'وأضاف أن البلدين سيعملان معاً على تطوير الصواريخ والطائرات المقاتلة خلال السنوات المقبلة.',
  'ومن المتوقع أن يلتقي الزعيمان في واشنطن الأسبوع المقبل لمناقشة الأمن الإقليمي والتجارة.',
];

describe('LanguageDetector.detect', () => {
  it('tells Arabic, Vietnamese and English', () => {
    expect(detector.detect(ARABIC[0]!).lang).toBe('ar');
    expect(detector.detect('Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác quốc phòng với Nhật Bản.').lang).toBe('vi');
    expect(detector.detect('The prime minister said the two countries would deepen their defence ties.').lang).toBe('en');
  });

  it('never takes Persian or Urdu for Arabic', () => {
    const persian = [
      'این یک جمله فارسی است که باید به درستی تشخیص داده شود.',
      'دولت ژاپن می‌گوید همکاری نظامی با آمریکا را گسترش می‌دهد.',
      'من شما را از ته قلبم دوست دارم.',
    ];
    const urdu = ['یہ ایک اردو جملہ ہے جس کی شناخت ہونی چاہیے۔', 'حکومت نے کہا کہ وہ دفاعی تعاون بڑھائے گی۔'];
    for (const text of persian) expect(detector.detect(text).lang, text).not.toBe('ar');
    for (const text of urdu) expect(detector.detect(text).lang, text).not.toBe('ar');
    expect(detector.detect(persian[0]!).lang).toBe('fa');
    expect(detector.detect(urdu[0]!).lang).toBe('ur');
  });

  it('tells Vietnamese from Indonesian, Malay and Tagalog by its letters', () => {
    expect(detector.detect('Tớ ăn tối sớm hơn ấy.').lang).toBe('vi');
    expect(detector.detect('Presiden Joko Widodo mengatakan bahwa pemerintah akan membangun jalan baru.').lang).toBe('id');
    for (const text of ['Kembalikan dompetku sekarang juga.', 'Umupo si Tom at naghintay.', 'Ngunit tao silang lahat.']) {
      expect(['vi', 'en', 'ar'], text).not.toContain(detector.detect(text).lang);
    }
  });

  it('does not send short Malay lines that fastText reads as English to English (issue 14)', () => {
    // fastText: en 0.57; the second model has no English in it.
    expect(detector.detect('Maaf, Tom.').lang).not.toBe('en');
    // All capitals: fastText, trained on mixed case, says en 0.97 (UDHR, Malay).
    expect(detector.detect('PERISYTIHARAN HAK ASASI MANUSIA SEJAGAT').lang).not.toBe('en');
    for (const english of ['Well done, Tom!', 'Take it easy.', 'See you soon.', 'GOVERNMENT ANNOUNCES NEW BUDGET']) {
      expect(detector.detect(english).lang, english).toBe('en');
    }
  });

  it('does not take Malay for English when fastText is sure of English (issue 18: held-out Malay)', () => {
    // fastText says en 0.98 for each: its short-text English prior, which no confidence threshold on
    // fastText itself can catch; the second model names Malay.
    for (const malay of ['Tom merasa pusing.', 'Rasa pusing.']) {
      expect(detector.detect(malay).lang, malay).not.toBe('en');
    }
    // English fastText is sure of, with Malay-looking names, stays English.
    for (const english of ['Tom and Mary went to Kuala Lumpur.', 'Anwar Ibrahim said the budget would pass.']) {
      expect(detector.detect(english).lang, english).toBe('en');
    }
  });

  it('answers und, with no guess, for text too short to tell', () => {
    expect(detector.detect('OK')).toEqual({ lang: 'und', confidence: 0 });
    expect(detector.detect('12 345 678 90')).toEqual({ lang: 'und', confidence: 0 });
  });

  it('never answers ar, vi or en for text in another script', () => {
    for (const text of ['Премьер-министр Японии заявил в пятницу о сотрудничестве.', 'นายกรัฐมนตรีญี่ปุ่นกล่าวเมื่อวันศุกร์']) {
      expect(['vi', 'en', 'ar']).not.toContain(detector.detect(text).lang);
    }
  });

  it('gives confidences that are probabilities, never over 1 (fastText can sum to 1.00002)', () => {
    const guess = detector.detect('Nhiều năm rồi mới có một kỳ thi cơ bản đã đạt được kết quả mong đợi.');
    expect(guess.lang).toBe('vi');
    expect(guess.confidence).toBeLessThanOrEqual(1);
    expect(guess.confidence).toBeGreaterThan(0.9);
  });

  it('follows minChars and minConfidence from the options', async () => {
    const strict = await LanguageDetector.create(ROUTED, { minChars: 200 });
    expect(strict.detect(ARABIC[0]!).lang).toBe('und');
    const sure = await LanguageDetector.create(ROUTED, { minConfidence: 0.999999 });
    const guess = sure.detect('Ông già kia là ai vậy?');
    expect(guess.lang).toBe('und');
    expect(guess.confidence).toBeGreaterThan(0);
  });
});

describe('detectLanguage', () => {
  it('flags an English quote inside an Arabic article and keeps the article Arabic', () => {
    const quote = '"We will stand with our allies in the Pacific for as long as it takes," the ambassador said.';
    const result = detectLanguage(cleaned([ARABIC[0]!, quote, ARABIC[1]!, ARABIC[2]!]), detector);
    expect(result.language.lang).toBe('ar');
    expect(result.paragraphs[1]!.language.lang).toBe('en');
    expect(result.paragraphs[1]!.flags).toEqual(['foreign-language']);
    expect(result.paragraphs[0]!.flags).toEqual([]);
  });

  it('keeps a paragraph that opens with an English dateline Arabic (seed 002)', () => {
    const text = readFileSync(path.resolve('input/002_6d08277afabc9342.txt'), 'utf8');
    const article = removeBoilerplate({ id: '002', source: { path: '002.txt', bytes: 0, encoding: 'utf-8', sha256: '' }, text });
    const result = detectLanguage(article, detector);
    expect(article.paragraphs[0]!.text.startsWith('TOKYO (AP)')).toBe(true);
    expect(result.language.lang).toBe('ar');
    expect(result.paragraphs[0]!.language.lang).toBe('ar');
    expect(result.paragraphs.every((p) => p.flags.length === 0)).toBe(true);
  });

  it('lets a web page’s <html lang> settle an unsure article only when the text’s best guess agrees', () => {
    const paragraphs = [
      'Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác quốc phòng với Nhật Bản trong những năm tới.',
      'The prime minister said the government would strengthen defence cooperation with Japan in the coming years.',
      'Le premier ministre a déclaré que le gouvernement renforcerait la coopération avec le Japon dans les années à venir.',
    ];
    const page = (lang: string) => ({
      title: null,
      byline: null,
      published: null,
      canonicalUrl: null,
      siteName: null,
      lang,
      extraction: 'readability',
      removed: [],
    });
    // No language is most of it: mixed, each paragraph its own, unless the page's lang is the best guess.
    expect(detectLanguage(cleaned(paragraphs), detector).language.lang).toBe(MIXED_LANGUAGE);
    const french = detectLanguage({ ...cleaned(paragraphs), page: page('fr-FR') }, detector).language;
    expect(french.lang).toBe('fr');
    expect(french.confidence).toBeLessThan(0.5);
    expect(detectLanguage({ ...cleaned(paragraphs), page: page('vi') }, detector).language.lang).toBe(MIXED_LANGUAGE);
    // Sure of the text: a template's lang="en" on an Arabic page changes nothing.
    expect(detectLanguage({ ...cleaned([ARABIC[0]!, ARABIC[1]!]), page: page('en') }, detector).language.lang).toBe('ar');
  });

  it('calls an article with no majority language mixed and keeps each paragraph its own (issue 18)', () => {
    const [ar1, vi1, en1, ar2, vi2, en2] = MIXED_PARAGRAPHS;
    // 'نعم.' is too short to tell: it goes with the Arabic paragraph before it.
    const result = detectLanguage(cleaned([ar1!, 'نعم.', vi1!, en1!, ar2!, vi2!, en2!]), detector);
    expect(result.language.lang).toBe(MIXED_LANGUAGE);
    expect(result.language.confidence).toBeGreaterThan(0.9);
    expect(result.paragraphs.map((p) => p.language.lang)).toEqual(['ar', 'ar', 'vi', 'en', 'ar', 'vi', 'en']);
    expect(result.paragraphs.every((p) => p.flags.length === 0)).toBe(true);
    // Text it cannot tell at all is und, not mixed.
    expect(detectLanguage(cleaned(['OK', 'Hi!', '12 345']), detector).language.lang).toBe('und');
  });

  it('gives short paragraphs the article language instead of und', () => {
    const result = detectLanguage(cleaned([ARABIC[0]!, 'نعم.', ARABIC[1]!]), detector);
    expect(result.paragraphs[1]!.language).toEqual(result.language);
    expect(result.paragraphs[1]!.flags).toEqual([]);
  });

  it('weighs paragraphs by length: a long Vietnamese body outweighs a short English line', () => {
    const result = detectLanguage(
      cleaned([
        'Breaking news update.',
        'Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác quốc phòng với Nhật Bản trong những năm tới, đồng thời mở rộng đầu tư vào công nghiệp.',
      ]),
      detector,
    );
    expect(result.language.lang).toBe('vi');
    expect(result.language.confidence).toBeGreaterThan(0.5);
  });

  it('detects each seed article as its labelled language', () => {
    const labels: Record<string, string> = {
      '000_d3c511104db8d652.txt': 'ar',
      '001_50f76b988ce1c267.txt': 'ar',
      '003_fd0c407405ad6b11.txt': 'ar',
      '004_218d8854b8495f3e.txt': 'vi',
    };
    for (const [name, lang] of Object.entries(labels)) {
      const text = readFileSync(path.resolve('input', name), 'utf8');
      const article = removeBoilerplate({ id: name, source: { path: name, bytes: 0, encoding: 'utf-8', sha256: '' }, text });
      expect(detectLanguage(article, detector).language.lang, name).toBe(lang);
    }
  });
});
