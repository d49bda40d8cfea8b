import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { summarizeJsonLines, summarizeRecord } from '../../src/cli/summarize.js';
import { BURIED_STORY, TOWN_MEETING } from '../fixtures/stories.js';
import { runCli } from './cli-run.js';

const three = { sentences: 3, ratio: 0 };

/** The buried story without its last two sentences. */
const story = BURIED_STORY.slice(0, 7);

const newsbridge = (args: string[], input: string) => runCli(['summarize', ...args], input);

async function runJsonLines(lines: string[], length = three) {
  const out: unknown[] = [];
  const warnings: string[] = [];
  const bad = await summarizeJsonLines(
    Readable.from([lines.join('\n')]),
    (line) => out.push(JSON.parse(line)),
    (m) => warnings.push(m),
    length,
  );
  return { out, warnings, bad };
}

describe('summarizeRecord', () => {
  it('splits text into sentences and returns the chosen sentences with their indices', () => {
    const text = `${story.slice(0, 3).join(' ')}\n\n${story.slice(3).join('\n')}\n`;
    const record = summarizeRecord({ id: 7, text }, three);
    expect(record.id).toBe(7);
    expect(record.indices).toHaveLength(3);
    expect(record.summary).toEqual(record.indices.map((index) => story[index]));
  });

  it('splits Arabic text at Arabic sentence ends', () => {
    const record = summarizeRecord(
      { id: 1, text: 'قال الوزير إن الخطة جاهزة. وأضاف أن التنفيذ يبدأ غدا؟ ورحب النواب بالخطة.' },
      { sentences: 5, ratio: 0 },
      'ar',
    );
    expect(record.summary).toHaveLength(3);
    expect(record.indices).toEqual([0, 1, 2]);
  });

  it('uses the record’s title and language', () => {
    const sentences = TOWN_MEETING.slice(0, 5);
    const plain = summarizeRecord({ id: 1, sentences, lang: 'en' }, { sentences: 2, ratio: 0 });
    const titled = summarizeRecord({ id: 1, sentences, lang: 'en', title: 'New library on the river front' }, { sentences: 2, ratio: 0 });
    expect(titled.indices).not.toEqual(plain.indices);
  });
});

describe('summarizeJsonLines', () => {
  it('answers every good line in input order and reports bad lines by number without stopping', async () => {
    const { out, warnings, bad } = await runJsonLines([
      JSON.stringify({ id: 'a', sentences: story }),
      '{"id": "broken"',
      JSON.stringify({ id: 'b', text: 'Only one sentence.' }),
      JSON.stringify({ text: 'no id' }),
      JSON.stringify({ id: 'c', sentences: [1, 2] }),
      '',
      JSON.stringify({ id: 'd', sentences: [] }),
    ]);
    expect(out.map((record) => (record as { id: string }).id)).toEqual(['a', 'b', 'd']);
    expect(out[1]).toEqual({ id: 'b', indices: [0], summary: ['Only one sentence.'] });
    expect(out[2]).toEqual({ id: 'd', indices: [], summary: [] });
    expect(bad).toBe(3);
    expect(warnings[0]).toMatch(/^stdin:2: not valid JSON/);
    expect(warnings[1]).toMatch(/^stdin:4: .*no "id"/);
    expect(warnings[2]).toMatch(/^stdin:5: .*"sentences" must be an array of strings/);
  });

  it('applies the length options', async () => {
    const { out } = await runJsonLines([JSON.stringify({ id: 1, sentences: story })], { sentences: 1, ratio: 0.5 });
    expect((out[0] as { indices: number[] }).indices).toHaveLength(4);
  });
});

describe('newsbridge summarize', () => {
  it('prints the summary of text on stdin in document order', async () => {
    const { code, stdout } = await newsbridge(['--sentences', '2'], story.join('\n'));
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const positions = lines.map((line) => story.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('streams JSON lines, exits 2 when a line was bad, and 1 on a bad option', async () => {
    const jsonl = await newsbridge(['--jsonl'], `${JSON.stringify({ id: 'x', sentences: story })}\nnot json\n`);
    expect(jsonl.code).toBe(2);
    expect(JSON.parse(jsonl.stdout.trim())).toMatchObject({ id: 'x', indices: expect.any(Array) });
    expect(jsonl.stderr).toContain('stdin:2');
    const badOption = await newsbridge(['--ratio', '2'], '');
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain('--ratio is "2"');
  });
});
