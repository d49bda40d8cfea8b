import { env, LogLevel } from '@huggingface/transformers';

// What the CLI sets (src/cli/index.ts): MarianTokenizer warns on every load that it runs on
// tokenizer.json, which is this project's setup. Translator.load itself leaves `env` to its host.
env.logLevel = LogLevel.ERROR;
