import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { languageOf, segmentJsonLines } from '../../src/cli/segment.js';
import { LanguageDetector } from '../../src/stages/detect.js';
import { defaultConfig } from '../../src/config/config.js';
import { routedLanguages } from '../../src/languages.js';
import { runCli } from './cli-run.js';

const ROUTED = routedLanguages(defaultConfig.translation.models);
let detector: LanguageDetector;
beforeAll(async () => {
  detector = await LanguageDetector.create(ROUTED);
});

async function segmentLines(lines: string[], fixed?: string) {
  const out: string[] = [];
  const warnings: string[] = [];
  const bad = await segmentJsonLines(
    languageOf(detector, fixed),
    Readable.from(lines.join('\n')),
    (l) => out.push(l),
    (w) => warnings.push(w),
  );
  return { out: out.map((l) => JSON.parse(l) as { id: unknown; sentences: string[] }), warnings, bad };
}

describe('segmentJsonLines', () => {
  it("answers {id, sentences} for each line, in input order, in each text's own language", async () => {
    const { out, bad } = await segmentLines([
      JSON.stringify({ id: 1, text: 'Ông đến TP. Hồ Chí Minh hôm qua. Ông gặp các quan chức.' }),
      JSON.stringify({ id: 2, text: 'انتهى الاجتماع مساء أمس.وقال المتحدث إن المحادثات ستستمر؟' }),
    ]);
    expect(bad).toBe(0);
    expect(out).toEqual([
      { id: 1, sentences: ['Ông đến TP. Hồ Chí Minh hôm qua.', 'Ông gặp các quan chức.'] },
      { id: 2, sentences: ['انتهى الاجتماع مساء أمس.', 'وقال المتحدث إن المحادثات ستستمر؟'] },
    ]);
  });

  it('reports a bad line with its number and goes on', async () => {
    const { out, warnings, bad } = await segmentLines(['[1, 2]', JSON.stringify({ id: 'b', text: 'One. Two.' })], 'en');
    expect(out).toEqual([{ id: 'b', sentences: ['One.', 'Two.'] }]);
    expect(bad).toBe(1);
    expect(warnings).toEqual(['stdin:1: the object is not a JSON object; expected {"id": …, "text": "…"}']);
  });
});

describe('newsbridge segment', () => {
  it('prints one sentence per line for text on stdin, with --lang', async () => {
    const result = await runCli(['segment', '--lang', 'en'], 'Mr. Smith arrived. He spoke at 2.5 p.m. on Monday.\n');
    expect(result.stdout).toBe('Mr. Smith arrived.\nHe spoke at 2.5 p.m. on Monday.\n');
    expect(result.code).toBe(0);
  });

  it('rejects a malformed --lang with the accepted form', async () => {
    const result = await runCli(['segment', '--lang', 'Arabic'], 'x');
    expect(result.stderr).toContain('--lang is "Arabic"; accepted: a language code such as ar, vi or en');
    expect(result.code).toBe(1);
  });

  it('has --help', async () => {
    const result = await runCli(['segment', '--help'], '');
    expect(result.stdout).toContain('Usage: newsbridge segment');
    expect(result.stdout).toContain('--lang <code>');
  });
});
