import { describe, expect, it } from 'vitest';
import { constrainScores, constraintProgress, constraintTokens } from '../../src/terminology/constraints.js';

/** A hand-made score table over a 6-token vocabulary; token 1 is `</s>`. */
const EOS = 1;
const table = () => Float32Array.from([-3, -0.5, -1, -2, -4, -1.5]);
const argmax = (scores: Float32Array) => scores.indexOf(Math.max(...scores));

describe('constraintProgress', () => {
  it('finds met constraints anywhere and the longest begun prefix at the end', () => {
    expect(constraintProgress([2, 3, 4], [[3, 4], [5]])).toEqual({ met: [true, false], begun: null });
    expect(constraintProgress([2, 3], [[3, 4], [5]])).toEqual({ met: [false, false], begun: { constraint: 0, tokens: 1 } });
    expect(constraintProgress([3, 4, 5, 3, 4], [[3, 4, 5, 2]])).toEqual({ met: [false], begun: { constraint: 0, tokens: 2 } });
    expect(constraintProgress([], [[3]])).toEqual({ met: [false], begun: null });
  });
});

describe('constrainScores', () => {
  it('leaves the scores alone once every constraint is met', () => {
    const scores = table();
    constrainScores(scores, [0, 3, 4], [[3, 4]], 5, EOS);
    expect([...scores]).toEqual([...table()]);
  });

  it('bans </s> while a constraint is unmet and there is room', () => {
    const scores = table();
    constrainScores(scores, [0, 2], [[4, 5]], 10, EOS);
    expect(scores[EOS]).toBe(-Infinity);
    // The model's own choice otherwise stands: token 2 scores best after </s>.
    expect(argmax(scores)).toBe(2);
  });

  it('continues a constraint the hypothesis has begun, keeping that token score', () => {
    const scores = table();
    constrainScores(scores, [0, 2, 4], [[4, 5, 3]], 10, EOS);
    expect(argmax(scores)).toBe(5);
    expect(scores[5]).toBeCloseTo(-1.5);
    expect([...scores].filter(Number.isFinite)).toHaveLength(1);
  });

  it('starts the first unmet constraint when the room left is just enough for what is owed', () => {
    const scores = table();
    // Two constraints of 2 and 1 tokens, 3 tokens of room: start now.
    constrainScores(scores, [0], [[4, 5], [3]], 3, EOS);
    expect(argmax(scores)).toBe(4);
    const roomy = table();
    constrainScores(roomy, [0], [[4, 5], [3]], 4, EOS);
    expect(argmax(roomy)).toBe(2);
  });

  it('forces a token even when a processor had banned it (score 0)', () => {
    const scores = table();
    scores[4] = -Infinity;
    constrainScores(scores, [0], [[4]], 1, EOS);
    expect(scores[4]).toBe(0);
    expect(argmax(scores)).toBe(4);
  });

  it('carries several constraints through a greedy walk over fixed tables', () => {
    const constraints = [[4, 5], [3]];
    const tokens = [0];
    const maxNewTokens = 6;
    for (let step = 0; step < maxNewTokens; step++) {
      const scores = table();
      constrainScores(scores, tokens, constraints, maxNewTokens - tokens.length + 1, EOS);
      const token = argmax(scores);
      if (token === EOS) break;
      tokens.push(token);
    }
    // The table prefers 2 (and </s>, banned until both are in); they are placed where the room runs out.
    expect(tokens.slice(1)).toEqual([2, 2, 2, 4, 5, 3]);
    expect(constraintTokens(constraints)).toBe(3);
  });
});

describe('repeated constraints', () => {
  it('needs as many occurrences as the constraint is given', () => {
    expect(constraintProgress([3, 2, 3], [[3], [3], [3]]).met).toEqual([true, true, false]);
  });
});

describe('whole words', () => {
  /** Tokens 4 and 5 continue a word (`son` after `John`); 0–3 do not. */
  const CONTINUES = Uint8Array.from([0, 0, 0, 0, 1, 1]);

  it('bans word continuations right after a completed constraint, so the term ends a word', () => {
    const scores = table();
    constrainScores(scores, [0, 3], [[3]], 10, EOS, CONTINUES);
    expect(scores[4]).toBe(-Infinity);
    expect(scores[5]).toBe(-Infinity);
    // The rest are the model's, untouched; met, so </s> is allowed.
    expect([...scores.slice(0, 4)]).toEqual([...table().slice(0, 4)]);
    // Away from a completed constraint nothing is banned.
    const elsewhere = table();
    constrainScores(elsewhere, [0, 3, 2], [[3]], 10, EOS, CONTINUES);
    expect([...elsewhere]).toEqual([...table()]);
  });

  it('does not count an occurrence followed by a continuation, and forces the term again later', () => {
    expect(constraintProgress([0, 3, 4], [[3]], CONTINUES).met).toEqual([false]);
    expect(constraintProgress([0, 3, 4, 2, 3], [[3]], CONTINUES).met).toEqual([true]);
    // Unmet, so with room for just the term it is started again.
    const scores = table();
    constrainScores(scores, [0, 3, 4], [[3]], 1, EOS, CONTINUES);
    expect(argmax(scores)).toBe(3);
    expect([...scores].filter(Number.isFinite)).toHaveLength(1);
  });

  it("yields to a begun constraint's forced token, even one that continues a word", () => {
    // [3] is complete and [3, 4] begun: 4 is forced, not banned.
    const scores = table();
    constrainScores(scores, [0, 3], [[3], [3, 4]], 10, EOS, CONTINUES);
    expect(argmax(scores)).toBe(4);
    expect(scores[4]).toBeCloseTo(-4);
  });

  it('keeps at least one finite score', () => {
    const scores = Float32Array.from([-Infinity, -0.5, -Infinity, -Infinity, -1, -2]);
    // Unmet [2], so </s> is banned; banning 4 and 5 too would leave nothing: the ban is skipped.
    constrainScores(scores, [0, 3], [[3], [2]], 10, EOS, CONTINUES);
    expect([...scores].some(Number.isFinite)).toBe(true);
    expect(argmax(scores)).toBe(4);
  });
});
