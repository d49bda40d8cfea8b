#!/usr/bin/env node
import { Command } from 'commander';
import { registerCacheCommand } from './commands/cache.js';
import { registerModelsCommand } from './commands/models.js';
import { registerRunCommand } from './commands/run.js';
import { registerTranslateCommand } from './commands/translate.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerSummarizeCommand } from './commands/summarize.js';
import { registerDetectCommand } from './commands/detect.js';
import { registerSegmentCommand } from './commands/segment.js';

/** `newsbridge`: each sub-command lives in `src/commands/` and registers itself here. */
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

await program.parseAsync(process.argv);
