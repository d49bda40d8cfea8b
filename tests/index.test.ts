import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  chooseSummarySentences,
  detectLanguage,
  extractArticle,
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
});
