/**
 * The config module as the rest of newsbridge imports it: the schema and its defaults (schema.ts),
 * reading `pipeline.yaml` (load.ts) and the CLI flags over it (overrides.ts).
 */
export {
  ARTICLE_FILES,
  configJsonSchema,
  configSchema,
  defaultConfig,
  HUB_MODEL_ID,
  MODEL_DTYPES,
  type ModelDtype,
  type ModelSpec,
  OUTPUT_FORMATS,
  type OutputFormat,
  type PipelineConfig,
} from './schema.js';
export { DEFAULT_CONFIG_FILE, loadConfig, parseConfig } from './load.js';
export { applyOverrides, type ConfigOverrides } from './overrides.js';
