/**
 * Writes a model's two graphs in the layout transformers.js loads: `onnx/encoder_model.onnx`,
 * `onnx/decoder_model_merged.onnx` and their `_quantized` (q8) versions; graphs over ONNX's 2 GB
 * protobuf limit keep their weights in `<file>_data`, which config.json must then list under
 * `transformers.js_config.use_external_data_format`.
 */
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Graph, initializerBytes, serializeModel, serializeModelWithExternalData } from './onnx-graph.js';
import { quantizeDynamic } from './quantize.js';
import { buildEncoderGraph, buildMergedDecoderGraph } from './seq2seq-onnx.js';
import type { Seq2SeqWeights } from './weights.js';

/** Below the 2 GB protobuf limit, with room for the graph itself. */
const MAX_INLINE_BYTES = 1.8e9;

/** Writes one graph; returns true when its weights went to `<file>_data`. */
async function writeGraph(file: string, graph: Graph, producer: string, externalData: boolean): Promise<boolean> {
  if (!externalData && initializerBytes(graph) < MAX_INLINE_BYTES) {
    await writeFile(file, serializeModel(graph, producer));
    return false;
  }
  const { model, data } = serializeModelWithExternalData(graph, producer, `${path.basename(file)}_data`);
  await writeFile(file, model);
  const handle = await open(`${file}_data`, 'w');
  try {
    for (const chunk of data) await handle.write(chunk);
  } finally {
    await handle.close();
  }
  return true;
}

export interface WriteGraphOptions {
  /**
   * Weights in `<file>_data` for every graph, not only those over the protobuf limit: a small model
   * laid out as NLLB-200-600M is, for tests of that layout.
   */
  externalData?: boolean;
}

/**
 * Builds, quantizes and writes both graphs into `onnxDir`; returns the files that have external
 * data. One graph at a time, so a big model's fp32 and q8 copies are not all in memory together.
 */
export async function writeModelGraphs(
  onnxDir: string,
  weights: Seq2SeqWeights,
  producer: string,
  { externalData = false }: WriteGraphOptions = {},
): Promise<string[]> {
  const external: string[] = [];
  for (const [baseName, build] of [
    ['encoder_model', buildEncoderGraph],
    ['decoder_model_merged', buildMergedDecoderGraph],
  ] as const) {
    const graph = build(weights);
    if (await writeGraph(path.join(onnxDir, `${baseName}.onnx`), graph, producer, externalData)) external.push(`${baseName}.onnx`);
    if (await writeGraph(path.join(onnxDir, `${baseName}_quantized.onnx`), quantizeDynamic(graph), producer, externalData)) {
      external.push(`${baseName}_quantized.onnx`);
    }
  }
  return external;
}

/** config.json with the external-data entries transformers.js needs (unchanged when there are none). */
export function withExternalData(config: Record<string, unknown>, external: string[]): Record<string, unknown> {
  if (external.length === 0) return config;
  const existing = (config['transformers.js_config'] ?? {}) as Record<string, unknown>;
  const useExternal = Object.fromEntries(external.map((file) => [file, 1]));
  return { ...config, 'transformers.js_config': { ...existing, use_external_data_format: useExternal } };
}
