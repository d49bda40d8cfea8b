#!/usr/bin/env node
import { Command } from 'commander';
import { registerCacheCommand } from './cache.js';
import { registerModelsCommand } from './models.js';
import { registerRunCommand } from './run.js';
import { registerTranslateCommand } from './translate.js';
import { registerValidateCommand } from './validate.js';
import { registerSummarizeCommand } from './summarize.js';
import { registerDetectCommand } from './detect.js';
import { registerSegmentCommand } from './segment.js';
import { registerExtractCommand } from './extract.js';

/** `newsbridge`: each sub-command lives in its own file beside this one and registers itself here. */
const program = new Command('newsbridge')
  .description('Turn Arabic and Vietnamese news articles into bilingual English outputs.')
  .showHelpAfterError();

registerRunCommand(program);
registerCacheCommand(program);
registerModelsCommand(program);
registerTranslateCommand(program);
registerValidateCommand(program);
registerSummarizeCommand(program);
registerDetectCommand(program);
registerSegmentCommand(program);
registerExtractCommand(program);

await program.parseAsync(process.argv);
