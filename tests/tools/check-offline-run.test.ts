import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { offlineRunProblems } from '../../tools/check-offline-run.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'newsbridge-offline-run-'));
  await mkdir(path.join(root, 'input'));
  await mkdir(path.join(root, 'models'));
  for (const sample of ['000_d3c511104db8d652.txt', '004_218d8854b8495f3e.txt']) {
    await copyFile(path.resolve('input', sample), path.join(root, 'input', sample));
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A run on `root/input` with an empty models folder and no downloads, as CI's sample run has. */
async function runWithoutModels(outputDir: string): Promise<string> {
  const config: PipelineConfig = {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/*.txt`] },
    output: { ...defaultConfig.output, dir: path.join(root, outputDir) },
    translation: { ...defaultConfig.translation, modelsDir: path.join(root, 'models'), download: false },
    cache: { ...defaultConfig.cache, enabled: false },
  };
  await runPipeline({ config });
  return config.output.dir;
}

describe('offlineRunProblems', () => {
  it('passes a run whose every article is partial / model-unavailable', async () => {
    expect(await offlineRunProblems(await runWithoutModels('all-partial'))).toEqual([]);
  });

  it('names an article that failed for another reason, though the run exits 2 all the same', async () => {
    await writeFile(path.join(root, 'input', 'zz-empty.txt'), '');
    const outputDir = await runWithoutModels('one-failed');
    await rm(path.join(root, 'input', 'zz-empty.txt'));
    expect(await offlineRunProblems(outputDir)).toEqual([
      `${path.join(outputDir, 'run-report.json')}: reasons {"empty":1,"model-unavailable":2}, expected {"model-unavailable":3}`,
      expect.stringMatching(
        /manifest\.jsonl: zz-empty \(.*zz-empty\.txt\) is failed \/ empty, no outputs written, expected partial \/ model-unavailable$/,
      ),
    ]);
  });

  it('names skipped articles: a rerun over an old output folder is not the run CI means to check', async () => {
    const outputDir = await runWithoutModels('rerun');
    await runWithoutModels('rerun');
    const problems = await offlineRunProblems(outputDir);
    expect(problems).toContain(`${path.join(outputDir, 'run-report.json')}: reasons {"up-to-date":2}, expected {"model-unavailable":2}`);
    expect(problems.filter((problem) => problem.includes('is skipped / up-to-date'))).toHaveLength(2);
  });
});
