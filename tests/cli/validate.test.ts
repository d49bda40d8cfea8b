import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerValidateCommand } from '../../src/cli/validate.js';

/** Runs `newsbridge validate ...args` in process; returns what it printed and the exit code it set. */
async function validate(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const program = new Command('newsbridge').exitOverride();
  registerValidateCommand(program);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = 0;
  try {
    await program.parseAsync(['validate', ...args], { from: 'user' });
  } finally {
    vi.restoreAllMocks();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout, stderr, exitCode };
}

async function configFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'newsbridge-validate-')), 'pipeline.yaml');
  await writeFile(path, text);
  return path;
}

describe('newsbridge validate', () => {
  afterEach(() => {
    process.exitCode = 0;
  });

  it('exits 0 and says the config is valid', async () => {
    const path = await configFile('run:\n  concurrency: 4\n');
    const result = await validate('--config', path);
    expect(result).toEqual({ stdout: `${path}: valid\n`, stderr: '', exitCode: 0 });
  });

  it('prints the effective config with --print', async () => {
    const path = await configFile('summary:\n  sentences: 5\n');
    const { stdout, exitCode } = await validate('--config', path, '--print');
    expect(exitCode).toBe(0);
    const printed = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { summary: { sentences: number; ratio: number } };
    expect(printed.summary).toEqual({ sentences: 5, ratio: 0 });
  });

  it('exits 1 and prints every issue with its position', async () => {
    const path = await configFile('run:\n  concurrency: 0\n  colour: blue\n');
    const { stdout, stderr, exitCode } = await validate('--config', path);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `${path}:2:16: run.concurrency is 0 (a number); accepted: integer from 1 to 64`,
      `${path}:3:3: run.colour is not a known key; accepted: concurrency`,
    ]);
  });

  it('exits 1 when the named file does not exist', async () => {
    const { stderr, exitCode } = await validate('--config', '/nonexistent/pipeline.yaml');
    expect(exitCode).toBe(1);
    expect(stderr).toContain('/nonexistent/pipeline.yaml: cannot be read (not found)');
  });
});
