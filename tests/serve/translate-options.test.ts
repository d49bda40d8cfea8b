import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { HttpError } from '../../src/serve/errors.js';
import { translateParameters } from '../../src/serve/translate-request.js';
import { type RunningServer, startServer } from './server.js';

// Beam search with 4 beams, so a request may ask for up to 3 alternatives.
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(inject('modelsDir'), { translation: { numBeams: 4 } });
});
afterAll(async () => server?.close());

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/translate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const AR = 'قال الوزير إن الاجتماع سيعقد غدا.';
const VI = 'Bộ trưởng cho biết cuộc họp sẽ diễn ra vào ngày mai.';

test('alternatives: the n-best of beam search after the usual translation, distinct, in the order beam search ranks them', async () => {
  const plain = await post({ q: AR, source: 'ar', target: 'en' });
  expect(plain.json.alternatives).toBeUndefined();
  const translator = await server.engine.services.pool.get('ar');
  const [nBest] = await translator.translate([AR], undefined, { hypotheses: 4 });
  for (const n of [1, 2, 3]) {
    const { status, json } = await post({ q: AR, source: 'ar', target: 'en', alternatives: n });
    expect(status).toBe(200);
    // The first hypothesis is the beam output the plain request (through the memory) got.
    expect(json.translatedText).toBe(plain.json.translatedText);
    const alternatives = json.alternatives as string[];
    expect(alternatives).toEqual(nBest!.alternatives!.slice(0, n));
    expect(new Set([json.translatedText, ...alternatives]).size).toBe(n + 1);
  }
  // As LibreTranslate: no alternatives asked for, none in the answer.
  expect((await post({ q: AR, source: 'ar', target: 'en', alternatives: 0 })).json.alternatives).toBeUndefined();
});

test('alternatives for an array q: a list per item, an untranslated (English) item has none', async () => {
  const { status, json } = await post({ q: [AR, 'Hello there', VI], source: 'auto', target: 'en', alternatives: 2 });
  expect(status).toBe(200);
  const alternatives = json.alternatives as string[][];
  expect(alternatives).toHaveLength(3);
  expect(alternatives[0]).toHaveLength(2);
  expect(alternatives[1]).toEqual([]);
  expect(alternatives[2]).toHaveLength(2);
});

test('over the limit: 400 with the limit, and with the beam width when that is what limits it', async () => {
  expect(await post({ q: AR, source: 'ar', target: 'en', alternatives: 4 })).toEqual({
    status: 400,
    json: { error: 'Invalid request: alternatives parameter must be <= 3' },
  });
  expect((await post({ q: AR, source: 'ar', target: 'en', alternatives: 'two' })).status).toBe(400);
  const limits = { charLimit: 100, batchLimit: 10, numBeams: 2 };
  expect(() => translateParameters({ q: AR, source: 'ar', target: 'en', alternatives: 2 }, limits)).toThrow(
    new HttpError(400, 'Invalid request: alternatives parameter must be <= 1 (beam search keeps translation.numBeams 2 hypotheses)'),
  );
});

// The tiny models' random weights never write "Fumio Kishida" by chance: in the English, the glossary put it there.
const KISHIDA = 'Thủ tướng Kishida Fumio nói với Nhà Trắng.';

test('glossary: a TSV glossary in the request puts its English term in the output, plain and with alternatives', async () => {
  const plain = await post({ q: KISHIDA, source: 'vi', target: 'en' });
  expect(plain.json.translatedText).not.toContain('Fumio Kishida');
  const glossary = 'Kishida Fumio\tFumio Kishida\n';
  const { status, json } = await post({ q: [KISHIDA, VI], source: 'vi', target: 'en', glossary });
  expect(status).toBe(200);
  expect((json.translatedText as string[])[0]).toContain('Fumio Kishida');
  const withAlternatives = await post({
    q: KISHIDA,
    source: 'vi',
    target: 'en',
    glossary: `source,target\n"Kishida Fumio",Fumio Kishida\n`,
    alternatives: 2,
  });
  expect(withAlternatives.json.translatedText).toContain('Fumio Kishida');
  for (const alternative of withAlternatives.json.alternatives as string[]) expect(alternative).toContain('Fumio Kishida');
  // The next request without one is translated as before: a request's glossary is its own.
  expect((await post({ q: KISHIDA, source: 'vi', target: 'en' })).json.translatedText).toBe(plain.json.translatedText);
});

test('glossary: an unusable one is a 400 naming the problem and its row', async () => {
  const bad = async (glossary: unknown) => (await post({ q: KISHIDA, source: 'vi', target: 'en', glossary })).json;
  expect(await bad('Kishida Fumio\tFumio Kishida\nNhà Trắng\n')).toEqual({
    error: 'Invalid request: glossary:2: a row needs a source term and an English term',
  });
  expect(await bad('a\tb\tcase-blind\n')).toEqual({
    error: 'Invalid request: glossary:1: unknown option "case-blind"; the third column may only be "ignore-case"',
  });
  expect(await bad(['Kishida Fumio', 'Fumio Kishida'])).toEqual({
    error: 'Invalid request: glossary parameter must be a string (TSV or CSV rows: source term, English term)',
  });
  expect(await bad(Array.from({ length: 1001 }, (_, i) => `t${i}\tT${i}`).join('\n'))).toEqual({
    error: 'Invalid request: glossary (1001 rows) exceeds the limit (1000)',
  });
  expect(await bad('x'.repeat(100_001))).toEqual({ error: 'Invalid request: glossary (100001 characters) exceeds the limit (100000)' });
});
