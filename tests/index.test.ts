import { Command } from 'commander';
import fg from 'fast-glob';
import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  buildServer,
  chooseSummarySentences,
  convertCheckpoint,
  detectLanguage,
  extractArticle,
  fetchFeeds,
  LanguageDetector,
  listModels,
  loadConfig,
  pullModel,
  readArticleFile,
  removeBoilerplate,
  renderRunSummary,
  routedLanguages,
  runOnQueue,
  runPipeline,
  runWorker,
  segmentSentences,
  ServeEngine,
  splitSentences,
  summarizeArticle,
  translateArticle,
  TranslationMemory,
  Translator,
  TranslatorPool,
  verifyModel,
} from '../src/index.js';

describe('the package (src/index.ts)', () => {
  it("exports what the CLI's commands are built on, the queue runner and worker included", () => {
    const cliBuildingBlocks = [
      loadConfig,
      applyOverrides,
      runPipeline,
      renderRunSummary,
      runOnQueue,
      runWorker,
      readArticleFile,
      extractArticle,
      removeBoilerplate,
      LanguageDetector,
      routedLanguages,
      detectLanguage,
      splitSentences,
      segmentSentences,
      Translator,
      TranslatorPool,
      translateArticle,
      chooseSummarySentences,
      summarizeArticle,
      TranslationMemory,
      pullModel,
      verifyModel,
      listModels,
    ];
    for (const exported of cliBuildingBlocks) expect(exported).toBeTypeOf('function');
  });

  it('has a counterpart for every command of the CLI but status and queue retry-failed (docs/library.md)', async () => {
    const counterparts: Record<string, unknown> = {
      run: runPipeline,
      worker: runWorker,
      extract: extractArticle,
      detect: detectLanguage,
      segment: segmentSentences,
      translate: Translator,
      summarize: summarizeArticle,
      validate: loadConfig,
      'cache stats': TranslationMemory,
      'cache clear': TranslationMemory,
      'models pull': pullModel,
      'models verify': verifyModel,
      'models list': listModels,
      'models convert': convertCheckpoint,
      fetch: fetchFeeds,
      serve: ServeEngine,
    };
    // They read pg-boss's tables, which the library does not expose.
    const withoutCounterpart = ['status', 'queue retry-failed'];
    // Every command the CLI registers (each src/cli file's register…Command), so a new one without a counterpart fails here.
    const program = new Command();
    for (const file of await fg('src/cli/*.ts', { ignore: ['src/cli/index.ts'], absolute: true })) {
      for (const [name, register] of Object.entries(await import(file))) {
        if (/^register\w+Command$/.test(name)) (register as (program: Command) => void)(program);
      }
    }
    const leaves = (command: Command, prefix: string): string[] =>
      command.commands.length === 0 ? [prefix] : command.commands.flatMap((sub) => leaves(sub, `${prefix} ${sub.name()}`.trim()));
    expect(leaves(program, '').sort()).toEqual([...Object.keys(counterparts), ...withoutCounterpart].sort());
    for (const exported of [...Object.values(counterparts), buildServer]) expect(exported).toBeTypeOf('function');
  });
});
