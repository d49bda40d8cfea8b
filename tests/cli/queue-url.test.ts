import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPostgres, TEST_PASSWORD, type TestPostgres } from '../../tools/postgres.js';
import { runCli } from './cli-run.js';

// A password in the queue URL's query string is used, and never printed.

let server: TestPostgres;
let dir: string;
/** `postgres://postgres@127.0.0.1:<port>/<name>`: the server's URL without its password. */
let withoutPassword: (name: string) => Promise<string>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-queue-url-'));
  server = await startPostgres();
  withoutPassword = async (name) => (await server.database(name)).replace(`:${TEST_PASSWORD}@`, '@');
}, 120_000);
afterAll(async () => {
  await server?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('the queue URL on the terminal', () => {
  it('run --detach connects with ?password= and prints the URL without it', async () => {
    const url = `${await withoutPassword('detach')}?password=${TEST_PASSWORD}`;
    const input = path.join(dir, 'input');
    await mkdir(input);
    await writeFile(path.join(input, 'a.txt'), 'Thủ tướng Nhật Bản cho biết ông muốn tăng cường hợp tác.\n');
    const result = await runCli([
      'run',
      '--queue',
      url,
      '--detach',
      '--input',
      input,
      '--output',
      path.join(dir, 'out'),
      '--models-dir',
      inject('modelsDir'),
    ]);
    expect(result.stderr).toContain(`1 articles on the queue at ${url.replace(TEST_PASSWORD, '***')}: 1 added`);
    expect(result.stderr + result.stdout).not.toContain(TEST_PASSWORD);
    expect(result.code).toBe(0);
  });

  it('status with a wrong ?password=: the error names the server, not the password', async () => {
    const url = `${await withoutPassword('wrong')}?password=wrong-${TEST_PASSWORD}`;
    const result = await runCli(['status', '--queue', url]);
    expect(result.stderr).toContain(`newsbridge status: cannot use the job queue at ${url.replace(`wrong-${TEST_PASSWORD}`, '***')}: `);
    expect(result.stderr).toMatch(/password authentication failed/);
    expect(result.stderr).not.toContain(TEST_PASSWORD);
    expect(result.code).toBe(1);
  });

  it('worker with a key=value string: refused as no URL, its password masked', async () => {
    const result = await runCli(['worker', '--queue', `host=127.0.0.1 password='${TEST_PASSWORD}'`]);
    expect(result.stderr.trim()).toBe(
      'newsbridge worker: queue URL host=127.0.0.1 password=*** is not a URL; give one like postgres://user@host:5432/newsbridge',
    );
    expect(result.code).toBe(1);
  });

  it('validate --print shows queue.url without its password', async () => {
    const config = path.join(dir, 'pipeline.yaml');
    await writeFile(config, `queue:\n  url: postgres://news:${TEST_PASSWORD}@db/nb?sslpassword=${TEST_PASSWORD}\n`);
    const result = await runCli(['validate', '--config', config, '--print']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"url": "postgres://news:***@db/nb?sslpassword=***"');
    expect(result.stdout).not.toContain(TEST_PASSWORD);
  });
});
