/**
 * A decoder whose output layer computes only some of the vocabulary's logits: the load-time rewrite
 * behind `translation.trimOutputVocabulary` (./output-vocabulary.ts says which pieces are kept).
 *
 * NLLB-200's output layer multiplies every hidden state by a 1024 × 256,206 matrix: most of a
 * decoder step's work, while an English output only ever uses a few tens of thousands of those
 * pieces. CTranslate2 cuts the same matrix per batch with its vocabulary map; here it is cut once,
 * when the session is created, so the graph's own MatMul is the smaller one.
 *
 * What is cut: every initializer whose last axis is the vocabulary, of rank 1 or 2 with a leading 1
 * or d_model — the output weight (`[d_model, V]`, fp32 or its q8 `_quantized` form), a per-column
 * scale or zero point, `final_logits_bias` (`[1, V]`) — keeps the kept columns, in vocabulary order;
 * the embedding table (`[V, d_model]`) and everything else is left as it is. The declared shapes
 * whose last axis is V (the `logits` output, inside the merged decoder's branches too) follow.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

type GraphProto = OnnxTypes.IGraphProto;
type TensorProto = OnnxTypes.ITensorProto;

/** Bytes per element of the tensor types an output layer holds. */
const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.INT32]: 4,
  [DataType.FLOAT16]: 2,
};

/** A graph whose output layer this rewrite cannot find or cut. */
export class UntrimmableOutputLayerError extends Error {}

/**
 * The decoder model with its output layer cut to `kept` (vocabulary ids, ascending, unique): its
 * `logits` come out `kept.length` wide, column j being vocabulary id `kept[j]`. `vocabSize` and
 * `dModel` come from config.json. Throws `UntrimmableOutputLayerError` when no weight has the
 * output layer's shape or the vocabulary cannot be told from the model's width.
 */
export function trimmedOutputLayer(model: Uint8Array, kept: Int32Array, vocabSize: number, dModel: number): Uint8Array {
  if (vocabSize === dModel)
    throw new UntrimmableOutputLayerError(`the vocabulary (${vocabSize}) is as wide as the model; cannot tell them apart`);
  assertKept(kept, vocabSize);
  const decoded = onnx.ModelProto.decode(model);
  if (!decoded.graph) throw new UntrimmableOutputLayerError('the model has no graph');
  const graphs = allGraphs(decoded.graph);
  let weights = 0;
  for (const graph of graphs) {
    for (const tensor of graph.initializer ?? []) {
      const dims = (tensor.dims ?? []).map(Number);
      if (!isOutputLayerTensor(dims, vocabSize, dModel)) continue;
      if (dims.length === 2 && dims[0] === dModel) weights++;
      cutColumns(tensor, dims, kept);
    }
    for (const value of [...(graph.output ?? []), ...(graph.valueInfo ?? [])]) narrowShape(value, vocabSize, kept.length);
  }
  if (weights === 0)
    throw new UntrimmableOutputLayerError(`no [${dModel}, ${vocabSize}] output weight among the initializers (is it the decoder?)`);
  return onnx.ModelProto.encode(decoded).finish();
}

function assertKept(kept: Int32Array, vocabSize: number): void {
  if (kept.length === 0) throw new RangeError('no output piece kept');
  for (let i = 0; i < kept.length; i++) {
    const id = kept[i]!;
    if (id < 0 || id >= vocabSize || (i > 0 && id <= kept[i - 1]!))
      throw new RangeError(`kept output ids must be ascending vocabulary ids below ${vocabSize} (at position ${i}: ${id})`);
  }
}

function allGraphs(graph: GraphProto): GraphProto[] {
  const graphs = [graph];
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.g) graphs.push(...allGraphs(attribute.g));
      for (const sub of attribute.graphs ?? []) graphs.push(...allGraphs(sub));
    }
  }
  return graphs;
}

/** `[V]`, `[1, V]` or `[d_model, V]`: the output layer's weight, its per-column quantization parameters or its bias. */
function isOutputLayerTensor(dims: readonly number[], vocabSize: number, dModel: number): boolean {
  if (dims.at(-1) !== vocabSize) return false;
  return dims.length === 1 || (dims.length === 2 && (dims[0] === 1 || dims[0] === dModel));
}

function cutColumns(tensor: TensorProto, dims: number[], kept: Int32Array): void {
  const where = `initializer ${tensor.name}`;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new UntrimmableOutputLayerError(`${where} is stored outside the model file; use the q8 model, whose weights are inside it`);
  const bytes = ELEMENT_BYTES[tensor.dataType ?? -1];
  const raw = tensor.rawData;
  if (!bytes || !raw || raw.length === 0)
    throw new UntrimmableOutputLayerError(`${where} is not a float or 8-bit tensor stored as raw bytes`);
  const columns = dims.at(-1)!;
  const rows = dims.length === 2 ? dims[0]! : 1;
  const cut = new Uint8Array(rows * kept.length * bytes);
  for (let r = 0; r < rows; r++) {
    const from = r * columns * bytes;
    const to = r * kept.length * bytes;
    for (let j = 0; j < kept.length; j++) {
      const at = from + kept[j]! * bytes;
      cut.set(raw.subarray(at, at + bytes), to + j * bytes);
    }
  }
  tensor.rawData = cut;
  tensor.dims = [...dims.slice(0, -1), kept.length];
}

/** A declared shape whose last axis is the vocabulary gets the kept width. */
function narrowShape(value: OnnxTypes.IValueInfoProto, vocabSize: number, width: number): void {
  const dims = value.type?.tensorType?.shape?.dim;
  const last = dims?.at(-1);
  if (last?.dimValue !== undefined && last.dimValue !== null && Number(last.dimValue) === vocabSize) last.dimValue = width;
}
