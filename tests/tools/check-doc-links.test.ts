import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDocLinks, extractLinks, headingAnchors } from '../../tools/check-doc-links.js';

describe('headingAnchors', () => {
  it('slugs headings as GitHub does: code spans kept as text, punctuation dropped, repeats numbered', () => {
    const text = [
      '# Running',
      '## Getting them: `newsbridge models pull`',
      '## Exit codes',
      '## Exit codes',
      '```sh',
      '# a comment, not a heading',
      '```',
    ].join('\n');
    expect([...headingAnchors(text)]).toEqual(['running', 'getting-them-newsbridge-models-pull', 'exit-codes', 'exit-codes-1']);
  });
});

describe('extractLinks', () => {
  it('finds inline links, reference links and images, each at its own line', () => {
    const text = ['Intro', '', 'See [a](a.md) and', 'then [b][ref] and ![pic](p.png).', '', '[ref]: b.md#x'].join('\n');
    expect(extractLinks(text, 'docs/x.md')).toEqual([
      { file: 'docs/x.md', line: 3, href: 'a.md' },
      { file: 'docs/x.md', line: 4, href: 'b.md#x' },
      { file: 'docs/x.md', line: 4, href: 'p.png' },
    ]);
  });
});

describe('checkDocLinks', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'doc-links-'));
    await mkdir(path.join(root, 'docs'));
    await writeFile(
      path.join(root, 'README.md'),
      ['# Tool', '', '[Running](docs/running.md#exit-codes) · [web](https://example.org/x#y)', '![shot](docs/shot.png)', ''].join('\n'),
    );
    await writeFile(path.join(root, 'docs', 'shot.png'), '');
    await writeFile(
      path.join(root, 'docs', 'running.md'),
      [
        '# Running', // 1
        '', // 2
        '## Exit codes', // 3
        '', // 4
        'See [the codes](#exit-codes), [the tool](../README.md#tool) and', // 5
        '[a missing page](setup.md).', // 6
        '', // 7
        '- the [status](#article-status) of an article', // 8
        '', // 9
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports a link to a missing file and an anchor that names no heading, at their file and line', async () => {
    const problems = await checkDocLinks(root, ['README.md', 'docs/running.md']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^docs\/running\.md:6: setup\.md: docs\/setup\.md does not exist/);
    expect(problems[1]).toMatch(/^docs\/running\.md:8: #article-status: docs\/running\.md has no heading with the anchor #article-status/);
  });

  it('accepts links that resolve, across folders and to external sites', async () => {
    expect(await checkDocLinks(root, ['README.md'])).toEqual([]);
  });
});
