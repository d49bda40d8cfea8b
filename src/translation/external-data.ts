/**
 * ONNX external data: a graph over protobuf's 2 GB limit (NLLB-200-600M's fp32 decoder) keeps its
 * initializers in a file beside it (`decoder_model_merged.onnx_data`), each tensor recording
 * `location`, `offset` and `length`. onnxruntime reads that file itself when a session is created from
 * the model's path; a graph rewritten in memory first (./rowwise-quantization.ts reads the weights)
 * needs the bytes put back into its tensors, which this does.
 */
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
/** The most bytes one protobuf message may have. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Every tensor of a graph and its subgraphs that can hold external data: initializers and tensor attributes. */
function* graphTensors(graph: OnnxTypes.IGraphProto): Generator<OnnxTypes.ITensorProto> {
  yield* graph.initializer ?? [];
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.t) yield attribute.t;
      if (attribute.g) yield* graphTensors(attribute.g);
      for (const subgraph of attribute.graphs ?? []) yield* graphTensors(subgraph);
    }
  }
}

/**
 * The model of `modelFile` (its bytes) with every external tensor's data read into `rawData`, so it
 * loads from bytes alone; the bytes as they are when nothing is external. The result must stay under
 * protobuf's 2 GB, which a q8 model of NLLB-200-600M's size does.
 */
export async function withInlinedExternalData(bytes: Uint8Array, modelFile: string): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(bytes);
  const external = model.graph ? [...graphTensors(model.graph)].filter((tensor) => tensor.dataLocation === EXTERNAL) : [];
  if (external.length === 0) return bytes;
  const inlined = external.reduce(
    (sum, tensor) => sum + Number(tensor.externalData?.find(({ key }) => key === 'length')?.value ?? 0),
    bytes.length,
  );
  if (inlined > PROTOBUF_LIMIT)
    throw new Error(
      `${modelFile}: its ${(inlined / 2 ** 30).toFixed(1)} GiB of weights cannot be held in one protobuf (2 GiB) to be rewritten in memory (q8 per-row activations, translation.trimOutputVocabulary); use the q8 model, or turn the rewrite off`,
    );
  const files = new Map<string, FileHandle>();
  try {
    for (const tensor of external) {
      const entry = Object.fromEntries((tensor.externalData ?? []).map(({ key, value }) => [key, value]));
      const location = path.join(path.dirname(modelFile), entry.location ?? '');
      const offset = Number(entry.offset ?? 0);
      const length = Number(entry.length);
      let handle = files.get(location);
      if (!handle) {
        handle = await open(location, 'r').catch((error: Error) => {
          throw new Error(
            `${modelFile}: its weights are in ${location}, which cannot be read (${error.message}); pull or convert the model again`,
          );
        });
        files.set(location, handle);
      }
      const data = new Uint8Array(length);
      const { bytesRead } = await handle.read(data, 0, length, offset);
      if (bytesRead !== length)
        throw new Error(
          `${location}: tensor ${tensor.name} needs bytes ${offset}–${offset + length}, the file ends first; pull or convert the model again`,
        );
      tensor.rawData = data;
      tensor.externalData = [];
      tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    }
  } finally {
    await Promise.all([...files.values()].map((handle) => handle.close()));
  }
  return onnx.ModelProto.encode(model).finish();
}
