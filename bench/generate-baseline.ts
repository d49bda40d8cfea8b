/**
 * The Translator's decoding before it had a loop of its own (kept as bench:translate's baseline (g)):
 * transformers.js `generate` on a batch packed like the Translator's, with a logits processor that
 * forces `</s>` on finished rows (generate keeps decoding every row until the longest ends) and holds
 * each row to its own length.
 */
import { AutoModelForSeq2SeqLM, LogitsProcessor, LogitsProcessorList, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import type { ModelDtype } from '../src/config/config.js';

export class GenerateBaseline {
  private constructor(
    private readonly seq2seq: PreTrainedModel,
    private readonly forcedBosId: number | null,
  ) {}

  /** `forcedBosId`: the target-language token an M2M-100 model is forced to start with (null for Marian). */
  static async load(modelDir: string, dtype: ModelDtype, threads: number, forcedBosId: number | null = null): Promise<GenerateBaseline> {
    const seq2seq = await AutoModelForSeq2SeqLM.from_pretrained(modelDir, {
      local_files_only: true,
      dtype,
      device: 'cpu',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    return new GenerateBaseline(seq2seq, forcedBosId);
  }

  /** Decodes a batch; row r generates exactly `lengths[r]` tokens before `</s>`. Returns the generated ids. */
  async generate(inputs: readonly (readonly number[])[], lengths: readonly number[]): Promise<number[][]> {
    const config = this.seq2seq.config as unknown as { eos_token_id: number; pad_token_id: number };
    const width = Math.max(...inputs.map((ids) => ids.length));
    const ids = new BigInt64Array(inputs.length * width).fill(BigInt(config.pad_token_id));
    const mask = new BigInt64Array(inputs.length * width);
    inputs.forEach((input, row) => {
      input.forEach((id, col) => {
        ids[row * width + col] = BigInt(id);
        mask[row * width + col] = 1n;
      });
    });
    const processors = new LogitsProcessorList();
    processors.push(new FinishedRowsProcessor([...lengths], config.eos_token_id));
    const output = (await this.seq2seq.generate({
      input_ids: new Tensor('int64', ids, [inputs.length, width]),
      attention_mask: new Tensor('int64', mask, [inputs.length, width]),
      max_new_tokens: Math.max(...lengths) + 1,
      num_beams: 1,
      logits_processor: processors,
      ...(this.forcedBosId === null ? {} : { forced_bos_token_id: this.forcedBosId }),
    })) as Tensor;
    return (output.tolist() as bigint[][]).map((row) => {
      const generated: number[] = [];
      for (const id of row.slice(1)) {
        if (Number(id) === config.eos_token_id) break;
        generated.push(Number(id));
      }
      return generated;
    });
  }

  async dispose(): Promise<void> {
    await this.seq2seq.dispose();
  }
}

/** Forces `</s>` on rows that reached their length (and on finished rows), suppresses it before. */
class FinishedRowsProcessor extends LogitsProcessor {
  constructor(
    private readonly lengths: number[],
    private readonly eosId: number,
  ) {
    super();
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    inputIds.forEach((row, i) => {
      const scores = (logits as unknown as Tensor[])[i]!.data as Float32Array;
      if (row.length - 1 >= (this.lengths[i] ?? 0)) {
        scores.fill(-Infinity);
        scores[this.eosId] = 0;
      } else {
        scores[this.eosId] = -Infinity;
      }
    });
    return logits;
  }
}
