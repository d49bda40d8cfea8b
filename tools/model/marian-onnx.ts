/**
 * The two ONNX graphs of a MarianMT export as Optimum writes them for transformers.js:
 * `encoder_model` (input_ids, attention_mask → last_hidden_state) and `decoder_model_merged`, one
 * graph holding the first-step decoder and the with-past decoder as the branches of an `If` on
 * `use_cache_branch`, taking and returning the key/value cache. The computation is HF's
 * MarianMTModel: embeddings × √d_model plus static sinusoidal positions, post-norm layers
 * (attention → residual → LayerNorm, FFN with swish → residual → LayerNorm), no final layer norm,
 * lm_head tied to the embedding plus final_logits_bias. LayerNorm is decomposed as torch exports it
 * at opset 14.
 */
import { type Graph, GraphBuilder, type GraphNode, NameRegistry, type Tensor, type ValueInfo, floatTensor } from './onnx-graph.js';
import type { Attention, LayerNorm, Linear, MarianWeights } from './marian-weights.js';
import { transpose } from './marian-weights.js';

const LAYER_NORM_EPS = 1e-5;
/** torch.finfo(float32).min, the additive mask value transformers uses. */
const MASK_VALUE = -3.4028234663852886e38;

/** Initializer names follow the PyTorch parameter names of MarianMTModel. */
class Parameters {
  private readonly registered = new Map<Float32Array, string>();

  constructor(private readonly initializers: Tensor[]) {}

  add(name: string, dims: number[], data: Float32Array): string {
    const known = this.registered.get(data);
    if (known !== undefined) return known;
    this.initializers.push(floatTensor(name, dims, data));
    this.registered.set(data, name);
    return name;
  }
}

interface BuildContext {
  params: Parameters;
  weights: MarianWeights;
}

function linear(b: GraphBuilder, ctx: BuildContext, x: string, w: Linear, path: string): string {
  const weight = ctx.params.add(`${path}.weight`, [w.inFeatures, w.outFeatures], w.weight);
  const bias = ctx.params.add(`${path}.bias`, [w.outFeatures], w.bias);
  return b.op('Add', [b.op('MatMul', [x, weight]), bias]);
}

function layerNorm(b: GraphBuilder, ctx: BuildContext, x: string, w: LayerNorm, path: string): string {
  const d = w.gamma.length;
  const gamma = ctx.params.add(`${path}.weight`, [d], w.gamma);
  const beta = ctx.params.add(`${path}.bias`, [d], w.beta);
  const mean = b.op('ReduceMean', [x], { axes: { ints: [-1] }, keepdims: { int: 1 } });
  const centered = b.op('Sub', [x, mean]);
  const variance = b.op('ReduceMean', [b.op('Pow', [centered, b.constFloat(2)])], {
    axes: { ints: [-1] },
    keepdims: { int: 1 },
  });
  const normalized = b.op('Div', [centered, b.op('Sqrt', [b.op('Add', [variance, b.constFloat(LAYER_NORM_EPS)])])]);
  return b.op('Add', [b.op('Mul', [normalized, gamma]), beta]);
}

/** Post-norm residual: LayerNorm(residual + update), the norm being sub-module `module` of `path`. */
function addAndNorm(
  b: GraphBuilder,
  ctx: BuildContext,
  residual: string,
  update: string,
  norm: LayerNorm,
  module: string,
  path: string,
): string {
  return layerNorm(b.at(module), ctx, b.op('Add', [residual, update]), norm, `${path}.${module}`);
}

/** [B, T, D] → [B, H, T, D/H] */
function splitHeads(b: GraphBuilder, x: string, heads: number, headDim: number): string {
  return b.op('Transpose', [b.op('Reshape', [x, b.constInt64([0, 0, heads, headDim])])], {
    perm: { ints: [0, 2, 1, 3] },
  });
}

interface KeyValue {
  key: string;
  value: string;
}

/**
 * Scaled dot-product attention of `query` over `keyValue` (already split into heads) with an
 * additive mask broadcastable to [B, H, S, T]; returns the output projection.
 */
function attend(b: GraphBuilder, ctx: BuildContext, query: string, keyValue: KeyValue, mask: string, w: Attention, path: string): string {
  const { dModel: d, heads } = ctx.weights.dims;
  const headDim = d / heads;
  const q = b.op('Mul', [linear(b.at('q_proj'), ctx, query, w.q, `${path}.q_proj`), b.constFloat(headDim ** -0.5)]);
  const keyT = b.op('Transpose', [keyValue.key], { perm: { ints: [0, 1, 3, 2] } });
  const scores = b.op('Add', [b.op('MatMul', [splitHeads(b, q, heads, headDim), keyT]), mask]);
  const probs = b.op('Softmax', [scores], { axis: { int: -1 } });
  const context = b.op('Transpose', [b.op('MatMul', [probs, keyValue.value])], { perm: { ints: [0, 2, 1, 3] } });
  const merged = b.op('Reshape', [context, b.constInt64([0, 0, d])]);
  return linear(b.at('out_proj'), ctx, merged, w.out, `${path}.out_proj`);
}

function projectKeyValue(b: GraphBuilder, ctx: BuildContext, x: string, w: Attention, path: string): KeyValue {
  const { dModel: d, heads } = ctx.weights.dims;
  return {
    key: splitHeads(b, linear(b.at('k_proj'), ctx, x, w.k, `${path}.k_proj`), heads, d / heads),
    value: splitHeads(b, linear(b.at('v_proj'), ctx, x, w.v, `${path}.v_proj`), heads, d / heads),
  };
}

function feedForward(b: GraphBuilder, ctx: BuildContext, x: string, fc1: Linear, fc2: Linear, path: string): string {
  const hidden = linear(b.at('fc1'), ctx, x, fc1, `${path}.fc1`);
  const swish = b.op('Mul', [hidden, b.op('Sigmoid', [hidden])]);
  return linear(b.at('fc2'), ctx, swish, fc2, `${path}.fc2`);
}

/** int64 [B, T] with 1 for real tokens → float [B, 1, 1, T] with 0 or the mask value. */
function paddingMask(b: GraphBuilder, mask: string): string {
  const asFloat = b.op('Cast', [mask], { to: { int: 1 } });
  const inverted = b.op('Sub', [b.constFloat(1), asFloat]);
  return b.op('Unsqueeze', [b.op('Mul', [inverted, b.constFloat(MASK_VALUE)]), b.constInt64([1, 2])]);
}

/** Scalar int64 size of `axis` of `tensor`. */
function dimOf(b: GraphBuilder, tensor: string, axis: number): string {
  return b.op('Gather', [b.op('Shape', [tensor]), b.constInt64([axis], [])], { axis: { int: 0 } });
}

/** Token embedding × √d_model plus the positions [offset, offset + length). */
function embed(b: GraphBuilder, ctx: BuildContext, inputIds: string, offset: string, positionsName: string): string {
  const { dims } = ctx.weights;
  const table = ctx.params.add('model.shared.weight', [dims.vocabSize, dims.dModel], ctx.weights.embedding);
  const tokens = b.at('embed_tokens').op('Gather', [table, inputIds], { axis: { int: 0 } });
  const scaled = b.op('Mul', [tokens, b.constFloat(Math.sqrt(dims.dModel))]);
  const pb = b.at('embed_positions');
  const end = pb.op('Add', [offset, dimOf(pb, inputIds, 1)]);
  const positionIds = pb.op('Range', [offset, end, pb.constInt64([1], [])]);
  const positionTable = ctx.params.add(positionsName, [dims.maxPositions, dims.dModel], ctx.weights.positions);
  return b.op('Add', [scaled, pb.op('Gather', [positionTable, positionIds], { axis: { int: 0 } })]);
}

export function buildEncoderGraph(weights: MarianWeights): Graph {
  const initializers: Tensor[] = [];
  const nodes: GraphNode[] = [];
  const ctx: BuildContext = { params: new Parameters(initializers), weights };
  const b = new GraphBuilder(nodes, initializers, new NameRegistry(), '/model/encoder');
  const { dModel: d } = weights.dims;

  let hidden = embed(b, ctx, 'input_ids', b.constInt64([0], []), 'model.encoder.embed_positions.weight');
  const mask = paddingMask(b, 'attention_mask');
  weights.encoder.forEach((layer, i) => {
    const lb = b.at(`layers.${i}`);
    const path = `model.encoder.layers.${i}`;
    const ab = lb.at('self_attn');
    const keyValue = projectKeyValue(ab, ctx, hidden, layer.selfAttn, `${path}.self_attn`);
    const attended = attend(ab, ctx, hidden, keyValue, mask, layer.selfAttn, `${path}.self_attn`);
    hidden = addAndNorm(lb, ctx, hidden, attended, layer.selfAttnNorm, 'self_attn_layer_norm', path);
    const ffn = feedForward(lb, ctx, hidden, layer.fc1, layer.fc2, path);
    hidden = addAndNorm(lb, ctx, hidden, ffn, layer.finalNorm, 'final_layer_norm', path);
  });
  b.opNamed('Identity', [hidden], ['last_hidden_state']);

  return {
    name: 'main_graph',
    nodes,
    initializers,
    inputs: [
      { name: 'input_ids', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
      { name: 'attention_mask', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
    ],
    outputs: [{ name: 'last_hidden_state', type: 'float32', shape: ['batch_size', 'encoder_sequence_length', d] }],
  };
}

/** Names of the merged decoder's cache inputs/outputs, in Optimum's order. */
export function cacheNames(prefix: 'past_key_values' | 'present', layers: number): string[] {
  return Array.from({ length: layers }, (_, i) =>
    ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((part) => `${prefix}.${i}.${part}`),
  ).flat();
}

function emptyEncoderPresent(b: GraphBuilder, weights: MarianWeights): string {
  const { heads, dModel } = weights.dims;
  const empty: Tensor = { name: 'const_tensor', type: 'float32', dims: [0, heads, 1, dModel / heads], data: new Float32Array(0) };
  return b.op('Constant', [], { value: { tensor: empty } });
}

/** Optimum's name for the cross-attention cache length (it differs from the encoder's in the merged model). */
const ENCODER_CACHE_LENGTH = 'encoder_sequence_length_out';

function decoderInputs(weights: MarianWeights): ValueInfo[] {
  const { dModel: d, heads, decoderLayers } = weights.dims;
  const headDim = d / heads;
  return [
    { name: 'encoder_attention_mask', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
    { name: 'input_ids', type: 'int64', shape: ['batch_size', 'decoder_sequence_length'] },
    { name: 'encoder_hidden_states', type: 'float32', shape: ['batch_size', 'encoder_sequence_length', d] },
    ...cacheNames('past_key_values', decoderLayers).map(
      (name): ValueInfo => ({
        name,
        type: 'float32',
        shape: ['batch_size', heads, name.includes('.decoder.') ? 'past_decoder_sequence_length' : ENCODER_CACHE_LENGTH, headDim],
      }),
    ),
    { name: 'use_cache_branch', type: 'bool', shape: [1] },
  ];
}

function decoderOutputs(weights: MarianWeights): ValueInfo[] {
  const { dModel: d, heads, decoderLayers, vocabSize } = weights.dims;
  return [
    { name: 'logits', type: 'float32', shape: ['batch_size', 'decoder_sequence_length', vocabSize] },
    ...cacheNames('present', decoderLayers).map(
      (name): ValueInfo => ({
        name,
        type: 'float32',
        shape: ['batch_size', heads, name.includes('.decoder.') ? 'past_decoder_sequence_length + 1' : ENCODER_CACHE_LENGTH, d / heads],
      }),
    ),
  ];
}

/**
 * One branch of the merged decoder. Without past it computes the cross-attention keys/values from
 * encoder_hidden_states and returns them; with past it reuses them from the inputs and, like
 * Optimum's merge, returns empty constants [0, heads, 1, head_dim] in their place (callers keep the
 * ones they have).
 */
function decoderBranch(ctx: BuildContext, names: NameRegistry, initializers: Tensor[], withPast: boolean, lmHead: string): Graph {
  const nodes: GraphNode[] = [];
  const b = new GraphBuilder(nodes, initializers, names, '/model/decoder');
  const { weights } = ctx;
  const outputs: string[] = [];

  const pastLength = withPast ? dimOf(b, 'past_key_values.0.decoder.key', 2) : b.constInt64([0], []);
  let hidden = embed(b, ctx, 'input_ids', pastLength, 'model.decoder.embed_positions.weight');

  // Causal mask [1, 1, S, past + S]: query i (at position past + i) sees keys 0 … past + i.
  const mb = b.at('causal_mask');
  const total = mb.op('Add', [pastLength, dimOf(mb, 'input_ids', 1)]);
  const one = mb.constInt64([1], []);
  const queryPositions = mb.op('Unsqueeze', [mb.op('Range', [pastLength, total, one]), mb.constInt64([1])]);
  const keyPositions = mb.op('Unsqueeze', [mb.op('Range', [mb.constInt64([0], []), total, one]), mb.constInt64([0])]);
  const future = mb.op('Greater', [keyPositions, queryPositions]);
  const causal = mb.op('Where', [future, mb.constFloat(MASK_VALUE), mb.constFloat(0)]);
  const causalMask = mb.op('Unsqueeze', [causal, mb.constInt64([0, 1])]);
  const crossMask = paddingMask(b.at('cross_mask'), 'encoder_attention_mask');

  weights.decoder.forEach((layer, i) => {
    const lb = b.at(`layers.${i}`);
    const path = `model.decoder.layers.${i}`;

    const sb = lb.at('self_attn');
    const fresh = projectKeyValue(sb, ctx, hidden, layer.selfAttn, `${path}.self_attn`);
    const selfKeyValue = withPast
      ? {
          key: sb.op('Concat', [`past_key_values.${i}.decoder.key`, fresh.key], { axis: { int: 2 } }),
          value: sb.op('Concat', [`past_key_values.${i}.decoder.value`, fresh.value], { axis: { int: 2 } }),
        }
      : fresh;
    const selfAttended = attend(sb, ctx, hidden, selfKeyValue, causalMask, layer.selfAttn, `${path}.self_attn`);
    hidden = addAndNorm(lb, ctx, hidden, selfAttended, layer.selfAttnNorm, 'self_attn_layer_norm', path);

    const cb = lb.at('encoder_attn');
    const crossKeyValue = withPast
      ? { key: `past_key_values.${i}.encoder.key`, value: `past_key_values.${i}.encoder.value` }
      : projectKeyValue(cb, ctx, 'encoder_hidden_states', layer.crossAttn, `${path}.encoder_attn`);
    const crossAttended = attend(cb, ctx, hidden, crossKeyValue, crossMask, layer.crossAttn, `${path}.encoder_attn`);
    hidden = addAndNorm(lb, ctx, hidden, crossAttended, layer.crossAttnNorm, 'encoder_attn_layer_norm', path);

    const ffn = feedForward(lb, ctx, hidden, layer.fc1, layer.fc2, path);
    hidden = addAndNorm(lb, ctx, hidden, ffn, layer.finalNorm, 'final_layer_norm', path);

    const encoderPresent = withPast
      ? [emptyEncoderPresent(cb, weights), emptyEncoderPresent(cb, weights)]
      : [crossKeyValue.key, crossKeyValue.value];
    outputs.push(selfKeyValue.key, selfKeyValue.value, ...encoderPresent);
  });

  const bias = ctx.params.add('final_logits_bias', [1, weights.dims.vocabSize], weights.finalLogitsBias);
  const logits = b.op('Add', [b.at('lm_head').op('MatMul', [hidden, lmHead]), bias]);
  const values = [logits, ...outputs];
  const declared = decoderOutputs(weights);
  const { heads, dModel } = weights.dims;
  return {
    name: withPast ? 'decoder_with_past' : 'decoder_no_past',
    nodes,
    initializers: [],
    inputs: [],
    outputs: declared.map((info, i) => ({
      name: values[i] as string,
      type: info.type,
      shape: withPast && info.name.includes('.encoder.') ? [0, heads, 1, dModel / heads] : info.shape,
    })),
  };
}

export function buildMergedDecoderGraph(weights: MarianWeights): Graph {
  const initializers: Tensor[] = [];
  const names = new NameRegistry();
  const ctx: BuildContext = { params: new Parameters(initializers), weights };
  const { vocabSize, dModel: d } = weights.dims;
  const lmHead = ctx.params.add('lm_head.weight', [d, vocabSize], transpose(weights.embedding, vocabSize, d));
  const elseBranch = decoderBranch(ctx, names, initializers, false, lmHead);
  const thenBranch = decoderBranch(ctx, names, initializers, true, lmHead);
  const outputs = decoderOutputs(weights);
  const ifNode: GraphNode = {
    name: 'optimum::if',
    opType: 'If',
    inputs: ['use_cache_branch'],
    outputs: outputs.map((o) => o.name),
    attributes: { then_branch: { graph: thenBranch }, else_branch: { graph: elseBranch } },
  };
  return {
    name: 'merged_decoder',
    nodes: [ifNode],
    initializers,
    inputs: decoderInputs(weights),
    outputs,
  };
}
