/**
 * How often the "what must survive translation" flags (src/translation/qa.ts) fire on human
 * translations, which keep what they should: NTREX-128's Arabic and Vietnamese references against
 * its English source, line by line. A flagged line is a false alarm or a liberty of the human
 * translator (`a decade` for `10 years`); the figures bound how noisy the flags are on good output.
 *
 *   npm run eval:qa-flags -- [--examples N]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { missingFromTranslation } from '../src/translation/qa.js';
import { sharedPath } from './shared-data.js';

const program = new Command('eval:qa-flags')
  .option(
    '--examples <n>',
    'flagged lines to print per language',
    (value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
      return n;
    },
    0,
  )
  .parse();
const { examples } = program.opts<{ examples: number }>();

const dir = sharedPath('data/mt/ntrex128');
const english = (await readFile(path.join(dir, 'newstest2019-src.eng.txt'), 'utf8')).split('\n');
for (const [lang, file] of [
  ['ar', 'newstest2019-ref.arb.txt'],
  ['vi', 'newstest2019-ref.vie.txt'],
] as const) {
  const sources = (await readFile(path.join(dir, file), 'utf8')).split('\n');
  const flagged = { numbers: 0, latinTokens: 0, addresses: 0 };
  let lines = 0;
  let shown = 0;
  sources.forEach((source, i) => {
    if (source.trim() === '') return;
    lines++;
    const missing = missingFromTranslation(source, english[i] ?? '', lang);
    for (const kind of ['numbers', 'latinTokens', 'addresses'] as const) if (missing[kind].length > 0) flagged[kind]++;
    if (shown < examples && missing.numbers.length + missing.latinTokens.length + missing.addresses.length > 0) {
      shown++;
      console.log(`  ${lang} line ${i + 1}: ${JSON.stringify(missing)}\n    ${source}\n    ${english[i]}`);
    }
  });
  const share = (n: number) => `${n} (${((100 * n) / lines).toFixed(2)}%)`;
  console.log(
    `${lang}: ${lines} NTREX lines against the human English: number-missing ${share(flagged.numbers)}, ` +
      `latin-token-missing ${share(flagged.latinTokens)}, address-missing ${share(flagged.addresses)}`,
  );
}
