import { describe, expect, it } from 'vitest';
import { type Graph, floatTensor, walkNodes } from '../../../src/models/convert/onnx-graph.js';
import { quantizeAsymmetricUint8, quantizeDynamic, quantizeSymmetricInt8 } from '../../../src/models/convert/quantize.js';

describe('quantizeSymmetricInt8', () => {
  it('maps the largest magnitude to ±127 with zero point 0, rounding half to even', () => {
    const { data, scale } = quantizeSymmetricInt8(Float32Array.of(127, -127, 2.5, 3.5, -2.5, 0.4, 0));
    expect(scale).toBe(1);
    expect(Array.from(data)).toEqual([127, -127, 2, 4, -2, 0, 0]);
    const small = quantizeSymmetricInt8(Float32Array.of(0.5, -0.25));
    expect(small.scale).toBeCloseTo(0.5 / 127, 9);
    expect(Array.from(small.data)).toEqual([127, -64]);
  });
});

describe('quantizeAsymmetricUint8', () => {
  it('spans [min(w, 0), max(w, 0)] over 0…255 with the zero point where 0 lands', () => {
    const { data, scale, zeroPoint } = quantizeAsymmetricUint8(Float32Array.of(-1, 0, 0.5, 1.55));
    expect(scale).toBeCloseTo(0.01, 7);
    expect(zeroPoint).toBe(100);
    expect(Array.from(data)).toEqual([0, 100, 150, 255]);
    expect(quantizeAsymmetricUint8(Float32Array.of(2, 3)).zeroPoint).toBe(0);
  });
});

describe('quantizeDynamic', () => {
  const graph: Graph = {
    name: 'g',
    inputs: [
      { name: 'x', type: 'float32', shape: ['n', 2] },
      { name: 'ids', type: 'int64', shape: ['n'] },
    ],
    outputs: [{ name: 'y', type: 'float32', shape: ['n', 2] }],
    initializers: [floatTensor('w', [2, 2], Float32Array.of(1, 2, 3, 4)), floatTensor('table', [3, 2], Float32Array.of(0, 1, 2, 3, 4, 5))],
    nodes: [
      { name: 'a', opType: 'MatMul', inputs: ['x', 'w'], outputs: ['a_out'], attributes: {} },
      { name: 'b', opType: 'MatMul', inputs: ['x', 'w'], outputs: ['b_out'], attributes: {} },
      { name: 'c', opType: 'MatMul', inputs: ['a_out', 'b_out'], outputs: ['c_out'], attributes: {} },
      { name: 'g', opType: 'Gather', inputs: ['table', 'ids'], outputs: ['g_out'], attributes: { axis: { int: 0 } } },
      { name: 'sum', opType: 'Add', inputs: ['c_out', 'g_out'], outputs: ['y'], attributes: {} },
    ],
  };
  const quantized = quantizeDynamic(graph);
  const ops = Array.from(walkNodes(quantized), (n) => n.opType);

  it('quantizes each activation once and each weight once, as ORT names them', () => {
    expect(ops.filter((op) => op === 'DynamicQuantizeLinear')).toHaveLength(1);
    expect(ops.filter((op) => op === 'MatMulInteger')).toHaveLength(2);
    expect(quantized.initializers.map((t) => `${t.name}:${t.type}`).sort()).toEqual([
      'table_quantized:uint8',
      'table_scale:float32',
      'table_zero_point:uint8',
      'w_quantized:int8',
      'w_scale:float32',
      'w_zero_point:int8',
    ]);
  });

  it('quantizes a main-graph input read in an If branch once, in the main graph', () => {
    const branch = (name: string): Graph => ({
      name,
      inputs: [],
      outputs: [{ name: `${name}_y`, type: 'float32', shape: ['n', 2] }],
      initializers: [],
      nodes: [{ name: `${name}_mm`, opType: 'MatMul', inputs: ['x', 'w'], outputs: [`${name}_y`], attributes: {} }],
    });
    const withIf = quantizeDynamic({
      ...graph,
      inputs: [...graph.inputs, { name: 'flag', type: 'bool', shape: [1] }],
      nodes: [
        {
          name: 'if',
          opType: 'If',
          inputs: ['flag'],
          outputs: ['y'],
          attributes: { then_branch: { graph: branch('a') }, else_branch: { graph: branch('b') } },
        },
      ],
    });
    expect(withIf.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeLinear', 'If']);
    expect(Array.from(walkNodes(withIf), (n) => n.opType).filter((op) => op === 'MatMulInteger')).toHaveLength(2);
  });

  it('leaves activation × activation MatMuls in float and dequantizes gathered rows', () => {
    expect(quantized.nodes.find((n) => n.name === 'c')?.opType).toBe('MatMul');
    const dequantize = quantized.nodes.find((n) => n.opType === 'DequantizeLinear');
    expect(dequantize?.inputs).toEqual(['g_out_quantized', 'table_scale', 'table_zero_point']);
    expect(dequantize?.outputs).toEqual(['g_out']);
    const integer = quantized.nodes.find((n) => n.name === 'a_quant');
    expect(integer?.inputs).toEqual(['x_quantized', 'w_quantized', 'x_zero_point', 'w_zero_point']);
  });
});
