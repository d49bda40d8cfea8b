/**
 * A small in-memory ONNX graph representation, a builder that names nodes and values the way
 * `torch.onnx.export` does (`/model/encoder/layers.0/self_attn/MatMul` → `…/MatMul_output_0`), and
 * serialization to a ModelProto with the `onnx-proto` bindings. Written here because no JS library
 * builds ONNX graphs; the Python `onnx` helpers are not reachable from this machine.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export type ElementType = 'float32' | 'int64' | 'int8' | 'uint8' | 'bool';

/** A fixed size or a named dynamic dimension (`batch_size`). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElementType;
  shape: Dim[];
}

export type TensorData = Float32Array | BigInt64Array | Int8Array | Uint8Array;

export interface Tensor {
  name: string;
  type: ElementType;
  dims: number[];
  data: TensorData;
}

export type AttributeValue = { int: number } | { ints: number[] } | { float: number } | { tensor: Tensor } | { graph: Graph };

export interface GraphNode {
  name: string;
  opType: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface Graph {
  name: string;
  nodes: GraphNode[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Only the main graph has initializers; subgraphs read them from the outer scope. */
  initializers: Tensor[];
}

const ELEMENT_TYPE_CODES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** Value and node names unique across the whole model, including subgraphs (ONNX is SSA across scopes). */
export class NameRegistry {
  private readonly counts = new Map<string, number>();

  unique(base: string): string {
    const seen = this.counts.get(base);
    this.counts.set(base, (seen ?? 0) + 1);
    return seen === undefined ? base : `${base}_${seen}`;
  }
}

export function floatTensor(name: string, dims: number[], data: Float32Array): Tensor {
  return { name, type: 'float32', dims, data };
}

export function int64Tensor(name: string, dims: number[], values: number[]): Tensor {
  return { name, type: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/**
 * Emits nodes into one graph. `scope` is the torch-style module path used to name nodes;
 * `at()` returns a builder for a sub-module writing into the same graph.
 */
export class GraphBuilder {
  constructor(
    readonly nodes: GraphNode[],
    /** Initializers go to the main graph, also when building a subgraph. */
    private readonly initializers: Tensor[],
    private readonly names: NameRegistry,
    readonly scope: string,
  ) {}

  at(subScope: string): GraphBuilder {
    return new GraphBuilder(this.nodes, this.initializers, this.names, `${this.scope}/${subScope}`);
  }

  /** Adds a node with `outputCount` outputs and returns their names. */
  opN(opType: string, inputs: string[], outputCount: number, attributes: Record<string, AttributeValue> = {}): string[] {
    const name = this.names.unique(`${this.scope}/${opType}`);
    const outputs = Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ name, opType, inputs, outputs, attributes });
    return outputs;
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    const [output] = this.opN(opType, inputs, 1, attributes);
    return output as string;
  }

  /** Adds a node whose outputs carry the given names (graph outputs, for instance). */
  opNamed(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): void {
    const name = this.names.unique(`${this.scope}/${opType}`);
    this.nodes.push({ name, opType, inputs, outputs, attributes });
  }

  initializer(tensor: Tensor): string {
    this.initializers.push(tensor);
    return tensor.name;
  }

  /** A small constant (shape vector, scalar) stored as an initializer with a unique name. */
  constInt64(values: number[], dims: number[] = [values.length]): string {
    return this.initializer(int64Tensor(this.names.unique(`${this.scope}/Constant_int64`), dims, values));
  }

  constFloat(value: number): string {
    const name = this.names.unique(`${this.scope}/Constant_float`);
    return this.initializer(floatTensor(name, [], Float32Array.of(value)));
  }

  uniqueName(base: string): string {
    return this.names.unique(base);
  }
}

function valueInfoProto(info: ValueInfo): OnnxTypes.IValueInfoProto {
  return {
    name: info.name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE_CODES[info.type],
        shape: {
          dim: info.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/**
 * Where large initializers go when a model is written with external data (ONNX's limit for one
 * protobuf is 2 GB): their bytes are appended to `chunks`, the proto records location/offset/length.
 */
interface ExternalData {
  location: string;
  chunks: Uint8Array[];
  offset: number;
}

/** Initializers at least this large go to the external data file, as onnx.save_model's default threshold. */
const EXTERNAL_MIN_BYTES = 1024;

function tensorProto(tensor: Tensor, external?: ExternalData): OnnxTypes.ITensorProto {
  const { data } = tensor;
  if (external !== undefined && data.byteLength >= EXTERNAL_MIN_BYTES) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const entry = { offset: external.offset, length: bytes.byteLength };
    external.chunks.push(bytes);
    external.offset += bytes.byteLength;
    return {
      name: tensor.name,
      dataType: ELEMENT_TYPE_CODES[tensor.type],
      dims: tensor.dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: external.location },
        { key: 'offset', value: String(entry.offset) },
        { key: 'length', value: String(entry.length) },
      ],
    };
  }
  return {
    name: tensor.name,
    dataType: ELEMENT_TYPE_CODES[tensor.type],
    dims: tensor.dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function attributeProto(name: string, value: AttributeValue, external?: ExternalData): OnnxTypes.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: types.INT, i: value.int };
  if ('ints' in value) return { name, type: types.INTS, ints: value.ints };
  if ('float' in value) return { name, type: types.FLOAT, f: value.float };
  if ('tensor' in value) return { name, type: types.TENSOR, t: tensorProto(value.tensor) };
  return { name, type: types.GRAPH, g: graphProto(value.graph, external) };
}

function graphProto(graph: Graph, external?: ExternalData): OnnxTypes.IGraphProto {
  return {
    name: graph.name,
    node: graph.nodes.map((node) => ({
      name: node.name,
      opType: node.opType,
      domain: node.domain ?? '',
      input: node.inputs,
      output: node.outputs,
      attribute: Object.entries(node.attributes).map(([key, value]) => attributeProto(key, value, external)),
    })),
    input: graph.inputs.map(valueInfoProto),
    output: graph.outputs.map(valueInfoProto),
    initializer: graph.initializers.map((tensor) => tensorProto(tensor, external)),
  };
}

/** Opset 14, as Optimum exports Marian; IR version 8. */
export const OPSET_VERSION = 14;

export function serializeModel(graph: Graph, producer: string): Uint8Array {
  return onnx.ModelProto.encode(modelProto(graph, producer)).finish();
}

function modelProto(graph: Graph, producer: string, external?: ExternalData): OnnxTypes.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: producer,
    producerVersion: '1',
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    graph: graphProto(graph, external),
  });
}

/** Initializer bytes of a graph: above ONNX's 2 GB protobuf limit, a model needs external data. */
export function initializerBytes(graph: Graph): number {
  return graph.initializers.reduce((total, tensor) => total + tensor.data.byteLength, 0);
}

/**
 * The model with its large initializers in a separate file `dataLocation` (a name relative to
 * the model file, `decoder_model_merged.onnx_data` as transformers.js expects): returns the model
 * bytes and the data file's chunks in order.
 */
export function serializeModelWithExternalData(
  graph: Graph,
  producer: string,
  dataLocation: string,
): { model: Uint8Array; data: Uint8Array[] } {
  const external: ExternalData = { location: dataLocation, chunks: [], offset: 0 };
  const model = onnx.ModelProto.encode(modelProto(graph, producer, external)).finish();
  return { model, data: external.chunks };
}

/** Every node of a graph and of its subgraphs, depth first. */
export function* walkNodes(graph: Graph): Generator<GraphNode> {
  for (const node of graph.nodes) {
    yield node;
    for (const value of Object.values(node.attributes)) {
      if ('graph' in value) yield* walkNodes(value.graph);
    }
  }
}
