/**
 * Log-softmax over the vocabulary as a one-node onnxruntime graph. Beam search needs every row's
 * log-probabilities, twice per step with `renormalize_logits`: over a 62,834-token vocabulary that is
 * the exponentials of ~63k scores per hypothesis, which in JavaScript cost more than the decoder step
 * itself; onnxruntime's kernel is vectorized. Float32, as PyTorch's `log_softmax` in Hugging Face's
 * beam search. When only each row's best few tokens are needed, a second graph follows it with TopK,
 * so the whole vocabulary never comes back to JavaScript.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

export interface LogSoftmax {
  /** Log-probabilities of `rows` rows of `scores` ([rows × vocabulary], row-major), in a new array. */
  run(scores: Float32Array, rows: number): Promise<Float32Array>;
  /**
   * The `k` best log-probabilities of each of `rows` rows and their tokens ([rows × k], best first; of
   * equal values the lower token first, as ONNX TopK promises).
   */
  top(scores: Float32Array, rows: number, k: number): Promise<{ values: Float32Array; tokens: Int32Array }>;
  release(): Promise<void>;
}

const { FLOAT, INT64 } = onnx.TensorProto.DataType;
const tensorType = (name: string, elemType: number, dim: ({ dimParam: string } | { dimValue: number })[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim } } },
});
const logSoftmaxNode = (input: string, output: string) => ({
  opType: 'LogSoftmax',
  input: [input],
  output: [output],
  attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
});

function encode(graph: Parameters<typeof onnx.GraphProto.create>[0]): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

/** X [rows, vocabulary] → LogSoftmax(axis = -1) → Y. */
function logSoftmaxModel(vocabSize: number): Uint8Array {
  const rowsOfVocabulary = [{ dimParam: 'rows' }, { dimValue: vocabSize }];
  return encode({
    name: 'log_softmax',
    node: [logSoftmaxNode('X', 'Y')],
    input: [tensorType('X', FLOAT, rowsOfVocabulary)],
    output: [tensorType('Y', FLOAT, rowsOfVocabulary)],
  });
}

/** X [rows, vocabulary], K [1] → LogSoftmax(axis = -1) → TopK(K, largest, sorted) → Values, Indices [rows, K]. */
function logSoftmaxTopModel(vocabSize: number): Uint8Array {
  const rowsOfK = [{ dimParam: 'rows' }, { dimParam: 'k' }];
  const int = (name: string, i: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
  return encode({
    name: 'log_softmax_top',
    node: [
      logSoftmaxNode('X', 'Y'),
      {
        opType: 'TopK',
        input: ['Y', 'K'],
        output: ['Values', 'Indices'],
        attribute: [int('axis', -1), int('largest', 1), int('sorted', 1)],
      },
    ],
    input: [tensorType('X', FLOAT, [{ dimParam: 'rows' }, { dimValue: vocabSize }]), tensorType('K', INT64, [{ dimValue: 1 }])],
    output: [tensorType('Values', FLOAT, rowsOfK), tensorType('Indices', INT64, rowsOfK)],
  });
}

/**
 * One thread, whatever the decoder has: a pass over a step's rows takes a few milliseconds, and a second
 * thread pool's spinning threads took more from the decoder's next step than they gave (bench/RESULTS.md,
 * "Beam search: where the time goes").
 */
export async function openLogSoftmax(vocabSize: number): Promise<LogSoftmax> {
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const [session, topSession] = await Promise.all([
    ort.InferenceSession.create(logSoftmaxModel(vocabSize), options),
    ort.InferenceSession.create(logSoftmaxTopModel(vocabSize), options),
  ]);
  const rowsOf = (scores: Float32Array, rows: number) =>
    new ort.Tensor('float32', scores.length === rows * vocabSize ? scores : scores.subarray(0, rows * vocabSize), [rows, vocabSize]);
  return {
    async run(scores, rows) {
      const { Y } = await session.run({ X: rowsOf(scores, rows) });
      return Y!.data as Float32Array;
    },
    async top(scores, rows, k) {
      const { Values, Indices } = await topSession.run({
        X: rowsOf(scores, rows),
        K: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
      });
      return { values: Values!.data as Float32Array, tokens: Int32Array.from(Indices!.data as BigInt64Array, Number) };
    },
    release: async () => {
      await Promise.all([session.release(), topSession.release()]);
    },
  };
}
