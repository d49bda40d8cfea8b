#!/usr/bin/env node
import { Command } from 'commander';

/** `newsbridge`: each sub-command lives in `src/commands/` and registers itself here. */
const program = new Command('newsbridge')
  .description('Turn Arabic and Vietnamese news articles into bilingual English outputs.')
  .showHelpAfterError();

await program.parseAsync(process.argv);
