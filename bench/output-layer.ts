/**
 * What trimming a q8 model's output layer would buy, measured on the layer alone: one decoder step's
 * `DynamicQuantizeLinear` → `MatMulInteger` → `Cast` → scale → `+ final_logits_bias` (the q8 export's
 * ops for lm_head) for `--rows` rows of `--d-model`, over the full vocabulary and over each `--keep`
 * size, on 2 intra-op threads, with the argmax over each row's logits in JavaScript as the greedy
 * loop takes it. No model is trimmed here (issue 20 part 6 leaves the option to be built); this bounds
 * the time a trim can save per decoder step.
 *
 *   npm run bench:output-layer -- [--d-model 1024] [--vocab 256206] [--keep 16000,32000,64000] [--rows 1,8]
 */
import { Command, InvalidArgumentError } from 'commander';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, NameRegistry, floatTensor, serializeModel, type GraphNode, type Tensor } from '../src/models/convert/onnx-graph.js';

const THREADS = 2;
const RUNS = 10;

async function outputLayer(dModel: number, vocab: number): Promise<ort.InferenceSession> {
  const nodes: GraphNode[] = [];
  const initializers: Tensor[] = [
    {
      name: 'weight',
      type: 'int8',
      dims: [dModel, vocab],
      data: Int8Array.from({ length: dModel * vocab }, (_, i) => ((i * 7919) % 255) - 127),
    },
    { name: 'weight_zero', type: 'int8', dims: [], data: new Int8Array([0]) },
    floatTensor('bias', [vocab], new Float32Array(vocab)),
  ];
  const b = new GraphBuilder(nodes, initializers, new NameRegistry(), '/bench');
  const [x, scale, zero] = b.opN('DynamicQuantizeLinear', ['hidden'], 3);
  const product = b.op('Cast', [b.op('MatMulInteger', [x!, 'weight', zero!, 'weight_zero'])], { to: { int: 1 } });
  b.opNamed('Add', [b.op('Mul', [product, scale!]), 'bias'], ['logits']);
  const graph = {
    name: 'output-layer',
    nodes,
    initializers,
    inputs: [{ name: 'hidden', type: 'float32' as const, shape: ['rows', dModel] }],
    outputs: [{ name: 'logits', type: 'float32' as const, shape: ['rows', vocab] }],
  };
  return ort.InferenceSession.create(serializeModel(graph, 'bench:output-layer'), { intraOpNumThreads: THREADS, interOpNumThreads: 1 });
}

/** The fastest of RUNS steps, in ms: the layer and each row's argmax. */
async function stepMs(session: ort.InferenceSession, rows: number, dModel: number, vocab: number): Promise<number> {
  const hidden = new ort.Tensor(
    'float32',
    Float32Array.from({ length: rows * dModel }, (_, i) => Math.sin(i)),
    [rows, dModel],
  );
  let best = Infinity;
  for (let run = 0; run < RUNS + 2; run++) {
    const started = performance.now();
    const logits = (await session.run({ hidden })).logits!.data as Float32Array;
    for (let row = 0; row < rows; row++) {
      let top = row * vocab;
      for (let i = row * vocab + 1; i < (row + 1) * vocab; i++) if (logits[i]! > logits[top]!) top = i;
    }
    if (run >= 2) best = Math.min(best, performance.now() - started);
  }
  return best;
}

function integers(value: string): number[] {
  const items = value.split(',').map(Number);
  if (items.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError('expected positive integers, comma-separated');
  return items;
}

const options = new Command('bench:output-layer')
  .option('--d-model <n>', 'hidden size', (v) => integers(v)[0]!, 1024)
  .option('--vocab <n>', 'full vocabulary', (v) => integers(v)[0]!, 256206)
  .option('--keep <list>', 'trimmed vocabulary sizes', integers, [16000, 32000, 64000])
  .option('--rows <list>', 'rows per decoder step (greedy batch rows)', integers, [1, 8])
  .parse()
  .opts<{ dModel: number; vocab: number; keep: number[]; rows: number[] }>();

console.log(
  `bench:output-layer ${process.argv.slice(2).join(' ')} — q8 lm_head of d_model ${options.dModel}, ${THREADS} threads, best of ${RUNS}`,
);
const full: Record<number, number> = {};
for (const vocab of [options.vocab, ...options.keep]) {
  const session = await outputLayer(options.dModel, vocab);
  for (const rows of options.rows) {
    const ms = await stepMs(session, rows, options.dModel, vocab);
    if (vocab === options.vocab) full[rows] = ms;
    const saved = vocab === options.vocab ? '' : `, saves ${(full[rows]! - ms).toFixed(2)} ms a step`;
    console.log(`vocabulary ${String(vocab).padStart(6)}, ${String(rows).padStart(2)} row(s): ${ms.toFixed(2)} ms a step${saved}`);
  }
  await session.release();
}
