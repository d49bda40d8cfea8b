import { translate as libreTranslate } from 'libretranslate';
import translate from 'translate';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { type RunningServer, startServer } from './server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer(inject('modelsDir'), { keys: ['good-key'] });
});
afterAll(async () => server?.close());

async function post(path: string, body: unknown, type = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('the npm libretranslate client and the translate package (engine libre) get English from the server', async () => {
  const english = await libreTranslate({ query: 'مرحبا بالعالم', source: 'ar', target: 'en', apiurl: server.url });
  expect(typeof english).toBe('string');
  expect(english.length).toBeGreaterThan(0);
  // The package's own way to reach a self-hosted LibreTranslate: an instance with engine and url.
  const libre = (translate as unknown as { Translate: (o: object) => typeof translate }).Translate({
    engine: 'libre',
    url: `${server.url}/translate`,
  });
  const viaTranslate = await libre('Xin chào thế giới', { from: 'vi', to: 'en' });
  expect(viaTranslate.length).toBeGreaterThan(0);
});

test("Mastodon's request: array q, source auto, format html, then GET /languages; detection per item, markup kept", async () => {
  const q = ['<p>مرحبا <b>بالعالم</b></p>', '<p class="notranslate">Xin chào</p><p>Xin chào thế giới, hôm nay trời đẹp quá</p>'];
  const { status, json } = await post('/translate', { q, source: 'auto', target: 'en', format: 'html', api_key: 'good-key' });
  expect(status).toBe(200);
  const texts = json.translatedText as string[];
  expect(texts).toHaveLength(2);
  expect(texts[0]).toMatch(/^<p>.*<b>.*<\/b><\/p>$/s);
  expect(texts[1]).toContain('<p class="notranslate">Xin chào</p>');
  expect((json.detectedLanguage as { language: string }[]).map((d) => d.language)).toEqual(['ar', 'vi']);
  const languages = (await (await fetch(`${server.url}/languages`)).json()) as { code: string; targets: string[] }[];
  expect(languages.map((l) => l.code)).toEqual(['ar', 'vi', 'en']);
});

test('HTML input never becomes new markup: script, on* and javascript: come back exactly as sent, translations escaped', async () => {
  const html = '<a href="javascript:alert(1)" onclick="x()">مرحبا</a><script>alert("بالعالم")</script>&lt;b&gt;';
  const { json } = await post('/translate', { q: html, source: 'ar', target: 'en', format: 'html' });
  const out = json.translatedText as string;
  expect(out).toContain('<a href="javascript:alert(1)" onclick="x()">');
  expect(out).toContain('<script>alert("بالعالم")</script>');
  expect(out.match(/</g)?.length).toBe(html.match(/</g)?.length);
});

test('hostile and wrong requests get their documented status and the server stays up', async () => {
  expect((await post('/translate', '{bad', 'application/json')).status).toBe(400);
  expect((await post('/translate', { q: 5, source: 'ar', target: 'en' })).status).toBe(400);
  expect((await post('/translate', { q: 'x', source: 'fr', target: 'en' })).json).toEqual({ error: 'fr is not supported' });
  expect((await post('/translate', { source: 'ar', target: 'en' })).json).toEqual({ error: 'Invalid request: missing q parameter' });
  expect((await post('/translate', { q: Array(10_000).fill('x'), source: 'ar', target: 'en' })).status).toBe(400);
  expect((await post('/translate', { q: 'x', source: 'ar', target: 'en', api_key: 'wrong' })).json).toEqual({ error: 'Invalid API key' });
  const big = await fetch(`${server.url}/translate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: 'a'.repeat(50_000_000),
  }).catch(() => null);
  if (big) expect(big.status).toBe(413);
  expect((await (await fetch(`${server.url}/health`)).json()).status).toBe('ok');
});

test('POST /v1/articles answers the article record; ?format=html the bilingual page', async () => {
  const { status, json } = await post('/v1/articles', { text: 'عنوان الخبر\nهذه فقرة أولى من المقال. وهذه جملة ثانية.' });
  expect(status).toBe(200);
  expect(json.schemaVersion).toBe(1);
  expect((json.language as { lang: string }).lang).toBe('ar');
  const page = await fetch(`${server.url}/v1/articles?format=html`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'هذه فقرة أولى من المقال.',
  });
  expect(await page.text()).toMatch(/^<!doctype html>/);
});
