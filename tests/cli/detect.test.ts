import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectJsonLines } from '../../src/cli/detect.js';
import { LanguageDetector } from '../../src/stages/detect.js';
import { defaultConfig } from '../../src/config/config.js';
import { routedLanguages } from '../../src/languages.js';
import { runCli } from './cli-run.js';

const ROUTED = routedLanguages(defaultConfig.translation.models);
let detector: LanguageDetector;
beforeAll(async () => {
  detector = await LanguageDetector.create(ROUTED);
});

async function detectLines(lines: string[]) {
  const out: string[] = [];
  const warnings: string[] = [];
  const bad = await detectJsonLines(
    detector,
    Readable.from(lines.join('\n')),
    (l) => out.push(l),
    (w) => warnings.push(w),
  );
  return { out: out.map((l) => JSON.parse(l) as { id: unknown; lang: string; confidence: number }), warnings, bad };
}

describe('detectJsonLines', () => {
  it('answers {id, lang, confidence} for each line, in input order', async () => {
    const { out, bad } = await detectLines([
      JSON.stringify({ id: 'a', text: 'قال رئيس الوزراء إنه يريد تعزيز التعاون العسكري مع الحلفاء.' }),
      JSON.stringify({ id: 2, text: 'Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác quốc phòng.' }),
      JSON.stringify({ id: null, text: 'The minister said the talks would resume next week.' }),
    ]);
    expect(bad).toBe(0);
    expect(out.map((r) => [r.id, r.lang])).toEqual([
      ['a', 'ar'],
      [2, 'vi'],
      [null, 'en'],
    ]);
    for (const r of out) expect(r.confidence).toBeGreaterThan(0.5);
  });

  it('reports a bad line with its number and goes on with the next', async () => {
    const { out, warnings, bad } = await detectLines([
      JSON.stringify({ id: 1, text: 'The minister said the talks would resume next week.' }),
      '{not json',
      JSON.stringify({ id: 3 }),
      '',
      JSON.stringify({ id: 5, text: 'Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác.' }),
    ]);
    expect(out.map((r) => r.id)).toEqual([1, 5]);
    expect(bad).toBe(2);
    expect(warnings[0]).toMatch(/^stdin:2: not valid JSON/);
    expect(warnings[1]).toMatch(/^stdin:3: the object needs "text"/);
  });
});

describe('newsbridge detect', () => {
  it('reads JSON lines on stdin and exits 2 when a line was bad', async () => {
    const input = [JSON.stringify({ id: 'x', text: 'The minister said the talks would resume next week.' }), 'oops'].join('\n');
    const result = await runCli(['detect', '--jsonl'], input);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { lang: string }),
    ).toMatchObject([{ id: 'x', lang: 'en' }]);
    expect(result.stderr).toContain('newsbridge detect: stdin:2: not valid JSON');
    expect(result.code).toBe(2);
  });

  it('prints the language and confidence of plain text', async () => {
    const result = await runCli(['detect'], 'Thủ tướng cho biết chính phủ sẽ tăng cường hợp tác quốc phòng với Nhật Bản.\n');
    expect(result.stdout).toMatch(/^vi 0\.\d+\n$/);
    expect(result.code).toBe(0);
  });

  it('has --help', async () => {
    const result = await runCli(['detect', '--help'], '');
    expect(result.stdout).toContain('Usage: newsbridge detect');
    expect(result.stdout).toContain('--jsonl');
  });
});
