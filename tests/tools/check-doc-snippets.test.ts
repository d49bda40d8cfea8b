import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkSnippets, extractSnippets } from '../../tools/check-doc-snippets.js';
import { repoRoot } from '../../tools/repo-root.js';

const doc = [
  '# Title', // 1
  '', // 2
  '```ts', // 3
  "import { splitSentences } from 'newsbridge';", // 4
  "const sentences: string[] = splitSentences('Hi. There.', 'en');", // 5
  '```', // 6
  '', // 7
  '```sh', // 8
  'npm test', // 9
  '```', // 10
  '', // 11
  '- a list item with a block:', // 12
  '', // 13
  '  ```typescript title="x"', // 14
  '  const count: number = 1;', // 15
  "  const wrong: number = 'one';", // 16
  '  ```', // 17
  '', // 18
  '```json', // 19
  '{}', // 20
  '```', // 21
  '', // 22
].join('\n');

describe('extractSnippets', () => {
  it('takes the ts and typescript blocks only, each with the Markdown line of its first line of code', () => {
    expect(extractSnippets(doc, 'docs/x.md')).toEqual([
      {
        file: 'docs/x.md',
        line: 4,
        code: "import { splitSentences } from 'newsbridge';\nconst sentences: string[] = splitSentences('Hi. There.', 'en');\n",
      },
      { file: 'docs/x.md', line: 15, code: "const count: number = 1;\nconst wrong: number = 'one';\n" },
    ]);
  });
});

describe('checkSnippets', () => {
  it("resolves 'newsbridge' to the source and reports each error at its Markdown file, line and column", async () => {
    const problems = await checkSnippets(extractSnippets(doc, 'docs/x.md'));
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/x\.md:16:7: error TS2322: Type 'string' is not assignable to type 'number'\.$/),
    ]);
  });

  it('keeps blocks apart: the same top-level name in two blocks is no conflict, and an undeclared one is an error', async () => {
    const snippets = [
      { file: 'a.md', line: 10, code: 'const bytes = 1;\n' },
      { file: 'b.md', line: 20, code: 'const bytes = 2;\n' },
      { file: 'c.md', line: 30, code: 'console.log(\n  bytes,\n);\n' },
    ];
    expect(await checkSnippets(snippets)).toEqual([expect.stringMatching(/^c\.md:31:3: error TS2304: Cannot find name 'bytes'\.$/)]);
  });

  it('leaves no folder behind in the repository', async () => {
    await checkSnippets([{ file: 'a.md', line: 1, code: 'export {};\n' }]);
    expect((await readdir(repoRoot)).filter((name) => name.startsWith('.doc-snippets-'))).toEqual([]);
  });
});
