import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listModels, modelDirOf, modelFiles } from '../../src/models/layout.js';
import { MANIFEST_FILE, readManifest } from '../../src/models/manifest.js';
import { pullModel, type PullOptions, type PullProgress } from '../../src/models/pull.js';
import { assertModelReady, verifyError, verifyModel } from '../../src/models/verify.js';
import { plausibleModelFile, startHub, type FakeHub } from '../helpers/hub.js';
import { ModelDownloadError, ModelUnavailableError } from '../../src/errors.js';

const ID = 'Xenova/opus-mt-ar-en';
const REVISION = 'main';
const ENCODER = 'onnx/encoder_model_quantized.onnx';
const label = { name: `${ID} (ar)`, fix: 'run `newsbridge models pull --only ar`' };

/** Stand-in files: not a model, but JSON where JSON is due and a protobuf where ONNX is. */
const contents = new Map(modelFiles('q8').map((file, i) => [file, plausibleModelFile(file, 20_000 + i * 1000)]));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let hub: FakeHub;
let modelsDir: string;
const modelDir = () => path.join(modelsDir, 'Xenova', 'opus-mt-ar-en');
// Retries wait 1–2 ms, doubling: the tests that are about the waits set their own.
const pull = (extra: Partial<PullOptions> = {}) =>
  pullModel({ id: ID, revision: REVISION, modelsDir, dtype: 'q8', mirror: hub.url, retryDelayMs: 1, ...extra });

beforeAll(async () => {
  hub = await startHub(new Map([...contents].map(([file, bytes]) => [`/${ID}/resolve/${REVISION}/${file}`, bytes])));
});
afterAll(() => hub.close());
beforeEach(async () => {
  modelsDir = await mkdtemp(path.join(tmpdir(), 'newsbridge-models-'));
  hub.requests.length = 0;
  hub.ignoreRange = false;
  hub.clearFaults();
  hub.apiRequests.length = 0;
});
afterEach(() => rm(modelsDir, { recursive: true, force: true }));

describe('pullModel', () => {
  it('downloads the files the dtype needs in the hub layout and writes a manifest of sizes and hashes', async () => {
    const seen: PullProgress[] = [];
    const manifest = await pull({ onProgress: (p) => seen.push({ ...p }) });

    expect(hub.requests.map((r) => r.path).sort()).toEqual(
      modelFiles('q8')
        .map((file) => `/${ID}/resolve/main/${file}`)
        .sort(),
    );
    for (const [file, bytes] of contents) {
      expect(await readFile(path.join(modelDir(), file))).toEqual(bytes);
      expect(manifest.files[file]).toEqual({ bytes: bytes.length, sha256: sha256(bytes) });
    }
    expect(await readManifest(modelDir())).toMatchObject({ id: ID, revision: REVISION, source: hub.url });
    const encoderDone = seen.find((p) => p.file === ENCODER && p.state === 'done');
    expect(encoderDone).toEqual({
      file: ENCODER,
      bytesDone: contents.get(ENCODER)!.length,
      bytesTotal: contents.get(ENCODER)!.length,
      state: 'done',
    });
    await expect(assertModelReady(modelDir(), 'q8', label)).resolves.toBeUndefined();
  });

  it('keeps a partial download under .part, never under the final name, and resumes it with a Range request', async () => {
    const encoder = contents.get(ENCODER)!;
    hub.cutNextResponse(`/${ID}/resolve/main/${ENCODER}`, 5000);
    const error = await pull({ attempts: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as Error).message).toMatch(/interrupted|stopped at/);
    expect((error as Error).message).toContain('run the pull again to resume');
    expect((await stat(path.join(modelDir(), `${ENCODER}.part`))).size).toBe(5000);
    await expect(stat(path.join(modelDir(), ENCODER))).rejects.toThrow();
    await expect(assertModelReady(modelDir(), 'q8', label)).rejects.toThrow(ModelUnavailableError);

    hub.requests.length = 0;
    await pull();
    expect(hub.requests.find((r) => r.path.endsWith(ENCODER))?.range).toBe('bytes=5000-');
    expect(await readFile(path.join(modelDir(), ENCODER))).toEqual(encoder);
    await expect(stat(path.join(modelDir(), `${ENCODER}.part`))).rejects.toThrow();
    expect((await verifyModel(modelDir())).problems).toEqual([]);
  });

  it('retries an interrupted file within one pull, resuming where it stopped', async () => {
    hub.cutNextResponse(`/${ID}/resolve/main/${ENCODER}`, 7000);
    await pull();
    const encoderRequests = hub.requests.filter((r) => r.path.endsWith(ENCODER));
    expect(encoderRequests.map((r) => r.range)).toEqual([undefined, 'bytes=7000-']);
    expect(await readFile(path.join(modelDir(), ENCODER))).toEqual(contents.get(ENCODER));
  });

  it('starts over when the server answers a resume request with the whole file (200 instead of 206)', async () => {
    hub.cutNextResponse(`/${ID}/resolve/main/${ENCODER}`, 3000);
    await pull({ attempts: 1 }).catch(() => undefined);
    hub.ignoreRange = true;
    await pull();
    expect(await readFile(path.join(modelDir(), ENCODER))).toEqual(contents.get(ENCODER));
  });

  it('does not download again files that are present with the manifest hash', async () => {
    await pull();
    hub.requests.length = 0;
    const seen: PullProgress[] = [];
    await pull({ onProgress: (p) => seen.push(p) });
    expect(hub.requests).toEqual([]);
    expect(seen.map((p) => p.file).sort()).toEqual(modelFiles('q8').sort());
    expect(seen.every((p) => p.state === 'verified')).toBe(true);
  });

  it('replaces a file whose hash no longer matches the manifest', async () => {
    await pull();
    await writeFile(path.join(modelDir(), ENCODER), randomBytes(contents.get(ENCODER)!.length));
    hub.requests.length = 0;
    await pull();
    expect(hub.requests.map((r) => r.path)).toEqual([`/${ID}/resolve/main/${ENCODER}`]);
    expect(await readFile(path.join(modelDir(), ENCODER))).toEqual(contents.get(ENCODER));
  });

  it('names the URL and the fix when the hub has no such model (404)', async () => {
    const error = await pullModel({ id: 'Xenova/opus-mt-xx-en', revision: 'main', modelsDir, dtype: 'q8', mirror: hub.url }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).status).toBe(404);
    expect((error as Error).message).toBe(
      `${hub.url}/Xenova/opus-mt-xx-en/resolve/main/config.json answered 404 Not Found: ` +
        'check the model id and revision in pipeline.yaml (translation.models) and the mirror URL',
    );
    expect(hub.requests).toHaveLength(1);
  });
});

describe('verifyModel', () => {
  it('names the file whose bytes changed', async () => {
    await pull();
    const bytes = await readFile(path.join(modelDir(), ENCODER));
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(path.join(modelDir(), ENCODER), bytes);

    const report = await verifyModel(modelDir());
    expect(report.checked.sort()).toEqual(modelFiles('q8').sort());
    expect(report.problems).toEqual([
      { file: ENCODER, problem: 'sha256', detail: `has sha256 ${sha256(bytes)}, the manifest says ${sha256(contents.get(ENCODER)!)}` },
    ]);
    expect(verifyError(report, label)?.message).toBe(
      `model ${ID} (ar) is unavailable: ${path.join(modelDir(), ENCODER)} has sha256 ${sha256(bytes)}, ` +
        `the manifest says ${sha256(contents.get(ENCODER)!)}. Fix: run \`newsbridge models pull --only ar\``,
    );
  });

  it('reports a model without a manifest as unverifiable', async () => {
    const report = await verifyModel(modelDir());
    expect(report.manifest).toBeNull();
    expect(verifyError(report, label)?.message).toContain(`${path.join(modelDir(), MANIFEST_FILE)} is missing`);
  });
});

describe('assertModelReady', () => {
  it('names the model, where it was looked for and the fix when it is not installed', async () => {
    const error = await assertModelReady(modelDir(), 'q8', label).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toBe(
      `model ${ID} (ar) is unavailable: ${modelDir()}${path.sep} does not exist (the model is not installed). ` +
        'Fix: run `newsbridge models pull --only ar`',
    );
  });

  it('names the full path of a missing file', async () => {
    await pull();
    await rm(path.join(modelDir(), 'tokenizer.json'));
    const error = (await assertModelReady(modelDir(), 'q8', label).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.file).toBe('tokenizer.json');
    expect(error.message).toBe(
      `model ${ID} (ar) is unavailable: ${path.join(modelDir(), 'tokenizer.json')} is missing. ` +
        'Fix: run `newsbridge models pull --only ar`',
    );
  });

  it('catches a truncated file by its size in the manifest', async () => {
    await pull();
    await writeFile(path.join(modelDir(), ENCODER), contents.get(ENCODER)!.subarray(0, 10));
    const error = (await assertModelReady(modelDir(), 'q8', label).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.file).toBe(ENCODER);
    expect(error.message).toContain(`is corrupt (10 bytes, the manifest says ${contents.get(ENCODER)!.length})`);
  });

  it('requires the fp32 files for fp32', async () => {
    await pull();
    const error = (await assertModelReady(modelDir(), 'fp32', label).catch((e: unknown) => e)) as ModelUnavailableError;
    expect(error.file).toBe('onnx/encoder_model.onnx');
  });
});

describe('listModels', () => {
  it('lists installed models with the dtypes whose files are all present', async () => {
    await pull();
    const models = await listModels(modelsDir);
    expect(models.map((m) => ({ id: m.id, dtypes: m.dtypes, revision: m.manifest?.revision }))).toEqual([
      { id: ID, dtypes: ['q8'], revision: 'main' },
    ]);
  });
});

describe('model ids that would leave the models folder', () => {
  it('modelDirOf refuses them and pullModel writes nothing outside', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'newsbridge-escape-'));
    const models = path.join(root, 'a', 'b', 'models');
    expect(modelDirOf(models, 'Xenova/opus-mt-ar-en')).toBe(path.join(models, 'Xenova', 'opus-mt-ar-en'));
    for (const id of ['../../somewhere', '../../../etc', 'x/../../..', '.', '']) {
      expect(() => modelDirOf(models, id)).toThrow(/is not a hub id .*would not stay inside the models folder/);
    }
    await expect(pullModel({ id: '../../somewhere', revision: REVISION, modelsDir: models, dtype: 'q8', mirror: hub.url })).rejects.toThrow(
      /would not stay inside the models folder/,
    );
    expect(await stat(path.join(root, 'a', 'somewhere')).catch(() => null)).toBeNull();
    expect(await stat(path.join(root, 'somewhere')).catch(() => null)).toBeNull();
  });
});

describe('pullModel from a slow or stuck mirror', () => {
  const encoderPath = `/${ID}/resolve/${REVISION}/${ENCODER}`;
  const requestsFor = (file: string) => hub.requests.filter((request) => request.path === file).length;

  it('drops a download that stops sending, keeps what arrived to resume from, and retries it', async () => {
    hub.stallAfter(encoderPath, 100);
    const error = await pull({ attempts: 2, stallMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelDownloadError);
    // The retry resumed from the 100 bytes of the first attempt and got 100 more before it stalled too.
    expect((error as ModelDownloadError).message).toMatch(/stalled: no data for 0\.3 s after 200 bytes; run the pull again to resume/);
    expect(hub.requests.filter((request) => request.path === encoderPath).map((request) => request.range)).toEqual([
      undefined,
      'bytes=100-',
    ]);
    expect((await stat(path.join(modelDir(), `${ENCODER}.part`))).size).toBe(200);
  });

  it('gives up on a file at its deadline when bytes only trickle in, without retrying', async () => {
    hub.trickle(encoderPath, 20);
    const error = await pull({ attempts: 3, stallMs: 5000, fileDeadlineMs: 400 }).catch((caught: unknown) => caught);
    expect((error as ModelDownloadError).message).toMatch(/did not finish in time \(\d+ bytes so far\); the mirror is too slow/);
    expect(requestsFor(encoderPath)).toBe(1);
  });

  it('stops at once when the caller aborts (SIGINT/SIGTERM), keeping the partial file', async () => {
    hub.trickle(encoderPath, 20);
    const stop = new AbortController();
    const pulling = pull({ signal: stop.signal, onProgress: (p) => void (p.file === ENCODER && p.bytesDone >= 3 && stop.abort()) });
    const error = await pulling.catch((caught: unknown) => caught);
    expect((error as ModelDownloadError).message).toMatch(
      /download of .*encoder_model_quantized\.onnx was stopped after \d+ bytes; run the pull again to resume/,
    );
    expect(requestsFor(encoderPath)).toBe(1);
  });
});

describe('pullModel against what the hub publishes', () => {
  const path_ = (file: string) => `/${ID}/resolve/${REVISION}/${file}`;

  it('refuses an ONNX file with flipped bytes (sha256 from the hub API), installing nothing under its name', async () => {
    hub.corrupt(path_(ENCODER));
    const error = await pull({ attempts: 1 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /encoder_model_quantized\.onnx sent a file that has sha256 [0-9a-f]{64} where the hub publishes [0-9a-f]{64}; it was discarded, not installed/,
    );
    expect(hub.apiRequests).toEqual([`/api/models/${ID}/revision/${REVISION}`]);
    expect(await stat(path.join(modelDir(), ENCODER)).catch(() => null)).toBeNull();
    expect(await stat(path.join(modelDir(), `${ENCODER}.part`)).catch(() => null)).toBeNull();
  });

  it('refuses flipped bytes from a mirror without the API, by the X-Linked-Etag of the resolve response', async () => {
    hub.corrupt(path_(ENCODER));
    hub.publishApi = false;
    const error = await pull({ attempts: 1 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /encoder_model_quantized\.onnx sent a file that has sha256 [0-9a-f]{64} where the hub publishes [0-9a-f]{64}/,
    );
  });

  for (const file of ['config.json', ENCODER]) {
    it(`refuses an HTML error page served with 200 as ${file}, from a mirror that publishes nothing`, async () => {
      hub.publishApi = false;
      hub.publishHeaders = false;
      hub.serveHtml(path_(file));
      const error = await pull({ attempts: 1 }).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(
        file.endsWith('.json')
          ? /config\.json sent a file that is not valid JSON .*it starts "<!DOCTYPE html>/
          : /sent a file that is not an ONNX model \(invalid wire type/,
      );
      expect(await stat(path.join(modelDir(), file)).catch(() => null)).toBeNull();
    });
  }

  it('replaces on the next pull a bad file an earlier pull recorded in the manifest, and verify names it', async () => {
    await pull();
    const page = Buffer.from('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>');
    await writeFile(path.join(modelDir(), ENCODER), page);
    const manifest = (await readManifest(modelDir()))!;
    manifest.files[ENCODER] = { bytes: page.length, sha256: sha256(page) };
    await writeFile(path.join(modelDir(), MANIFEST_FILE), JSON.stringify(manifest));

    const report = await verifyModel(modelDir());
    expect(report.problems).toEqual([
      { file: ENCODER, problem: 'format', detail: expect.stringMatching(/is not an ONNX model .*run `newsbridge models pull`/) },
    ]);

    hub.requests.length = 0;
    await pull();
    expect(hub.requests.map((request) => request.path)).toEqual([path_(ENCODER)]);
    expect(sha256(await readFile(path.join(modelDir(), ENCODER)))).toBe(sha256(contents.get(ENCODER)!));
    expect((await verifyModel(modelDir())).problems).toEqual([]);
  });
});

describe('pullModel when the hub API answers something other than a file list', () => {
  const API = `/api/models/${ID}/revision/${REVISION}`;
  const listUrl = () => `${hub.url}${API}?blobs=true`;
  const refused = async (extra: Partial<PullOptions> = {}) => {
    const error = await pull(extra).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelDownloadError);
    // Nothing was downloaded without the published hashes to check it against.
    expect(hub.requests).toEqual([]);
    expect(await stat(modelDir()).then((s) => s.isDirectory())).toBe(true);
    expect(await readManifest(modelDir())).toBeNull();
    return (error as Error).message;
  };

  it('fails naming the model and the URL when the list is not JSON (a proxy page with 200)', async () => {
    hub.answerNext(API, [{ status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html>502</html>' }]);
    const message = await refused();
    expect(message).toContain(`the hub's file list of ${ID}@${REVISION} (${listUrl()}) is not JSON (`);
    expect(message).toContain(
      `; it starts "<!DOCTYPE html><html>502</html>"); without it the files cannot be checked against the sha256 the hub publishes, so none was downloaded. ` +
        'Fix: the mirror does not serve the hub API correctly: use another --mirror',
    );
  });

  for (const [shape, body, where] of [
    ['no siblings', { id: ID }, 'siblings'],
    ['an LFS entry without a sha256', { siblings: [{ rfilename: ENCODER, size: 10, lfs: { size: 10 } }] }, 'siblings.0.lfs.sha256'],
    ['a size that is a string', { siblings: [{ rfilename: 'config.json', size: '10' }] }, 'siblings.0.size'],
  ] as const) {
    it(`fails naming the field when the list has ${shape}`, async () => {
      hub.answerNext(API, [{ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }]);
      const message = await refused();
      expect(message).toContain(
        `the hub's file list of ${ID}@${REVISION} (${listUrl()}) is not a list of the revision's files (${where}: `,
      );
      expect(message).toContain('Fix: the mirror does not serve the hub API correctly');
    });
  }

  it('retries a 5xx, then fails naming the status when it persists', async () => {
    hub.answerNext(API, [{ status: 500 }, { status: 502 }, { status: 503 }]);
    const message = await refused({ attempts: 3 });
    expect(hub.apiRequests).toHaveLength(3);
    expect(message).toMatch(
      /^the hub's file list of .* answered 503 Service Unavailable; .*Fix: run the pull again later, or use another --mirror$/,
    );
  });

  it('pulls with the hashes checked when a 5xx passes within the attempts', async () => {
    hub.answerNext(API, [{ status: 503 }]);
    hub.corrupt(`/${ID}/resolve/${REVISION}/${ENCODER}`);
    hub.publishHeaders = false;
    // The only sha256 left is the API's: the retried list must be what catches the flipped bytes.
    const error = await pull({ attempts: 2 }).catch((caught: unknown) => caught);
    expect(hub.apiRequests).toHaveLength(2);
    expect((error as Error).message).toMatch(
      /encoder_model_quantized\.onnx sent a file that has sha256 [0-9a-f]{64} where the hub publishes [0-9a-f]{64}/,
    );
  });

  it('does not retry a 4xx other than 404 and 429, and fails', async () => {
    hub.answerNext(API, [{ status: 403 }]);
    const message = await refused({ attempts: 3 });
    expect(hub.apiRequests).toHaveLength(1);
    expect(message).toContain(`(${listUrl()}) answered 403 Forbidden; `);
  });

  it('fails on a network error after the retries', async () => {
    hub.answerNext(API, ['reset', 'reset']);
    const message = await refused({ attempts: 2 });
    expect(hub.apiRequests).toHaveLength(2);
    expect(message).toMatch(/^the hub's file list of .* could not be reached \(.*\); .*Fix: check the network and the mirror URL/);
  });

  it('falls back to the resolve headers only when the list is not published (404)', async () => {
    hub.answerNext(API, [{ status: 404, body: '{"error":"Repository not found"}' }]);
    await pull();
    expect(hub.apiRequests).toHaveLength(1);
    expect((await verifyModel(modelDir())).problems).toEqual([]);
  });

  it('refuses a mirror URL with credentials, never printing them', async () => {
    const mirror = hub.url.replace('http://', 'http://reader:hf_secret@');
    const error = await pull({ mirror }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      `the mirror URL ${hub.url}/ (credentials hidden) carries a user name or password in it, which newsbridge does not send; give the mirror URL without them`,
    );
    expect(hub.apiRequests).toEqual([]);
  });
});

describe('pullModel retries with backoff', () => {
  const CONFIG = `/${ID}/resolve/${REVISION}/config.json`;
  const gaps = (file: string) => {
    const times = hub.requests.filter((request) => request.path === file).map((request) => request.at);
    return times.slice(1).map((at, i) => at - times[i]!);
  };
  // Timers and Date.now() count whole milliseconds.
  const CLOCK_SLACK_MS = 2;

  it('honours Retry-After in seconds and as an HTTP date on 503 and 429, well beyond the backoff', async () => {
    // Whole seconds only, so the date is 1 to 2 s ahead.
    const date = new Date(Date.now() + 2000).toUTCString();
    hub.answerNext(CONFIG, [
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': date } },
    ]);
    const retryDelayMs = 20;
    await pull({ retryDelayMs, attempts: 3 });
    const requests = hub.requests.filter((request) => request.path === CONFIG);
    expect(requests).toHaveLength(3);
    // The backoff alone waits at most 2 × 20 ms, then 4 × 20 ms: these waits are Retry-After's.
    expect(gaps(CONFIG)[0]).toBeGreaterThanOrEqual(1000 + retryDelayMs - CLOCK_SLACK_MS);
    expect(requests[2]!.at).toBeGreaterThanOrEqual(Date.parse(date) - CLOCK_SLACK_MS);
    expect(await readFile(path.join(modelDir(), 'config.json'))).toEqual(contents.get('config.json'));
  });

  it('backs off exponentially on 5xx without Retry-After', async () => {
    hub.answerNext(CONFIG, [{ status: 500 }, { status: 502 }, { status: 503 }]);
    const retryDelayMs = 50;
    await pull({ retryDelayMs, attempts: 4 });
    const waits = gaps(CONFIG);
    expect(waits).toHaveLength(3);
    for (const [i, wait] of waits.entries()) expect(wait).toBeGreaterThanOrEqual(retryDelayMs * 2 ** i - CLOCK_SLACK_MS);
  });

  it('retries a connection dropped before any answer', async () => {
    hub.answerNext(CONFIG, ['reset']);
    await pull();
    expect(gaps(CONFIG)).toHaveLength(1);
    expect(await readFile(path.join(modelDir(), 'config.json'))).toEqual(contents.get('config.json'));
  });

  it('never retries a 4xx other than 429', async () => {
    hub.answerNext(CONFIG, [{ status: 403 }]);
    const error = await pull({ attempts: 3 }).catch((caught: unknown) => caught);
    expect((error as ModelDownloadError).status).toBe(403);
    expect(hub.requests.filter((request) => request.path === CONFIG)).toHaveLength(1);
  });

  it('fails at once when Retry-After asks for a wait past the file deadline', async () => {
    hub.answerNext(CONFIG, [{ status: 503, headers: { 'retry-after': '3600' } }]);
    const error = await pull({ attempts: 3, fileDeadlineMs: 60_000 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /answered 503 Service Unavailable: .*; it asks to be retried in 3600 s, past the deadline \(translation\.downloadFileSeconds\)/,
    );
    expect(hub.requests.filter((request) => request.path === CONFIG)).toHaveLength(1);
  });

  it('stops at once when the caller aborts during a Retry-After wait', async () => {
    hub.answerNext(CONFIG, [{ status: 503, headers: { 'retry-after': '3000' } }]);
    const stop = new AbortController();
    const waiting = setInterval(() => hub.requests.length > 0 && stop.abort(), 5);
    try {
      const error = await pull({ attempts: 3, fileDeadlineMs: 2 * 3600_000, signal: stop.signal }).catch((caught: unknown) => caught);
      expect((error as ModelDownloadError).cutoff).toBe('stopped');
      // The abort comes once the hub has seen the request; the client is then reading the 503 or already
      // waiting out its Retry-After of 3,000 s. Either way it stops at once, without a second request.
      expect((error as Error).message).toMatch(
        new RegExp(`^download of ${hub.url}${CONFIG} was stopped( after 0 bytes)?; run the pull again to resume$`),
      );
      expect(hub.requests.filter((request) => request.path === CONFIG)).toHaveLength(1);
    } finally {
      clearInterval(waiting);
    }
  });
});
