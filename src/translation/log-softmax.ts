/**
 * Log-softmax over the vocabulary as a one-node onnxruntime graph. Beam search needs every row's
 * log-probabilities, twice per step with `renormalize_logits`: over a 62,834-token vocabulary that is
 * the exponentials of ~63k scores per hypothesis, which in JavaScript cost more than the decoder step
 * itself; onnxruntime's kernel is vectorized. Float32, as PyTorch's `log_softmax` in Hugging Face's
 * beam search.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

export interface LogSoftmax {
  /** Log-probabilities of `rows` rows of `scores` ([rows × vocabulary], row-major), in a new array. */
  run(scores: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The graph: X [rows, vocabulary] → LogSoftmax(axis = -1) → Y. */
function logSoftmaxModel(vocabSize: number): Uint8Array {
  const tensorType = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'rows' }, { dimValue: vocabSize }] },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'log_softmax',
      node: [{ opType: 'LogSoftmax', input: ['X'], output: ['Y'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] }],
      input: [tensorType('X')],
      output: [tensorType('Y')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export async function openLogSoftmax(vocabSize: number, intraOpThreads: number): Promise<LogSoftmax> {
  const session = await ort.InferenceSession.create(logSoftmaxModel(vocabSize), { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1 });
  return {
    async run(scores, rows) {
      const input = scores.length === rows * vocabSize ? scores : scores.subarray(0, rows * vocabSize);
      const { Y } = await session.run({ X: new ort.Tensor('float32', input, [rows, vocabSize]) });
      return Y!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
