/**
 * Per-row activation quantization for q8 models, so a sentence's translation does not depend on what
 * it is batched with.
 *
 * ONNX Runtime's `quantize_dynamic` (the q8 exports) quantizes each MatMul's activations with
 * `DynamicQuantizeLinear`: one scale and zero point for the whole tensor, that is for every token of
 * every sentence in the batch, so a long or loud batch mate changes how a sentence is rounded. This
 * rewrite gives every row (one token position of one sentence: the last axis is the one multiplied)
 * its own scale and zero point, computed exactly as `DynamicQuantizeLinear` computes them for a whole
 * tensor, so a row's integers and its output depend on that row alone.
 *
 * ONNX's `MatMulInteger` allows a per-row `a_zero_point`, but ONNX Runtime's CPU kernel accepts only
 * a scalar. So the product is taken with a zero point of 0 and corrected exactly, in int32:
 *   Σₖ (a[m,k] − zpₘ)(b[k,n] − zp_b[n]) = Σₖ a[m,k](b[k,n] − zp_b[n]) − zpₘ · Σₖ (b[k,n] − zp_b[n]),
 * the last sum being a constant per weight column, computed here from the weight initializer.
 * The scale Mul nodes that follow are left as they are: they broadcast the per-row scale.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

type NodeProto = OnnxTypes.INodeProto;
type GraphProto = OnnxTypes.IGraphProto;
type TensorProto = OnnxTypes.ITensorProto;

/** The `MatMulInteger` inputs: A, B, a_zero_point, b_zero_point. */
const B_INPUT = 1;
const A_ZERO_POINT_INPUT = 2;
const B_ZERO_POINT_INPUT = 3;

/** A model that does not have the layout `quantize_dynamic` writes, where the rewrite would change its results. */
export class UnsupportedQuantizedGraphError extends Error {}

/**
 * Rewrites every `DynamicQuantizeLinear` → `MatMulInteger` pair of an ONNX model to quantize
 * activations per row; every other node is kept as it is. A model without `DynamicQuantizeLinear`
 * (fp32) comes back unchanged. Throws `UnsupportedQuantizedGraphError` when a quantized activation
 * feeds something else than `MatMulInteger` (and its scale something else than `Mul`), or a weight
 * is not a 2-D initializer.
 */
export function rowwiseQuantized(model: Uint8Array): Uint8Array {
  const decoded = onnx.ModelProto.decode(model);
  const graph = decoded.graph;
  if (!graph || !walkNodes(graph).some(({ node }) => node.opType === 'DynamicQuantizeLinear')) return model;
  const opset = Number(decoded.opsetImport.find((entry) => (entry.domain ?? '') === '')?.version ?? 0);
  new RowwiseRewrite(graph, opset).run();
  return onnx.ModelProto.encode(decoded).finish();
}

interface PlacedNode {
  node: NodeProto;
  graph: GraphProto;
}

function walkNodes(graph: GraphProto): PlacedNode[] {
  const placed: PlacedNode[] = [];
  for (const node of graph.node ?? []) {
    placed.push({ node, graph });
    for (const attribute of node.attribute ?? []) {
      if (attribute.g) placed.push(...walkNodes(attribute.g));
      for (const sub of attribute.graphs ?? []) placed.push(...walkNodes(sub));
    }
  }
  return placed;
}

/** The intermediate values of one rewritten quantization, named as they are in the graph. */
const REWRITE_VALUES = [
  'min',
  'max',
  'low',
  'high',
  'range',
  'raw_scale',
  'neg_low',
  'zp_ratio',
  'zp_rounded',
  'zp_float',
  'scaled',
  'rounded',
  'shifted',
  'clipped',
] as const;
type NamesOf<T extends readonly string[]> = { -readonly [K in keyof T]: string };
type RewriteValues = NamesOf<typeof REWRITE_VALUES>;

class RowwiseRewrite {
  private readonly names = new Set<string>();
  private readonly initializerList: TensorProto[];
  private readonly initializers: Map<string, TensorProto>;
  private readonly columnSums = new Map<string, string>();
  private readonly consumers = new Map<string, PlacedNode[]>();
  private readonly graphOutputs = new Set<string>();
  /** Values whose shape the rewrite changes (per-tensor scalars that become per-row). */
  private readonly reshaped = new Set<string>();
  private readonly constants: { zero: string; byteMax: string; tiny: string; lastAxis: string | undefined };

  constructor(
    private readonly main: GraphProto,
    opset: number,
  ) {
    main.initializer ??= [];
    this.initializerList = main.initializer;
    this.initializers = new Map(main.initializer.map((tensor) => [tensor.name ?? '', tensor]));
    for (const placed of walkNodes(main)) {
      if (placed.node.name) this.names.add(placed.node.name);
      for (const output of placed.node.output ?? []) this.names.add(output);
      placed.node.input?.forEach((input) => {
        if (input === '') return;
        const list = this.consumers.get(input) ?? [];
        list.push(placed);
        this.consumers.set(input, list);
      });
    }
    for (const name of this.initializers.keys()) this.names.add(name);
    for (const graph of [main, ...walkNodes(main).map(({ graph }) => graph)]) {
      for (const output of graph.output ?? []) this.graphOutputs.add(output.name ?? '');
    }
    this.constants = {
      zero: this.floatConstant('rowwise_quantization/zero', 0),
      byteMax: this.floatConstant('rowwise_quantization/255', 255),
      // A row of zeros has range 0; any positive scale quantizes it to its zero point, 0.
      tiny: this.floatConstant('rowwise_quantization/smallest_scale', 1.1754943508222875e-38),
      // ReduceMin/ReduceMax take their axes as an input from opset 18 on, as an attribute before.
      lastAxis:
        opset >= 18 ? this.addInitializer('rowwise_quantization/last_axis', DataType.INT64, [1], new BigInt64Array([-1n])) : undefined,
    };
  }

  run(): void {
    for (const { node, graph } of walkNodes(this.main)) {
      if (node.opType === 'DynamicQuantizeLinear') this.rewrite(node, graph);
    }
    // Shapes recorded for the old per-tensor values (scalars) no longer hold.
    for (const { graph } of [{ graph: this.main }, ...walkNodes(this.main)]) {
      if (graph.valueInfo) graph.valueInfo = graph.valueInfo.filter((info) => !this.reshaped.has(info.name ?? ''));
    }
  }

  private rewrite(dql: NodeProto, graph: GraphProto): void {
    const [x, quantized, scale, zeroPoint] = [dql.input?.[0], ...(dql.output ?? [])] as string[];
    const where = `DynamicQuantizeLinear node "${dql.name}"`;
    if (!x || !quantized || !scale || !zeroPoint) throw new UnsupportedQuantizedGraphError(`${where} lacks an input or output`);
    const exposed = [quantized, scale, zeroPoint].find((name) => this.graphOutputs.has(name));
    if (exposed) throw new UnsupportedQuantizedGraphError(`${where}: its output "${exposed}" is a graph output`);
    const matmuls = this.consumers.get(quantized) ?? [];
    for (const { node } of [...matmuls, ...(this.consumers.get(zeroPoint) ?? [])]) {
      if (node.opType !== 'MatMulInteger' || node.input?.[0] !== quantized || node.input?.[A_ZERO_POINT_INPUT] !== zeroPoint) {
        throw new UnsupportedQuantizedGraphError(
          `${where}: its output feeds ${node.opType} "${node.name}", not MatMulInteger as A with its zero point`,
        );
      }
    }
    for (const { node } of this.consumers.get(scale) ?? []) {
      if (node.opType !== 'Mul')
        throw new UnsupportedQuantizedGraphError(`${where}: its scale feeds ${node.opType} "${node.name}", not Mul`);
    }

    const base = this.unique(`${dql.name || x}/rowwise`);
    const value = (suffix: string) => this.unique(`${base}/${suffix}`);
    const { zero, byteMax, tiny } = this.constants;
    const rowZeroPoint = value('zero_point_int32');
    const [min, max, low, high, range, rawScale, negLow, zpRatio, zpRounded, zpFloat, scaled, rounded, shifted, clipped] =
      REWRITE_VALUES.map(value) as RewriteValues;
    const replacement: NodeProto[] = [
      this.reduce('ReduceMin', x, min),
      this.reduce('ReduceMax', x, max),
      // Like DynamicQuantizeLinear, the range always holds 0, so 0 is exactly representable.
      this.node('Min', [min, zero], [low]),
      this.node('Max', [max, zero], [high]),
      this.node('Sub', [high, low], [range]),
      this.node('Div', [range, byteMax], [rawScale]),
      this.node('Max', [rawScale, tiny], [scale]),
      this.node('Neg', [low], [negLow]),
      this.node('Div', [negLow, scale], [zpRatio]),
      this.node('Round', [zpRatio], [zpRounded]),
      this.node('Clip', [zpRounded, zero, byteMax], [zpFloat]),
      this.node('Div', [x, scale], [scaled]),
      this.node('Round', [scaled], [rounded]),
      this.node('Add', [rounded, zpFloat], [shifted]),
      this.node('Clip', [shifted, zero, byteMax], [clipped]),
      this.node('Cast', [clipped], [quantized], { name: 'to', type: AttributeType.INT, i: DataType.UINT8 }),
      this.node('Cast', [zpFloat], [rowZeroPoint], { name: 'to', type: AttributeType.INT, i: DataType.INT32 }),
    ];
    const nodes = graph.node as NodeProto[];
    const at = nodes.indexOf(dql);
    nodes.splice(at, 1);
    // quantize_dynamic puts the quantization of a main-graph input read only inside an If branch
    // (the encoder states, in the decoder's first-step branch) before the If, so it runs at every
    // step whichever branch is taken. It was one fused node; now it is several passes over the
    // tensor, so it moves into the one branch that reads it, before its first reader there.
    const readers = [...matmuls, ...(this.consumers.get(scale) ?? [])];
    const homes = new Set(readers.map((reader) => reader.graph));
    const [home] = homes;
    if (homes.size === 1 && home && home !== graph) {
      const homeNodes = home.node as NodeProto[];
      homeNodes.splice(Math.min(...readers.map((reader) => homeNodes.indexOf(reader.node))), 0, ...replacement);
    } else {
      nodes.splice(at, 0, ...replacement);
    }
    for (const name of [quantized, scale, zeroPoint, ...(this.consumers.get(scale) ?? []).flatMap(({ node }) => node.output ?? [])]) {
      this.reshaped.add(name);
    }
    for (const placed of matmuls) this.correctZeroPoint(placed, rowZeroPoint);
  }

  /** `MatMulInteger` with A's zero point 0, then − zpₘ · (column sums of B − zp_b), in int32. */
  private correctZeroPoint({ node, graph }: PlacedNode, rowZeroPoint: string): void {
    const inputs = node.input as string[];
    const output = (node.output as string[])[0] as string;
    const sums = this.columnSumsOf(inputs[B_INPUT] as string, inputs[B_ZERO_POINT_INPUT], node.name ?? output);
    inputs[A_ZERO_POINT_INPUT] = '';
    const uncorrected = this.unique(`${output}/rowwise_uncorrected`);
    const correction = this.unique(`${output}/rowwise_zero_point_term`);
    (node.output as string[])[0] = uncorrected;
    const nodes = graph.node as NodeProto[];
    nodes.splice(
      nodes.indexOf(node) + 1,
      0,
      this.node('Mul', [rowZeroPoint, sums], [correction]),
      this.node('Sub', [uncorrected, correction], [output]),
    );
  }

  private columnSumsOf(weight: string, weightZeroPoint: string | undefined, where: string): string {
    const key = `${weight}\u0000${weightZeroPoint ?? ''}`;
    const known = this.columnSums.get(key);
    if (known) return known;
    const tensor = this.initializers.get(weight);
    const dims = (tensor?.dims ?? []).map(Number);
    if (!tensor || dims.length !== 2) {
      throw new UnsupportedQuantizedGraphError(`MatMulInteger "${where}": its weight "${weight}" is not a 2-D initializer`);
    }
    const [rows, columns] = dims as [number, number];
    const values = integerValues(tensor, `MatMulInteger "${where}"`);
    const zeroPoints = weightZeroPoint
      ? integerValues(this.initializers.get(weightZeroPoint) ?? {}, `MatMulInteger "${where}" zero point`)
      : [0];
    const sums = new Int32Array(columns);
    for (let k = 0; k < rows; k++) {
      for (let n = 0; n < columns; n++)
        sums[n]! += (values[k * columns + n] as number) - (zeroPoints.length === 1 ? zeroPoints[0]! : zeroPoints[n]!);
    }
    const name = this.addInitializer(`${weight}/rowwise_column_sums`, DataType.INT32, [columns], sums);
    this.columnSums.set(key, name);
    return name;
  }

  private reduce(op: 'ReduceMin' | 'ReduceMax', x: string, output: string): NodeProto {
    const keepdims = { name: 'keepdims', type: AttributeType.INT, i: 1 };
    const { lastAxis } = this.constants;
    if (lastAxis) return this.node(op, [x, lastAxis], [output], keepdims);
    return this.node(op, [x], [output], keepdims, { name: 'axes', type: AttributeType.INTS, ints: [-1] });
  }

  private node(opType: string, input: string[], output: string[], ...attribute: OnnxTypes.IAttributeProto[]): NodeProto {
    return { name: this.unique(`${output[0]}/${opType}`), opType, domain: '', input, output, attribute };
  }

  private floatConstant(name: string, value: number): string {
    return this.addInitializer(name, DataType.FLOAT, [], Float32Array.of(value));
  }

  private addInitializer(base: string, dataType: number, dims: number[], data: Float32Array | Int32Array | BigInt64Array): string {
    const name = this.unique(base);
    const tensor: TensorProto = { name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    this.initializerList.push(tensor);
    this.initializers.set(name, tensor);
    return name;
  }

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }
}

/** The values of an int8 or uint8 initializer (raw bytes, or int32_data as ONNX also allows). */
function integerValues(tensor: TensorProto, where: string): ArrayLike<number> {
  const raw = tensor.rawData;
  if (tensor.dataType === DataType.INT8) {
    return raw && raw.length > 0 ? new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength) : (tensor.int32Data ?? []);
  }
  if (tensor.dataType === DataType.UINT8) {
    return raw && raw.length > 0 ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : (tensor.int32Data ?? []);
  }
  throw new UnsupportedQuantizedGraphError(`${where}: expected an int8 or uint8 initializer, got data type ${tensor.dataType}`);
}
