import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { applyOverrides, loadConfig, type ModelDtype, type PipelineConfig } from '../config/config.js';
import { convertCheckpoint } from '../models/convert/convert.js';
import { configuredModels, listModels, modelDirOf, type ConfiguredModel } from '../models/layout.js';
import { licenseLabel, licenseWarning, modelLicense } from '../models/license.js';
import { pullModel } from '../models/pull.js';
import { assertModelReady, verifyError, verifyModel } from '../models/verify.js';
import { dtypeOption, progressReporter, reportErrors } from './shared.js';
import { writeLine } from './printable.js';

interface ModelsOptions {
  config?: string;
  modelsDir?: string;
  only?: string;
}

type PullCommandOptions = ModelsOptions & { mirror?: string; dtype?: ModelDtype };

/** `newsbridge models pull|verify|convert|list`: install, check, convert and show the translation models. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('Download, verify and list the translation models.');

  models
    .command('pull')
    .description('Download the configured models (the files the configured dtype needs) from the hub or a mirror.')
    .option('--only <lang>', 'only the model of this source language, e.g. ar')
    .option('--mirror <url>', 'base URL with the hub layout <url>/<id>/resolve/<revision>/<file> (default: translation.mirror)')
    .addOption(dtypeOption())
    .option('--models-dir <dir>', 'where models live (default: translation.modelsDir)')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .action((options: PullCommandOptions) => reportErrors('models', () => pullModels(options)));

  models
    .command('verify')
    .description('Re-check the installed models file by file against their manifests (size and sha256).')
    .option('--only <lang>', 'only the model of this source language')
    .option('--models-dir <dir>', 'where models live (default: translation.modelsDir)')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .action((options: ModelsOptions) => reportErrors('models', () => verifyModels(options)));

  models
    .command('convert <source>')
    .description(
      "Turn a checkpoint in the hub's PyTorch layout (config.json, model.safetensors or pytorch_model.bin, either possibly sharded, tokenizer files) into the ONNX layout newsbridge loads.",
    )
    .option('--out <dir>', 'where to write the converted model (default: the checkpoint folder itself, where models pull puts that id)')
    .option('--models-dir <dir>', 'where models live, for a hub id (default: translation.modelsDir)')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .action((source: string, options: ModelsOptions & { out?: string }) => reportErrors('models', () => convertModel(source, options)));

  models
    .command('list')
    .description('Show the installed models and which configured languages they cover.')
    .option('--models-dir <dir>', 'where models live (default: translation.modelsDir)')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .action((options: ModelsOptions) => reportErrors('models', () => showModels(options)));
}

/** `models pull`: each selected model in turn; one that fails does not stop the others. */
async function pullModels(options: PullCommandOptions): Promise<void> {
  const config = await modelsConfig(options);
  const dtype = options.dtype ?? config.translation.dtype;
  const mirror = options.mirror ?? config.translation.mirror;
  const selected = selectModels(config, options.only);
  const progress = progressReporter();
  const stop = stopOnSignals();
  let failed = 0;
  // A multilingual model configured for several languages (NLLB-200 for ar and vi) is pulled once.
  const pulled = new Map<string, string>();
  for (const model of selected) {
    if (stop.signal.aborted) break;
    const first = pulled.get(`${model.dir}@${model.revision}`);
    if (first) {
      writeLine(process.stdout, `${model.lang}: ${model.id}@${model.revision} (${dtype}) is the model of ${first}, pulled above`);
      continue;
    }
    try {
      const manifest = await pullModel({
        id: model.id,
        revision: model.revision,
        modelsDir: config.translation.modelsDir,
        dtype,
        mirror,
        stallMs: config.translation.downloadStallSeconds * 1000,
        fileDeadlineMs: config.translation.downloadFileSeconds * 1000,
        signal: stop.signal,
        onProgress: (p) => progress.update(model, p),
      });
      progress.stop();
      pulled.set(`${model.dir}@${model.revision}`, model.lang);
      writeLine(process.stdout, `${model.lang}: ${model.id}@${model.revision} (${dtype}) is installed in ${model.dir}`);
      const warning = licenseWarning(model.id, manifest.license ?? null);
      if (warning) writeLine(process.stderr, `${model.lang}: ${warning}`);
    } catch (error) {
      progress.stop();
      failed++;
      writeLine(process.stderr, `newsbridge models pull: ${model.lang}: ${(error as Error).message}`);
    }
  }
  const stoppedBy = stop.dispose();
  if (stoppedBy) process.exitCode = stoppedBy === 'SIGTERM' ? 143 : 130;
  else if (failed > 0) process.exitCode = 1;
}

/**
 * SIGINT/SIGTERM stop the download at once; what arrived stays in `.part` for the next pull.
 * `dispose` removes the handlers and says which signal stopped the pull, if one did.
 */
function stopOnSignals(): { signal: AbortSignal; dispose: () => NodeJS.Signals | undefined } {
  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      return stoppedBy;
    },
  };
}

/**
 * `models convert <hub-id | DIR>`: a folder is converted as it is; a hub id names its folder in the
 * models folder, where the checkpoint's files must already be.
 */
async function convertModel(source: string, options: ModelsOptions & { out?: string }): Promise<void> {
  const isFolder = existsSync(path.join(source, 'config.json'));
  const dir = isFolder ? path.resolve(source) : modelDirOf((await modelsConfig(options)).translation.modelsDir, source);
  if (!existsSync(path.join(dir, 'config.json'))) {
    throw new Error(
      `${source} is neither a checkpoint folder nor a hub id whose checkpoint is in ${dir}; put config.json, model.safetensors (or pytorch_model.bin, or a sharded checkpoint's index and shards) and the tokenizer files there`,
    );
  }
  const out = path.resolve(options.out ?? dir);
  await convertCheckpoint(dir, out);
  writeLine(process.stdout, `${source}: converted to ONNX (fp32 and q8) in ${out}`);
}

/** `models verify`: the cheap check, then every file's size and sha256 against the manifest. */
async function verifyModels(options: ModelsOptions): Promise<void> {
  const config = await modelsConfig(options);
  for (const model of selectModels(config, options.only)) {
    try {
      await assertModelReady(model.dir, config.translation.dtype, model.label);
      const report = await verifyModel(model.dir);
      const error = verifyError(report, model.label);
      if (error) throw error;
      writeLine(process.stdout, `${model.lang}: ${model.id} ok (${report.checked.length} files match the manifest) in ${model.dir}`);
    } catch (error) {
      writeLine(process.stderr, `newsbridge models verify: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
}

/** `models list`: the configured models and whether they are installed, then installed ones nobody configured. */
async function showModels(options: ModelsOptions): Promise<void> {
  const config = await modelsConfig(options);
  const { modelsDir, dtype } = config.translation;
  const installed = await listModels(modelsDir);
  const byId = new Map(installed.map((model) => [model.id, model]));
  writeLine(process.stdout, `models in ${modelsDirLabel(path.resolve(modelsDir))}; configured dtype ${dtype}`);
  const configured = configuredModels(config.translation.models, modelsDir);
  const warnings = new Set<string>();
  // Room for the longest id (NLLB's are longer than the 32 columns Marian's need).
  const idWidth = Math.max(32, ...[...configured, ...installed].map((model) => model.id.length + 2));
  for (const model of configured) {
    const found = byId.get(model.id);
    const state = !found
      ? 'not installed'
      : `${found.dtypes.length > 0 ? found.dtypes.join(' ') : 'incomplete'}${found.manifest ? ` @${found.manifest.revision}` : ' (no manifest)'}`;
    const covered = found?.dtypes.includes(dtype) ? 'covered' : `not covered (${dtype})`;
    // The manifest's licence (the hub's model card) for a pulled model, else the family's.
    const license = found?.manifest?.license ?? modelLicense(model.id, null);
    const warning = licenseWarning(model.id, license);
    if (warning) warnings.add(warning);
    writeLine(
      process.stdout,
      `  ${model.lang.padEnd(4)}${model.id.padEnd(idWidth)}${state.padEnd(24)}${covered.padEnd(20)}${licenseLabel(license)}`,
    );
  }
  const configuredIds = new Set(configured.map((model) => model.id));
  for (const model of installed.filter((m) => !configuredIds.has(m.id))) {
    writeLine(
      process.stdout,
      `  ${'-'.padEnd(4)}${model.id.padEnd(idWidth)}${(model.dtypes.join(' ') || 'incomplete').padEnd(24)}${'not configured'.padEnd(20)}${licenseLabel(model.manifest?.license ?? modelLicense(model.id, null))}`,
    );
  }
  for (const warning of warnings) writeLine(process.stderr, warning);
}

function modelsDirLabel(modelsDir: string): string {
  return existsSync(modelsDir) ? modelsDir : `${modelsDir} (does not exist yet)`;
}

async function modelsConfig(options: ModelsOptions): Promise<PipelineConfig> {
  const { config } = await loadConfig(options.config);
  return applyOverrides(config, { modelsDir: options.modelsDir });
}

function selectModels(config: PipelineConfig, only: string | undefined): ConfiguredModel[] {
  const models = configuredModels(config.translation.models, config.translation.modelsDir);
  if (only === undefined) return models;
  const selected = models.filter((model) => model.lang === only);
  if (selected.length === 0) {
    const known = models.map((model) => model.lang).join(', ');
    throw new Error(`--only ${only}: no model is configured for "${only}"; configured: ${known} (translation.models)`);
  }
  return selected;
}
