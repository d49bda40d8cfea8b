import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe("the project's npm configuration (issue 18)", () => {
  it('gives npm no key it does not know, so npm and npx commands print no warning about it', () => {
    // A project .npmrc key such as onnxruntime-node-install made every npm command warn
    // `Unknown project config … will stop working in the next major version of npm`.
    const npm = spawnSync('npm', ['pkg', 'get', 'name'], { encoding: 'utf8' });
    expect(npm.status).toBe(0);
    expect(npm.stdout.trim()).toBe('"newsbridge"');
    expect(npm.stderr).not.toMatch(/unknown (project|user|env) config/i);
  });

  it("skips onnxruntime-node's install script, its CUDA download, through package.json's allowScripts", () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(manifest.allowScripts?.['onnxruntime-node']).toBe(false);
    // The CPU binding ships in the package itself: denying the script loses nothing.
    expect(execFileSync(process.execPath, ['-e', "require('onnxruntime-node'); console.log('loaded')"], { encoding: 'utf8' }).trim()).toBe(
      'loaded',
    );
  });
});
