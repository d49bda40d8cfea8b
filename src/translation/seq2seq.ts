import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoConfig, AutoModelForSeq2SeqLM, MarianMTModel, type PreTrainedModel } from '@huggingface/transformers';
import { InferenceSession } from 'onnxruntime-node';
import type { ModelDtype } from '../models/store.js';
import { rowwiseQuantized } from './rowwise-quantization.js';

/**
 * How q8 models quantize activations: `per-row` (each token of each sentence on its own scale, so a
 * sentence translates the same whatever its batch mates; see rowwise-quantization.ts) or `per-batch`
 * (the exported graphs as they are: one scale per tensor).
 */
export type Q8Activations = 'per-row' | 'per-batch';

export interface Seq2SeqLoadOptions {
  dtype: ModelDtype;
  q8Activations: Q8Activations;
  /** onnxruntime intra-op threads. */
  threads: number;
}

/** The MarianMT model of a local folder (`config.json`, `onnx/…`) for transformers.js, never from the network. */
export async function loadSeq2Seq(modelDir: string, options: Seq2SeqLoadOptions): Promise<PreTrainedModel> {
  const sessionOptions = { intraOpNumThreads: options.threads, interOpNumThreads: 1 };
  if (options.dtype !== 'q8' || options.q8Activations === 'per-batch') {
    return AutoModelForSeq2SeqLM.from_pretrained(modelDir, {
      local_files_only: true,
      dtype: options.dtype,
      device: 'cpu',
      session_options: sessionOptions,
    });
  }
  // transformers.js opens sessions on the files as they are, so the rewritten graphs are opened here
  // and handed to the model class it would have picked, with the same config files.
  const open = async (part: string) => {
    const file = path.join(modelDir, 'onnx', `${part}_quantized.onnx`);
    try {
      return await InferenceSession.create(rowwiseQuantized(await readFile(file)), sessionOptions);
    } catch (error) {
      // The ONNX parser's own messages ("index out of range") do not say which file.
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const [config, generationConfig, encoder, decoder] = await Promise.all([
    AutoConfig.from_pretrained(modelDir, { local_files_only: true }),
    readFile(path.join(modelDir, 'generation_config.json'), 'utf8').then(
      (text) => JSON.parse(text) as object,
      () => null,
    ),
    open('encoder_model'),
    open('decoder_model_merged'),
  ]);
  const configs = generationConfig ? { generation_config: generationConfig } : {};
  return new MarianMTModel(config, { model: encoder, decoder_model_merged: decoder }, configs);
}
