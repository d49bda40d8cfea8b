import { statSync } from 'node:fs';
import fg from 'fast-glob';
import { ConfigError } from '../errors.js';
import { displayPath, valueProblem } from './issues.js';
import { ARTICLE_FILES, configSchema, type PipelineConfig } from './schema.js';

/** CLI flags applied over the config file; a bad flag fails like a bad key in the file would. */

/** CLI flags that override the config file. */
export interface ConfigOverrides {
  /** Files, directories (every article file below: `.txt`, `.md`, `.html`, `.htm`, `.html.gz`) or glob patterns; replaces `input.patterns`. */
  input?: string | string[];
  output?: string;
  concurrency?: number | string;
  modelsDir?: string;
  /** Never download models (`translation.download: false`). */
  offline?: boolean;
  /** `false` turns the translation memory off. */
  cache?: boolean;
}

const FLAG_OF: Record<string, string> = {
  'input.patterns': '--input',
  'output.dir': '--output',
  'run.concurrency': '--concurrency',
  'translation.modelsDir': '--models-dir',
};

/** The config with CLI flags applied, validated again so a bad flag fails like a bad file would. */
export function applyOverrides(config: PipelineConfig, flags: ConfigOverrides): PipelineConfig {
  const inputs = flags.input === undefined ? undefined : [flags.input].flat();
  const merged = {
    ...config,
    input: inputs ? { ...config.input, patterns: inputs.map(inputPattern) } : config.input,
    output: flags.output !== undefined ? { ...config.output, dir: flags.output } : config.output,
    run: flags.concurrency !== undefined ? { ...config.run, concurrency: toNumber(flags.concurrency) } : config.run,
    translation: {
      ...config.translation,
      ...(flags.modelsDir !== undefined ? { modelsDir: flags.modelsDir } : {}),
      ...(flags.offline ? { download: false } : {}),
    },
    cache: flags.cache === false ? { ...config.cache, enabled: false } : config.cache,
  };
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = displayPath(issue.path.filter((part) => typeof part !== 'number'));
      const flag = FLAG_OF[key] ?? key;
      const value = issue.path.reduce<unknown>((node, part) => (node as Record<PropertyKey, unknown>)?.[part], merged);
      return {
        file: flag,
        line: 0,
        col: 0,
        path: '',
        problem: valueProblem(value, issue.path, issue),
      };
    }),
  );
}

function toNumber(value: number | string): number | string {
  return typeof value === 'number' || value.trim() === '' || Number.isNaN(Number(value)) ? value : Number(value);
}

/**
 * A directory stands for every article below it and an existing file for itself (its name escaped,
 * since `[` or `(` in a file name would be read as glob syntax); anything else is a glob pattern.
 */
function inputPattern(input: string): string {
  let kind: 'directory' | 'file' | 'pattern' = 'pattern';
  try {
    kind = statSync(input).isDirectory() ? 'directory' : 'file';
  } catch {
    kind = 'pattern';
  }
  if (kind === 'pattern') return input;
  const escaped = fg.convertPathToPattern(input.replace(/[\\/]+$/, ''));
  return kind === 'directory' ? `${escaped}/**/${ARTICLE_FILES}` : escaped;
}
