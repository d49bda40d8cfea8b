/**
 * The two ONNX graphs of a Marian or M2M-100 export as Optimum writes them for transformers.js:
 * `encoder_model` (input_ids, attention_mask → last_hidden_state) and `decoder_model_merged`, one
 * graph holding the first-step decoder and the with-past decoder as the branches of an `If` on
 * `use_cache_branch`, taking and returning the key/value cache. What is computed comes from the
 * weights' architecture (config.json): embeddings (× √d_model when `scale_embedding`) plus static
 * (Marian) or pad-offset (M2M-100) sinusoidal positions; post-norm layers (sub-layer → residual →
 * LayerNorm, Marian) or pre-norm ones (LayerNorm → sub-layer → residual, M2M-100) with a final
 * LayerNorm; the config's activation; lm_head (tied or not) plus final_logits_bias when the family
 * has it. LayerNorm is decomposed as torch exports it at opset 14.
 */
import { type Graph, GraphBuilder, type GraphNode, NameRegistry, type Tensor, type ValueInfo, floatTensor } from './onnx-graph.js';
import type { Seq2SeqArchitecture } from './architecture.js';
import type { Attention, DecoderLayer, EncoderLayer, LayerNorm, Linear, Seq2SeqWeights } from './weights.js';
import { transpose } from './weights.js';

const LAYER_NORM_EPS = 1e-5;
/** torch.finfo(float32).min, the additive mask value transformers uses. */
const MASK_VALUE = -3.4028234663852886e38;

/** Initializer names follow the PyTorch parameter names of MarianMTModel / M2M100ForConditionalGeneration. */
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
  weights: Seq2SeqWeights;
  /** Attention heads of the side being built. */
  heads: number;
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

/**
 * One residual sub-layer with its LayerNorm (sub-module `module` of `path`): post-norm
 * LayerNorm(x + f(x)) or pre-norm x + f(LayerNorm(x)), as the architecture says.
 */
function residualBlock(
  b: GraphBuilder,
  ctx: BuildContext,
  x: string,
  norm: LayerNorm,
  module: string,
  path: string,
  sublayer: (input: string) => string,
): string {
  const normalize = (value: string) => layerNorm(b.at(module), ctx, value, norm, `${path}.${module}`);
  if (ctx.weights.architecture.normalizeBefore) return b.op('Add', [x, sublayer(normalize(x))]);
  return normalize(b.op('Add', [x, sublayer(x)]));
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
  const { heads } = ctx;
  const d = ctx.weights.architecture.dModel;
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
  const { heads } = ctx;
  const d = ctx.weights.architecture.dModel;
  return {
    key: splitHeads(b, linear(b.at('k_proj'), ctx, x, w.k, `${path}.k_proj`), heads, d / heads),
    value: splitHeads(b, linear(b.at('v_proj'), ctx, x, w.v, `${path}.v_proj`), heads, d / heads),
  };
}

function activate(b: GraphBuilder, x: string, activation: Seq2SeqArchitecture['activation']): string {
  if (activation === 'relu') return b.op('Relu', [x]);
  if (activation === 'swish') return b.op('Mul', [x, b.op('Sigmoid', [x])]);
  // transformers' GELUActivation: 0.5 · x · (1 + erf(x / √2)).
  const erf = b.op('Erf', [b.op('Div', [x, b.constFloat(Math.SQRT2)])]);
  return b.op('Mul', [b.op('Mul', [x, b.op('Add', [erf, b.constFloat(1)])]), b.constFloat(0.5)]);
}

function feedForward(b: GraphBuilder, ctx: BuildContext, x: string, fc1: Linear, fc2: Linear, path: string): string {
  const hidden = linear(b.at('fc1'), ctx, x, fc1, `${path}.fc1`);
  const activated = activate(b, hidden, ctx.weights.architecture.activation);
  return linear(b.at('fc2'), ctx, activated, fc2, `${path}.fc2`);
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

/**
 * Position ids of `inputIds` whose first token sits at `offset`: offset + index (Marian), or
 * (cumsum(non-pad) + offset) · non-pad + padding_idx (M2M-100's create_position_ids_from_input_ids).
 */
function positionIds(b: GraphBuilder, a: Seq2SeqArchitecture, inputIds: string, offset: string): string {
  if (a.positions === 'static') return b.op('Range', [offset, b.op('Add', [offset, dimOf(b, inputIds, 1)]), b.constInt64([1], [])]);
  const pad = b.constInt64([a.padTokenId], []);
  const notPad = b.op('Cast', [b.op('Not', [b.op('Equal', [inputIds, pad])])], { to: { int: 7 } });
  const counted = b.op('CumSum', [notPad, b.constInt64([1], [])]);
  return b.op('Add', [b.op('Mul', [b.op('Add', [counted, offset]), notPad]), pad]);
}

/** Token embedding (× √d_model when scale_embedding) plus the positions from `offset` on. */
function embed(b: GraphBuilder, ctx: BuildContext, side: 'encoder' | 'decoder', inputIds: string, offset: string): string {
  const { architecture: a } = ctx.weights;
  const [rows, data] =
    side === 'encoder' ? [a.vocabSize, ctx.weights.encoderEmbedding] : [a.decoderVocabSize, ctx.weights.decoderEmbedding];
  const tableName = a.sharedEmbeddings ? 'model.shared.weight' : `model.${side}.embed_tokens.weight`;
  const table = ctx.params.add(tableName, [rows, a.dModel], data);
  const tokens = b.at('embed_tokens').op('Gather', [table, inputIds], { axis: { int: 0 } });
  const scaled = a.scaleEmbedding ? b.op('Mul', [tokens, b.constFloat(Math.sqrt(a.dModel))]) : tokens;
  const pb = b.at('embed_positions');
  const positionsName = `model.${side}.embed_positions.${a.positions === 'padded' ? 'weights' : 'weight'}`;
  const ids = positionIds(pb, a, inputIds, offset);
  const positionTable = ctx.params.add(positionsName, [ctx.weights.positions.length / a.dModel, a.dModel], ctx.weights.positions);
  return b.op('Add', [scaled, pb.op('Gather', [positionTable, ids], { axis: { int: 0 } })]);
}

function finalNorm(b: GraphBuilder, ctx: BuildContext, hidden: string, norm: LayerNorm | undefined, side: 'encoder' | 'decoder'): string {
  if (!ctx.weights.architecture.finalLayerNorm) return hidden;
  if (norm === undefined) throw new Error(`the architecture has a final ${side} LayerNorm but the weights have none`);
  return layerNorm(b.at('layer_norm'), ctx, hidden, norm, `model.${side}.layer_norm`);
}

function encoderLayer(b: GraphBuilder, ctx: BuildContext, hidden: string, layer: EncoderLayer, i: number, mask: string): string {
  const lb = b.at(`layers.${i}`);
  const path = `model.encoder.layers.${i}`;
  const attended = residualBlock(lb, ctx, hidden, layer.selfAttnNorm, 'self_attn_layer_norm', path, (x) => {
    const ab = lb.at('self_attn');
    return attend(ab, ctx, x, projectKeyValue(ab, ctx, x, layer.selfAttn, `${path}.self_attn`), mask, layer.selfAttn, `${path}.self_attn`);
  });
  return residualBlock(lb, ctx, attended, layer.finalNorm, 'final_layer_norm', path, (x) =>
    feedForward(lb, ctx, x, layer.fc1, layer.fc2, path),
  );
}

export function buildEncoderGraph(weights: Seq2SeqWeights): Graph {
  const initializers: Tensor[] = [];
  const nodes: GraphNode[] = [];
  const ctx: BuildContext = { params: new Parameters(initializers), weights, heads: weights.architecture.encoderHeads };
  const b = new GraphBuilder(nodes, initializers, new NameRegistry(), '/model/encoder');

  let hidden = embed(b, ctx, 'encoder', 'input_ids', b.constInt64([0], []));
  const mask = paddingMask(b, 'attention_mask');
  weights.encoder.forEach((layer, i) => {
    hidden = encoderLayer(b, ctx, hidden, layer, i, mask);
  });
  b.opNamed('Identity', [finalNorm(b, ctx, hidden, weights.encoderLayerNorm, 'encoder')], ['last_hidden_state']);

  return {
    name: 'main_graph',
    nodes,
    initializers,
    inputs: [
      { name: 'input_ids', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
      { name: 'attention_mask', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
    ],
    outputs: [
      { name: 'last_hidden_state', type: 'float32', shape: ['batch_size', 'encoder_sequence_length', weights.architecture.dModel] },
    ],
  };
}

/** Names of the merged decoder's cache inputs/outputs, in Optimum's order. */
export function cacheNames(prefix: 'past_key_values' | 'present', layers: number): string[] {
  return Array.from({ length: layers }, (_, i) =>
    ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((part) => `${prefix}.${i}.${part}`),
  ).flat();
}

function emptyEncoderPresent(b: GraphBuilder, a: Seq2SeqArchitecture): string {
  const empty: Tensor = {
    name: 'const_tensor',
    type: 'float32',
    dims: [0, a.decoderHeads, 1, a.dModel / a.decoderHeads],
    data: new Float32Array(0),
  };
  return b.op('Constant', [], { value: { tensor: empty } });
}

/** Optimum's name for the cross-attention cache length (it differs from the encoder's in the merged model). */
const ENCODER_CACHE_LENGTH = 'encoder_sequence_length_out';

function decoderInputs(a: Seq2SeqArchitecture): ValueInfo[] {
  const headDim = a.dModel / a.decoderHeads;
  return [
    { name: 'encoder_attention_mask', type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] },
    { name: 'input_ids', type: 'int64', shape: ['batch_size', 'decoder_sequence_length'] },
    { name: 'encoder_hidden_states', type: 'float32', shape: ['batch_size', 'encoder_sequence_length', a.dModel] },
    ...cacheNames('past_key_values', a.decoderLayers).map(
      (name): ValueInfo => ({
        name,
        type: 'float32',
        shape: ['batch_size', a.decoderHeads, name.includes('.decoder.') ? 'past_decoder_sequence_length' : ENCODER_CACHE_LENGTH, headDim],
      }),
    ),
    { name: 'use_cache_branch', type: 'bool', shape: [1] },
  ];
}

function decoderOutputs(a: Seq2SeqArchitecture): ValueInfo[] {
  const headDim = a.dModel / a.decoderHeads;
  return [
    { name: 'logits', type: 'float32', shape: ['batch_size', 'decoder_sequence_length', a.decoderVocabSize] },
    ...cacheNames('present', a.decoderLayers).map(
      (name): ValueInfo => ({
        name,
        type: 'float32',
        shape: [
          'batch_size',
          a.decoderHeads,
          name.includes('.decoder.') ? 'past_decoder_sequence_length + 1' : ENCODER_CACHE_LENGTH,
          headDim,
        ],
      }),
    ),
  ];
}

/** Causal mask [1, 1, S, past + S]: query i (at position past + i) sees keys 0 … past + i. */
function causalMask(b: GraphBuilder, pastLength: string): string {
  const mb = b.at('causal_mask');
  const total = mb.op('Add', [pastLength, dimOf(mb, 'input_ids', 1)]);
  const one = mb.constInt64([1], []);
  const queryPositions = mb.op('Unsqueeze', [mb.op('Range', [pastLength, total, one]), mb.constInt64([1])]);
  const keyPositions = mb.op('Unsqueeze', [mb.op('Range', [mb.constInt64([0], []), total, one]), mb.constInt64([0])]);
  const future = mb.op('Greater', [keyPositions, queryPositions]);
  const causal = mb.op('Where', [future, mb.constFloat(MASK_VALUE), mb.constFloat(0)]);
  return mb.op('Unsqueeze', [causal, mb.constInt64([0, 1])]);
}

interface DecoderMasks {
  causal: string;
  cross: string;
}

/** One decoder layer; returns the new hidden state and the layer's present key/values. */
function decoderLayer(
  b: GraphBuilder,
  ctx: BuildContext,
  hidden: string,
  layer: DecoderLayer,
  i: number,
  masks: DecoderMasks,
  withPast: boolean,
): { hidden: string; present: string[] } {
  const lb = b.at(`layers.${i}`);
  const path = `model.decoder.layers.${i}`;
  const sb = lb.at('self_attn');
  let selfKeyValue: KeyValue | undefined;
  const afterSelf = residualBlock(lb, ctx, hidden, layer.selfAttnNorm, 'self_attn_layer_norm', path, (x) => {
    const fresh = projectKeyValue(sb, ctx, x, layer.selfAttn, `${path}.self_attn`);
    selfKeyValue = withPast
      ? {
          key: sb.op('Concat', [`past_key_values.${i}.decoder.key`, fresh.key], { axis: { int: 2 } }),
          value: sb.op('Concat', [`past_key_values.${i}.decoder.value`, fresh.value], { axis: { int: 2 } }),
        }
      : fresh;
    return attend(sb, ctx, x, selfKeyValue, masks.causal, layer.selfAttn, `${path}.self_attn`);
  });

  const cb = lb.at('encoder_attn');
  const crossKeyValue = withPast
    ? { key: `past_key_values.${i}.encoder.key`, value: `past_key_values.${i}.encoder.value` }
    : projectKeyValue(cb, ctx, 'encoder_hidden_states', layer.crossAttn, `${path}.encoder_attn`);
  const afterCross = residualBlock(lb, ctx, afterSelf, layer.crossAttnNorm, 'encoder_attn_layer_norm', path, (x) =>
    attend(cb, ctx, x, crossKeyValue, masks.cross, layer.crossAttn, `${path}.encoder_attn`),
  );
  const out = residualBlock(lb, ctx, afterCross, layer.finalNorm, 'final_layer_norm', path, (x) =>
    feedForward(lb, ctx, x, layer.fc1, layer.fc2, path),
  );
  const a = ctx.weights.architecture;
  const encoderPresent = withPast ? [emptyEncoderPresent(cb, a), emptyEncoderPresent(cb, a)] : [crossKeyValue.key, crossKeyValue.value];
  const self = selfKeyValue as KeyValue;
  return { hidden: out, present: [self.key, self.value, ...encoderPresent] };
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
  const a = weights.architecture;
  const outputs: string[] = [];

  const pastLength = withPast ? dimOf(b, 'past_key_values.0.decoder.key', 2) : b.constInt64([0], []);
  let hidden = embed(b, ctx, 'decoder', 'input_ids', pastLength);
  const masks = { causal: causalMask(b, pastLength), cross: paddingMask(b.at('cross_mask'), 'encoder_attention_mask') };
  weights.decoder.forEach((layer, i) => {
    const result = decoderLayer(b, ctx, hidden, layer, i, masks, withPast);
    hidden = result.hidden;
    outputs.push(...result.present);
  });
  hidden = finalNorm(b, ctx, hidden, weights.decoderLayerNorm, 'decoder');

  let logits = b.at('lm_head').op('MatMul', [hidden, lmHead]);
  if (a.finalLogitsBias) {
    if (weights.finalLogitsBias === undefined) throw new Error('the architecture has final_logits_bias but the weights have none');
    logits = b.op('Add', [logits, ctx.params.add('final_logits_bias', [1, a.decoderVocabSize], weights.finalLogitsBias)]);
  }
  const values = [logits, ...outputs];
  return {
    name: withPast ? 'decoder_with_past' : 'decoder_no_past',
    nodes,
    initializers: [],
    inputs: [],
    outputs: decoderOutputs(a).map((info, i) => ({
      name: values[i] as string,
      type: info.type,
      shape: withPast && info.name.includes('.encoder.') ? [0, a.decoderHeads, 1, a.dModel / a.decoderHeads] : info.shape,
    })),
  };
}

export function buildMergedDecoderGraph(weights: Seq2SeqWeights): Graph {
  const initializers: Tensor[] = [];
  const names = new NameRegistry();
  const a = weights.architecture;
  const ctx: BuildContext = { params: new Parameters(initializers), weights, heads: a.decoderHeads };
  const lmHead = ctx.params.add('lm_head.weight', [a.dModel, a.decoderVocabSize], transpose(weights.lmHead, a.decoderVocabSize, a.dModel));
  const elseBranch = decoderBranch(ctx, names, initializers, false, lmHead);
  const thenBranch = decoderBranch(ctx, names, initializers, true, lmHead);
  const outputs = decoderOutputs(a);
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
    inputs: decoderInputs(a),
    outputs,
  };
}
