/**
 * SentencePiece model files (`source.spm`, `target.spm`, `sentencepiece.bpe.model`): the
 * ModelProto of sentencepiece_model.proto, the fields a Unigram or BPE tokenizer needs, read and
 * written with protobufjs (a dependency already; the npm SentencePiece packages only encode).
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
message TrainerSpec {
  enum ModelType { UNIGRAM = 1; BPE = 2; WORD = 3; CHAR = 4; }
  optional ModelType model_type = 3 [default = UNIGRAM];
  optional int32 vocab_size = 4;
  optional bool byte_fallback = 35;
  optional int32 unk_id = 40;
  optional int32 bos_id = 41;
  optional int32 eos_id = 42;
  optional int32 pad_id = 43;
}
message NormalizerSpec {
  optional string name = 1;
  optional bytes precompiled_charsmap = 2;
  optional bool add_dummy_prefix = 3 [default = true];
  optional bool remove_extra_whitespaces = 4 [default = true];
  optional bool escape_whitespaces = 5 [default = true];
}
message ModelProto {
  message SentencePiece {
    enum Type { NORMAL = 1; UNKNOWN = 2; CONTROL = 3; USER_DEFINED = 4; UNUSED = 5; BYTE = 6; }
    optional string piece = 1;
    optional float score = 2;
    optional Type type = 3 [default = NORMAL];
  }
  repeated SentencePiece pieces = 1;
  optional TrainerSpec trainer_spec = 2;
  optional NormalizerSpec normalizer_spec = 3;
}
`;

const ModelProto = protobuf.parse(SCHEMA).root.lookupType('ModelProto');

export type PieceType = 'NORMAL' | 'UNKNOWN' | 'CONTROL' | 'USER_DEFINED' | 'UNUSED' | 'BYTE';

export interface SentencePieceModel {
  modelType: 'UNIGRAM' | 'BPE';
  pieces: { piece: string; score: number; type: PieceType }[];
  /** nmt_nfkc's table, as the opus-mt and NLLB models carry it. */
  precompiledCharsmap: Uint8Array;
  normalizerName: string;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
}

/** By enum number (sentencepiece_model.proto numbers them from 1). */
const PIECE_TYPES: PieceType[] = ['NORMAL', 'NORMAL', 'UNKNOWN', 'CONTROL', 'USER_DEFINED', 'UNUSED', 'BYTE'];

interface DecodedModel {
  pieces?: { piece?: string; score?: number; type?: number }[];
  trainerSpec?: { modelType?: number; unkId?: number; bosId?: number; eosId?: number; padId?: number };
  normalizerSpec?: { name?: string; precompiledCharsmap?: Uint8Array; addDummyPrefix?: boolean; removeExtraWhitespaces?: boolean };
}

/** Parses a .spm file's bytes; `file` names it in errors. */
export function readSentencePiece(bytes: Uint8Array, file: string): SentencePieceModel {
  let decoded: DecodedModel;
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), { defaults: true }) as DecodedModel;
  } catch (error) {
    throw new Error(`${file} is not a SentencePiece model (${(error as Error).message}); download it again`);
  }
  const trainer = decoded.trainerSpec ?? {};
  const normalizer = decoded.normalizerSpec ?? {};
  const modelType = trainer.modelType === 2 ? 'BPE' : trainer.modelType === 1 || trainer.modelType === undefined ? 'UNIGRAM' : undefined;
  if (modelType === undefined) throw new Error(`${file}: SentencePiece model type ${trainer.modelType} is not supported (Unigram or BPE)`);
  return {
    modelType,
    pieces: (decoded.pieces ?? []).map((p) => ({ piece: p.piece ?? '', score: p.score ?? 0, type: PIECE_TYPES[p.type ?? 1] ?? 'NORMAL' })),
    precompiledCharsmap: normalizer.precompiledCharsmap ?? new Uint8Array(0),
    normalizerName: normalizer.name ?? 'nmt_nfkc',
    addDummyPrefix: normalizer.addDummyPrefix ?? true,
    removeExtraWhitespaces: normalizer.removeExtraWhitespaces ?? true,
    unkId: trainer.unkId ?? 0,
    bosId: trainer.bosId ?? 1,
    eosId: trainer.eosId ?? 2,
    padId: trainer.padId ?? -1,
  };
}

export function writeSentencePiece(model: SentencePieceModel): Uint8Array {
  const message = ModelProto.fromObject({
    pieces: model.pieces.map((p) => ({ piece: p.piece, score: p.score, type: PIECE_TYPES.lastIndexOf(p.type) })),
    trainerSpec: {
      modelType: model.modelType === 'BPE' ? 2 : 1,
      vocabSize: model.pieces.length,
      byteFallback: false,
      unkId: model.unkId,
      bosId: model.bosId,
      eosId: model.eosId,
      padId: model.padId,
    },
    normalizerSpec: {
      name: model.normalizerName,
      precompiledCharsmap: model.precompiledCharsmap,
      addDummyPrefix: model.addDummyPrefix,
      removeExtraWhitespaces: model.removeExtraWhitespaces,
      escapeWhitespaces: true,
    },
  });
  return ModelProto.encode(message).finish();
}
