/**
 * The machine's matrix-multiply rate under onnxruntime: one large `MatMul` (fp32) or
 * `DynamicQuantizeLinear` → `MatMulInteger` (int8 weights, as in the q8 models) graph, timed on the
 * same threads as the variants, so a variant's useful multiply-accumulates per second can be read as
 * a share of what this CPU does at best.
 */
import * as ort from 'onnxruntime-node';
import {
  GraphBuilder,
  NameRegistry,
  floatTensor,
  serializeModel,
  type Graph,
  type GraphNode,
  type Tensor,
} from '../src/models/convert/onnx-graph.js';

const M = 256;
const K = 512;
const N = 2048;

function matmulGraph(kind: 'fp32' | 'int8'): Graph {
  const nodes: GraphNode[] = [];
  const initializers: Tensor[] = [];
  const b = new GraphBuilder(nodes, initializers, new NameRegistry(), '/bench');
  const weights = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i) * 0.05);
  let output: string;
  if (kind === 'fp32') {
    initializers.push(floatTensor('weight', [K, N], weights));
    output = b.op('MatMul', ['x', 'weight']);
  } else {
    initializers.push({ name: 'weight', type: 'int8', dims: [K, N], data: Int8Array.from(weights, (w) => Math.round(w * 2000)) });
    initializers.push({ name: 'weight_zero', type: 'int8', dims: [], data: new Int8Array([0]) });
    const quantized = b.opN('DynamicQuantizeLinear', ['x'], 3);
    const product = b.op('MatMulInteger', [quantized[0]!, 'weight', quantized[2]!, 'weight_zero']);
    output = b.op('Cast', [product], { to: { int: 1 } });
  }
  b.opNamed('Identity', [output], ['y']);
  return {
    name: 'matmul',
    nodes,
    initializers,
    inputs: [{ name: 'x', type: 'float32', shape: [M, K] }],
    outputs: [{ name: 'y', type: 'float32', shape: [M, N] }],
  };
}

/** Multiply-accumulates per second, the best of `runs` timed runs after a warm-up. */
export async function matmulRate(kind: 'fp32' | 'int8', threads: number, runs = 20): Promise<number> {
  const session = await ort.InferenceSession.create(serializeModel(matmulGraph(kind), 'bench:translate'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: M * K }, (_, i) => Math.cos(i)),
    [M, K],
  );
  for (let i = 0; i < 3; i++) await session.run({ x });
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run({ x });
    best = Math.min(best, performance.now() - started);
  }
  await session.release();
  return (M * K * N) / (best / 1000);
}
