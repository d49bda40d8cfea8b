import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

/** `newsbridge run` facing hostile configs and paths: a clear message and exit 1, never a stack trace. */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-cli-safety-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('setup errors', () => {
  it('a YAML alias bomb in the config: a positioned message, exit 1', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [previous, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g']]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const config = path.join(scratch, 'bomb.yaml');
    await writeFile(config, `${lines.join('\n')}\n`);
    for (const command of [['run', '--offline'], ['validate']]) {
      const result = await runCli([...command, '--config', config]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/bomb\.yaml:2:\d+: YAML aliases expand to too much data/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
