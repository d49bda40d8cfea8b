/**
 * Lexically constrained decoding by forced completion: each model input may carry constraints
 * (target-token sequences that must appear in its output: glossary terms and do-not-translate spans,
 * tokenized with the model's own tokenizer). At every step, for one hypothesis:
 *  - a constraint it has begun (its last tokens are a proper prefix of an unmet constraint) is
 *    continued: its next token is forced, as Post & Vilar's (2018) banks keep a started constraint;
 *  - while any constraint is unmet, `</s>` is banned;
 *  - when the room left (generated tokens still allowed) is no more than the unmet constraints'
 *    tokens, the first unmet one is started, so every constraint fits before the length limit.
 * Otherwise the model chooses freely, and a constraint it begins on its own is completed.
 *
 * A term must stay a whole word: `John` is not met by the first tokens of `Johnson`. So an
 * occurrence counts only if the token after it does not continue a word (a SentencePiece piece
 * without `▁` that begins with a letter or digit), and right after one, those tokens are banned
 * (unless a begun constraint forces its next token), so the model cannot glue `son` onto the term.
 *
 * Measured against dynamic beam allocation (see docs/terminology.md): forcing needs no extra beams,
 * so greedy search carries constraints at beam width 1 and its cost is the forced steps only.
 * A "forced" token is made the only finite score, so argmax, log-softmax and top-k all pick it.
 */

export type TokenConstraints = readonly (readonly number[])[];

/** A vocabulary where no token continues a word (ids past a table's end count as 0 too). */
const NO_CONTINUATIONS = new Uint8Array(0);

export interface ConstraintProgress {
  /** Per constraint: whether the hypothesis contains it. */
  met: boolean[];
  /** A constraint the hypothesis has begun but not finished, and how many of its tokens it has. */
  begun: { constraint: number; tokens: number } | null;
}

/** Occurrences of `sequence` that end a word: the token after each, if any, does not continue it. */
function occurrences(tokens: readonly number[], sequence: readonly number[], continuesWord: Uint8Array): number {
  let count = 0;
  outer: for (let i = 0; i + sequence.length <= tokens.length; i++) {
    for (let k = 0; k < sequence.length; k++) if (tokens[i + k] !== sequence[k]) continue outer;
    const after = tokens[i + sequence.length];
    if (after === undefined || !continuesWord[after]) count++;
  }
  return count;
}

function sameSequence(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((token, k) => token === b[k]);
}

/**
 * Where `generated` (the output so far; a leading decoder start token does no harm) stands on
 * `constraints`. A constraint given n times (a sentence with three XNUMX) needs n occurrences.
 */
export function constraintProgress(
  generated: readonly number[],
  constraints: TokenConstraints,
  continuesWord: Uint8Array = NO_CONTINUATIONS,
): ConstraintProgress {
  const met = constraints.map((constraint, c) => {
    const earlierCopies = constraints.slice(0, c).filter((other) => sameSequence(other, constraint)).length;
    return occurrences(generated, constraint, continuesWord) > earlierCopies;
  });
  let begun: ConstraintProgress['begun'] = null;
  constraints.forEach((constraint, c) => {
    if (met[c]) return;
    // The longest proper prefix of the constraint that ends the output.
    for (let length = Math.min(constraint.length - 1, generated.length); length > (begun?.tokens ?? 0); length--) {
      const start = generated.length - length;
      let same = true;
      for (let k = 0; k < length && same; k++) same = generated[start + k] === constraint[k];
      if (same) {
        begun = { constraint: c, tokens: length };
        break;
      }
    }
  });
  return { met, begun };
}

/** Tokens still to generate for the unmet constraints. */
function tokensOwed(constraints: TokenConstraints, progress: ConstraintProgress): number {
  let owed = 0;
  constraints.forEach((constraint, c) => {
    if (!progress.met[c]) owed += constraint.length - (progress.begun?.constraint === c ? progress.begun.tokens : 0);
  });
  return owed;
}

/** Leaves `token` the only choice; its score is kept when finite (beam scores stay comparable), else 0. */
function force(scores: Float32Array | Float64Array, token: number): void {
  const kept = Number.isFinite(scores[token]!) ? scores[token]! : 0;
  scores.fill(-Infinity);
  scores[token] = kept;
}

function endsWith(tokens: readonly number[], sequence: readonly number[]): boolean {
  const start = tokens.length - sequence.length;
  return start >= 0 && sequence.every((token, k) => tokens[start + k] === token);
}

/**
 * Bans the tokens that continue a word, unless that leaves no finite score (`spare`, when finite,
 * must stay: `</s>` while constraints are unmet is banned next, so it does not count).
 */
function banWordContinuations(scores: Float32Array | Float64Array, continuesWord: Uint8Array, spare: number): void {
  let kept = false;
  for (let token = 0; token < scores.length && !kept; token++)
    kept = !continuesWord[token] && token !== spare && scores[token]! > -Infinity;
  if (!kept) return;
  for (let token = 0; token < continuesWord.length && token < scores.length; token++) if (continuesWord[token]) scores[token] = -Infinity;
}

/**
 * Edits one hypothesis's next-token scores for its constraints (see the module comment).
 * `room`: tokens it may still generate before `</s>` is forced. `continuesWord`: per token, 1 for a
 * piece that continues a word (the model's `wordContinuations`).
 */
export function constrainScores(
  scores: Float32Array | Float64Array,
  generated: readonly number[],
  constraints: TokenConstraints,
  room: number,
  eosId: number,
  continuesWord: Uint8Array = NO_CONTINUATIONS,
): void {
  const progress = constraintProgress(generated, constraints, continuesWord);
  const next = progress.met.indexOf(false);
  if (progress.begun) {
    force(scores, constraints[progress.begun.constraint]![progress.begun.tokens]!);
    return;
  }
  if (continuesWord.length > 0 && constraints.some((constraint) => endsWith(generated, constraint)))
    banWordContinuations(scores, continuesWord, next === -1 ? -1 : eosId);
  if (next === -1) return;
  if (room <= tokensOwed(constraints, progress)) force(scores, constraints[next]![0]!);
  else scores[eosId] = -Infinity;
}

/** Tokens the constraints need in the output, for the length limit to leave room for them. */
export function constraintTokens(constraints: TokenConstraints): number {
  return constraints.reduce((sum, constraint) => sum + constraint.length, 0);
}
