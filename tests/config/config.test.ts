import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyOverrides, defaultConfig, loadConfig, parseConfig } from '../../src/config/config.js';
import { generatedFiles } from '../../tools/write-schema.js';
import { repoRoot } from '../../tools/repo-root.js';
import { ConfigError } from '../../src/errors.js';
import { yamlAliasBomb } from '../helpers/bad-inputs.js';

function configError(text: string, file?: string): ConfigError {
  try {
    parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('reads an empty file, or one with only comments, as the defaults', () => {
    expect(parseConfig('')).toEqual(defaultConfig);
    expect(parseConfig('# nothing set\n')).toEqual(defaultConfig);
  });

  it('fills the defaults around the keys that are set', () => {
    const config = parseConfig('run:\n  concurrency: 4\noutput:\n  formats: [md]\n');
    expect(config.run.concurrency).toBe(4);
    expect(config.output).toEqual({ dir: 'output', formats: ['md'] });
    expect(config.translation).toEqual(defaultConfig.translation);
  });

  it('points at an unknown key and lists the accepted ones', () => {
    const error = configError('output:\n  dir: out\n  fromat: [md]\n');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ line: 3, col: 3, path: 'output.fromat' });
    expect(error.message).toBe('pipeline.yaml:3:3: output.fromat is not a known key; accepted: dir, formats');
  });

  it('points at a value of the wrong type and says which type is accepted', () => {
    const error = configError('run:\n  concurrency: two\n', 'configs/nightly.yaml');
    expect(error.message).toBe('configs/nightly.yaml:2:16: run.concurrency is "two" (a string); accepted: integer from 1 to 64');
  });

  it('points at a bad enum value inside a list and lists the accepted values', () => {
    const error = configError('output:\n  formats:\n    - json\n    - pdf\n');
    expect(error.message).toBe('pipeline.yaml:4:7: output.formats[1] is "pdf" (a string); accepted: json, md, html');
  });

  it('reports out-of-range numbers, bad URLs and bad language keys, every issue in line order', () => {
    const error = configError(
      ['translation:', '  models:', '    AR: { id: Xenova/opus-mt-ar-en }', '  mirror: not a url', 'summary:', '  ratio: 1.5'].join('\n'),
    );
    expect(error.issues.map((issue) => [issue.line, issue.col, issue.path])).toEqual([
      [3, 5, 'translation.models.AR'],
      [4, 11, 'translation.mirror'],
      [6, 10, 'summary.ratio'],
    ]);
    expect(error.issues[0]?.problem).toContain('accepted: ISO 639 language code');
    expect(error.issues[2]?.problem).toBe('is 1.5 (a number); accepted: number from 0 to 1');
  });

  it('reports a missing required key at the key of the mapping that lacks it', () => {
    expect(configError('translation:\n  models:\n    ar:\n      revision: v1\n').message).toBe(
      'pipeline.yaml:3:5: translation.models.ar.id is missing; accepted: Hub model id `owner/name` (letters, digits, `-`, `_`, `.`; no `..` or `--`), resolved locally as `<modelsDir>/<id>/`',
    );
  });

  it('rejects an empty list where at least one item is needed', () => {
    expect(configError('input:\n  patterns: []\n').message).toBe(
      'pipeline.yaml:2:13: input.patterns is an empty list; accepted: a list of at least 1 item (each a non-empty string)',
    );
  });

  it('reports a YAML syntax error with its position', () => {
    const error = configError('run:\n  concurrency: [2\nclean: {}\n');
    expect(error.issues[0]?.line).toBeGreaterThan(0);
    expect(error.message).toMatch(/^pipeline\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('reports a duplicated key as a syntax error', () => {
    expect(configError('run: {}\nrun: {}\n').message).toMatch(/^pipeline\.yaml:2:1: YAML syntax error: .*unique/);
  });

  it('rejects a file that is not a mapping', () => {
    expect(configError('- input\n').message).toMatch(/^pipeline\.yaml:1:1: is a list; accepted: a mapping with keys input, fetch, output/);
  });
});

describe('loadConfig', () => {
  let directory: string;
  let cwd: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'newsbridge-config-'));
    cwd = process.cwd();
    process.chdir(directory);
  });
  afterEach(() => process.chdir(cwd));

  it('uses the defaults when there is no pipeline.yaml', async () => {
    expect(await loadConfig()).toEqual({ config: defaultConfig, path: null });
  });

  it('reads pipeline.yaml from the working directory', async () => {
    await writeFile('pipeline.yaml', 'run:\n  concurrency: 3\n');
    const { config, path } = await loadConfig();
    expect(config.run.concurrency).toBe(3);
    expect(path).toBe(resolve(directory, 'pipeline.yaml'));
  });

  it('refuses a config file that was named but does not exist', async () => {
    await expect(loadConfig('missing.yaml')).rejects.toThrow('missing.yaml: cannot be read (not found); pass an existing file to --config');
  });

  it('names the file it was given in the positions', async () => {
    await mkdir('conf');
    await writeFile('conf/x.yaml', 'clean:\n  enabled: yes please\n');
    await expect(loadConfig('conf/x.yaml')).rejects.toThrow(
      'conf/x.yaml:2:12: clean.enabled is "yes please" (a string); accepted: true or false',
    );
  });
});

describe('applyOverrides', () => {
  it('replaces the config values the flags name and leaves the others', () => {
    const config = applyOverrides(defaultConfig, {
      input: 'news/*.txt',
      output: 'out',
      concurrency: '8',
      modelsDir: '/srv/models',
      offline: true,
      cache: false,
    });
    expect(config.input.patterns).toEqual(['news/*.txt']);
    expect(config.output.dir).toBe('out');
    expect(config.run.concurrency).toBe(8);
    expect(config.translation.modelsDir).toBe('/srv/models');
    expect(config.translation.download).toBe(false);
    expect(config.cache.enabled).toBe(false);
    expect(config.detect).toEqual(defaultConfig.detect);
  });

  it('turns a directory into a pattern for every article below it, and escapes a file name', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'newsbridge-input-'));
    const file = join(directory, 'report (1).txt');
    await writeFile(file, 'text');
    const config = applyOverrides(defaultConfig, { input: [`${directory}/`, file] });
    expect(config.input.patterns).toEqual([`${directory}/**/*.{txt,md,html,htm,html.gz,htm.gz}`, `${directory}/report \\(1\\).txt`]);
  });

  it('changes nothing without flags', () => {
    expect(applyOverrides(defaultConfig, {})).toEqual(defaultConfig);
  });

  it('rejects a bad flag value naming the flag and what is accepted', () => {
    expect(() => applyOverrides(defaultConfig, { concurrency: 'many' })).toThrow(
      '--concurrency: is "many" (a string); accepted: integer from 1 to 64',
    );
    expect(() => applyOverrides(defaultConfig, { concurrency: 0 })).toThrow(ConfigError);
  });
});

describe('published config files', () => {
  it('the committed pipeline.yaml holds exactly the defaults and documents every key', async () => {
    const text = await readFile(join(repoRoot, 'pipeline.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/pipeline.schema.json');
    expect(parseConfig(text)).toEqual(defaultConfig);
    const keyLines = text.split('\n').filter((line) => /^\s*[a-zA-Z]+:/.test(line) && !/^\s+(ar|vi|id|revision):/.test(line));
    for (const line of keyLines) {
      const index = text.split('\n').indexOf(line);
      expect(text.split('\n')[index - 1], `comment above "${line.trim()}"`).toMatch(/^\s*# /);
    }
  });

  it('the committed schema files and pipeline.yaml are what `npm run schema` writes', async () => {
    for (const [path, content] of Object.entries(generatedFiles())) {
      expect(await readFile(join(repoRoot, path), 'utf8'), `${path} is stale: run npm run schema`).toBe(content);
    }
  });

  it('the config JSON Schema rejects unknown keys and knows every default', () => {
    const schema = JSON.parse(generatedFiles()['schema/pipeline.schema.json']!) as {
      additionalProperties: boolean;
      properties: Record<string, { additionalProperties: boolean; properties: Record<string, { default: unknown }> }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.run?.additionalProperties).toBe(false);
    expect(schema.properties.run?.properties.concurrency?.default).toBe(defaultConfig.run.concurrency);
    expect(schema.properties.translation?.properties.dtype?.default).toBe('q8');
  });
});

describe('parseConfig: hostile files', () => {
  it('refuses a YAML alias bomb with a positioned message instead of expanding it', () => {
    const error = configError(yamlAliasBomb(), 'bomb.yaml');
    expect(error.message).toMatch(/^bomb\.yaml:2:\d+: YAML aliases expand to too much data .*instead of using &anchors and \*aliases$/);
  });

  it('accepts hub model ids and refuses ids that would leave the models folder', () => {
    expect(
      parseConfig('translation:\n  models:\n    ar: { id: onnx-community/opus-mt-ar-en }\n    vi: { id: gpt2 }\n').translation.models,
    ).toEqual({
      ar: { id: 'onnx-community/opus-mt-ar-en', revision: 'main' },
      vi: { id: 'gpt2', revision: 'main' },
    });
    for (const id of ['../../somewhere', '../../../etc', 'owner/../../etc', '/etc/passwd', 'a/b/c', 'owner/name--x', '.hidden/x']) {
      const error = configError(`translation:\n  models:\n    ar: { id: "${id}" }\n`);
      expect(error.issues).toEqual([
        expect.objectContaining({
          line: 3,
          path: 'translation.models.ar.id',
          problem: expect.stringContaining('accepted: Hub model id `owner/name`'),
        }),
      ]);
    }
  });
});
