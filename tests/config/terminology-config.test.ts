import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';
import { DNT_KINDS } from '../../src/terminology/dnt.js';

describe('translation.glossary and translation.doNotTranslate', () => {
  it('has no glossary and every do-not-translate kind on by default', () => {
    const { translation } = parseConfig('');
    expect(translation.glossary).toEqual({});
    expect(translation.doNotTranslate).toEqual([...DNT_KINDS]);
  });

  it('takes a glossary per source language and a chosen set of kinds', () => {
    const { translation } = parseConfig('translation:\n  glossary:\n    ar: glossary/ar.tsv\n  doNotTranslate: [numbers, addresses]\n');
    expect(translation.glossary).toEqual({ ar: 'glossary/ar.tsv' });
    expect(translation.doNotTranslate).toEqual(['numbers', 'addresses']);
  });

  it('refuses an unknown kind and a language key that is not an ISO code, naming the line', () => {
    expect(() => parseConfig('translation:\n  doNotTranslate: [names]\n', 'p.yaml')).toThrow(ConfigError);
    expect(() => parseConfig('translation:\n  doNotTranslate: [names]\n', 'p.yaml')).toThrow(/p\.yaml:2/);
    expect(() => parseConfig('translation:\n  glossary:\n    Arabic: ar.tsv\n', 'p.yaml')).toThrow(/p\.yaml:3/);
  });
});
