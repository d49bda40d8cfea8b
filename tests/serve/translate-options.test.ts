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
