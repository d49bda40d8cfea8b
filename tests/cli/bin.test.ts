import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// npx links the bin once; a rebuild that dropped the executable bit broke `npx newsbridge` in that clone.
describe('the built CLI', () => {
  it('is executable straight after `npm run build` and answers --help', () => {
    const bin = path.resolve('dist/cli/index.js');
    rmSync(bin, { force: true });
    execFileSync('npm', ['run', '-s', 'build'], { stdio: 'pipe' });
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    expect(execFileSync(bin, ['--help'], { encoding: 'utf8' })).toContain('Usage: newsbridge');
    // dist/cli/ finds package.json as src/cli/ does (tests/cli/version.test.ts runs the source).
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toBe(`${version}\n`);
  });
});
