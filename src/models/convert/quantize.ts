/**
 * 8-bit dynamic quantization of a graph, emitting what ONNX Runtime's `quantize_dynamic` emits in
 * its default settings (IntegerOps mode, weight type QInt8 → symmetric, per-tensor, no reduced
 * range, MatMulConstBOnly, EnableSubgraph as transformers.js' converter sets it):
 * - MatMul with an initializer B → `DynamicQuantizeLinear(A)` (uint8, shared by every MatMul reading
 *   A in the same graph) + `MatMulInteger(A_q, B_q, A_zp, B_zp)` + `Cast` to float + `Mul` of the
 *   two scales + `Mul` back onto the original output name;
 * - Gather on an initializer table → `Gather` on the table quantized like an activation (uint8,
 *   asymmetric, ORT's GatherQuant does not use the weight type) + `DequantizeLinear`.
 * Names follow ORT's quantizer (`W_quantized`, `W_scale`, `W_zero_point`, `X_output_quantized`, …).
 * Float initializers no node reads any more are dropped. Checked against onnxruntime 1.30's Python
 * quantize_dynamic on the generated fp32 graphs: same nodes, same initializer bytes.
 */
import { type Graph, type GraphNode, type Tensor, walkNodes } from './onnx-graph.js';

function node(name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode {
  return { name, opType, inputs, outputs, attributes };
}

interface QuantizedWeight {
  data: string;
  scale: string;
  zeroPoint: string;
}

/** numpy's round-half-to-even, which ORT's quantize_nparray uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Symmetric int8 over [-127, 127]: scale = max|w| / 127, zero point 0. */
export function quantizeSymmetricInt8(values: Float32Array): { data: Int8Array; scale: number } {
  let absMax = 0;
  for (const v of values) absMax = Math.max(absMax, Math.abs(v));
  const scale = absMax === 0 ? 1 : Math.fround((2 * absMax) / 254);
  const data = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround((values[i] as number) / scale))));
  }
  return { data, scale };
}

/**
 * Asymmetric uint8 over [min(w, 0), max(w, 0)], as ORT quantizes activations and Gather tables:
 * scale and zero point in float64, the scale stored as float32.
 */
export function quantizeAsymmetricUint8(values: Float32Array): { data: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const range = Math.fround(max - min) / 255;
  if (range < 1.1754943508222875e-38) return { data: new Uint8Array(values.length), scale: 1, zeroPoint: 0 };
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-min / range)));
  const scale = Math.fround(range);
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = Math.max(0, Math.min(255, roundHalfEven(Math.fround((values[i] as number) / scale)) + zeroPoint));
  }
  return { data, scale, zeroPoint };
}

class DynamicQuantizer {
  private readonly floatInitializers: Map<string, Tensor>;
  private readonly quantizedWeights = new Map<string, QuantizedWeight>();
  readonly added: Tensor[] = [];
  /**
   * DynamicQuantizeLinear of main-graph inputs read inside a subgraph: ORT puts these in the main
   * graph (before the If), so they run once per call whichever branch is taken.
   */
  readonly hoisted: GraphNode[] = [];
  private readonly hoistedActivations = new Map<string, QuantizedWeight>();
  private mainInputs = new Set<string>();

  constructor(initializers: Tensor[]) {
    this.floatInitializers = new Map(initializers.filter((t) => t.type === 'float32' && t.dims.length === 2).map((t) => [t.name, t]));
  }

  isWeight(name: string | undefined): name is string {
    return name !== undefined && this.floatInitializers.has(name);
  }

  /** A MatMul weight (int8, symmetric) or a Gather table (uint8, asymmetric). */
  weight(name: string, use: 'matmul' | 'gather'): QuantizedWeight {
    const known = this.quantizedWeights.get(name);
    if (known) return known;
    const tensor = this.floatInitializers.get(name) as Tensor;
    const values = tensor.data as Float32Array;
    const quantized = { data: `${name}_quantized`, scale: `${name}_scale`, zeroPoint: `${name}_zero_point` };
    if (use === 'matmul') {
      const { data, scale } = quantizeSymmetricInt8(values);
      this.added.push(
        { name: quantized.data, type: 'int8', dims: tensor.dims, data },
        { name: quantized.scale, type: 'float32', dims: [], data: Float32Array.of(scale) },
        { name: quantized.zeroPoint, type: 'int8', dims: [], data: Int8Array.of(0) },
      );
    } else {
      const { data, scale, zeroPoint } = quantizeAsymmetricUint8(values);
      this.added.push(
        { name: quantized.data, type: 'uint8', dims: tensor.dims, data },
        { name: quantized.scale, type: 'float32', dims: [], data: Float32Array.of(scale) },
        { name: quantized.zeroPoint, type: 'uint8', dims: [], data: Uint8Array.of(zeroPoint) },
      );
    }
    this.quantizedWeights.set(name, quantized);
    return quantized;
  }

  main(graph: Graph): Graph {
    this.mainInputs = new Set(graph.inputs.map((input) => input.name));
    const quantized = this.graph(graph, true);
    return { ...quantized, nodes: [...this.hoisted, ...quantized.nodes] };
  }

  private graph(graph: Graph, isMain: boolean): Graph {
    const nodes: GraphNode[] = [];
    const localActivations = new Map<string, QuantizedWeight>();
    const activation = (input: string): QuantizedWeight => {
      const hoist = !isMain && this.mainInputs.has(input);
      const activations = hoist ? this.hoistedActivations : localActivations;
      const known = activations.get(input);
      if (known) return known;
      const quantized = { data: `${input}_quantized`, scale: `${input}_scale`, zeroPoint: `${input}_zero_point` };
      (hoist ? this.hoisted : nodes).push({
        name: `${input}_QuantizeLinear`,
        opType: 'DynamicQuantizeLinear',
        inputs: [input],
        outputs: [quantized.data, quantized.scale, quantized.zeroPoint],
        attributes: {},
      });
      activations.set(input, quantized);
      return quantized;
    };

    for (const original of graph.nodes) {
      const [first, second] = original.inputs;
      const [output] = original.outputs as [string];
      if (original.opType === 'MatMul' && first !== undefined && this.isWeight(second)) {
        const a = activation(first);
        const b = this.weight(second, 'matmul');
        const integer = `${output}_output_quantized`;
        const scales = `${original.name}_quant_scales_mul:0`;
        nodes.push(
          node(`${original.name}_quant`, 'MatMulInteger', [a.data, b.data, a.zeroPoint, b.zeroPoint], [integer]),
          node(`${integer}_cast`, 'Cast', [integer], [`${integer}_cast_output`], { to: { int: 1 } }),
          node(`${original.name}_quant_scales_mul`, 'Mul', [a.scale, b.scale], [scales]),
          node(`${original.name}_quant_output_scale_mul`, 'Mul', [`${integer}_cast_output`, scales], [output]),
        );
      } else if (original.opType === 'Gather' && this.isWeight(first) && second !== undefined) {
        const table = this.weight(first, 'gather');
        const gathered = `${output}_quantized`;
        nodes.push(
          { ...original, inputs: [table.data, second], outputs: [gathered] },
          node(`${output}_DequantizeLinear`, 'DequantizeLinear', [gathered, table.scale, table.zeroPoint], [output]),
        );
      } else {
        const attributes = Object.fromEntries(
          Object.entries(original.attributes).map(([key, value]) => [
            key,
            'graph' in value ? { graph: this.graph(value.graph, false) } : value,
          ]),
        );
        nodes.push({ ...original, attributes });
      }
    }
    return { ...graph, nodes };
  }
}

export function quantizeDynamic(graph: Graph): Graph {
  const quantizer = new DynamicQuantizer(graph.initializers);
  const quantized = quantizer.main(graph);
  const read = new Set<string>();
  for (const node of walkNodes(quantized)) for (const input of node.inputs) read.add(input);
  return {
    ...quantized,
    initializers: [...graph.initializers.filter((t) => read.has(t.name)), ...quantizer.added],
  };
}
