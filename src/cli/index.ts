#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { env, LogLevel } from '@huggingface/transformers';
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
import { registerFetchCommand } from './fetch.js';
import { registerWorkerCommand } from './worker.js';
import { registerStatusCommand } from './status.js';
import { registerQueueCommand } from './queue.js';
import { registerServeCommand } from './serve.js';
import { exitOnStderrFailure, exitOnStdoutFailure } from './output-failure.js';

// package.json is two folders up from this file both as src/cli/index.ts and as dist/cli/index.js.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// transformers.js's `env` is global, so the library leaves it to its host; the CLI is the host here.
// MarianTokenizer warns on every load that it runs on tokenizer.json, which is this project's setup,
// and transformers.js has no per-call option to quiet it.
env.logLevel = LogLevel.ERROR;

/** `newsbridge`: each sub-command lives in its own file beside this one and registers itself here. */
const program = new Command('newsbridge')
  .description('Turn Arabic and Vietnamese news articles into bilingual English outputs.')
  .version(version, '-v, --version', 'print the version of newsbridge')
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
registerFetchCommand(program);
registerWorkerCommand(program);
registerStatusCommand(program);
registerQueueCommand(program);
registerServeCommand(program);

// `run` handles its own output (a closed `--jsonl -` finishes the articles in flight first).
program.hook('preAction', (_program, command) => {
  exitOnStderrFailure();
  if (command.name() !== 'run') exitOnStdoutFailure(commandPath(command));
});

/** `cache stats`, `translate`: the command as the user typed it after `newsbridge`. */
function commandPath(command: Command): string {
  return command.parent?.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

await program.parseAsync(process.argv);
