import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { repoRoot } from '../../tools/repo-root.js';

/** Every key of the default config with its value; `translation.models` is one key (a map of languages). */
function defaultKeys(value: unknown, key = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || key === 'translation.models') return [[key, value]];
  return Object.entries(value).flatMap(([name, child]) => defaultKeys(child, key ? `${key}.${name}` : name));
}

/** The configuration table of docs/configuration.md: key → the text of its Default cell. */
function documentedDefaults(): Map<string, string> {
  const page = readFileSync(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8');
  return new Map([...page.matchAll(/^\| `([\w.]+)` \| (.+?) \|/gm)].map((row) => [row[1]!, row[2]!]));
}

describe("docs/configuration.md's configuration table", () => {
  it('lists every key with the default the code has', () => {
    const table = documentedDefaults();
    const wrong = defaultKeys(defaultConfig)
      .filter(([key]) => key !== 'translation.models')
      .flatMap(([key, value]) => {
        const cell = table.get(key);
        // The first code span of the cell is the default, as JSON (`"q8"`, `512`, `["json","md","html"]`).
        const stated = cell?.match(/`([^`]+)`/)?.[1];
        if (stated === undefined) return [`${key}: no row (default ${JSON.stringify(value)})`];
        let parsed: unknown;
        try {
          parsed = JSON.parse(stated);
        } catch {
          return [`${key}: default cell ${cell} is not JSON`];
        }
        return JSON.stringify(parsed) === JSON.stringify(value)
          ? []
          : [`${key}: docs/configuration.md says ${stated}, the code ${JSON.stringify(value)}`];
      });
    expect(wrong).toEqual([]);
  });
});
