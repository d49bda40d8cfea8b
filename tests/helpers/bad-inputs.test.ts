import { lstatSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARABIC_ARTICLE,
  HUGE_BYTES,
  LONG_LINE_CHARS,
  VIETNAMESE_ARTICLE,
  writeBadInputs,
  type BadInput,
  type BadInputName,
} from './bad-inputs.js';

// The fixtures are only useful if each really is the broken thing it claims to be.
let dir: string;
let inputs: Map<BadInputName, BadInput>;

const bytesOf = (name: BadInputName) => readFileSync(path.join(dir, inputs.get(name)!.file));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'newsbridge-bad-inputs-'));
  inputs = new Map(writeBadInputs(dir, { huge: true }).map((input) => [input.name, input]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeBadInputs', () => {
  it('writes every bad input, with ids derived from the paths', () => {
    expect(inputs.size).toBe(18);
    expect(inputs.get('duplicate-b')!.id).toBe('copies/duplicate-b');
    expect(writeBadInputs(mkdtempSync(path.join(dir, 'small-'))).some((input) => input.name === 'huge-50mb')).toBe(false);
  });

  it('writes empty and whitespace-only files', () => {
    expect(bytesOf('empty').length).toBe(0);
    const text = bytesOf('whitespace-only').toString('utf8');
    expect(text.length).toBeGreaterThan(0);
    expect(text.replace(/[\s\u200b]/g, '')).toBe('');
  });

  it('writes a real PNG under a .txt name', () => {
    expect(inputs.get('png-renamed-txt')!.file.endsWith('.txt')).toBe(true);
    expect(bytesOf('png-renamed-txt').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('writes invalid UTF-8', () => {
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytesOf('invalid-utf8'))).toThrow(TypeError);
  });

  it('writes UTF-16 in both byte orders, with and without a BOM', () => {
    expect(bytesOf('utf16le-bom').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
    expect(bytesOf('utf16be-bom').subarray(0, 2)).toEqual(Buffer.from([0xfe, 0xff]));
    expect(new TextDecoder('utf-16le').decode(bytesOf('utf16le-bom'))).toBe(ARABIC_ARTICLE);
    expect(new TextDecoder('utf-16be').decode(bytesOf('utf16be-bom'))).toBe(VIETNAMESE_ARTICLE);
    expect(new TextDecoder('utf-16le', { ignoreBOM: true }).decode(bytesOf('utf16le-no-bom'))).toBe(ARABIC_ARTICLE);
    expect(new TextDecoder('utf-16be', { ignoreBOM: true }).decode(bytesOf('utf16be-no-bom'))).toBe(VIETNAMESE_ARTICLE);
    expect(bytesOf('utf16le-no-bom')[0]).not.toBe(0xff);
  });

  it('writes windows-1256 Arabic that is not UTF-8', () => {
    const bytes = bytesOf('windows-1256-arabic');
    expect(iconv.decode(bytes, 'windows-1256')).toBe(ARABIC_ARTICLE);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow(TypeError);
  });

  it('writes a 50 MB file and a 200,000-character line without punctuation', () => {
    expect(statSync(path.join(dir, inputs.get('huge-50mb')!.file)).size).toBe(HUGE_BYTES);
    const line = bytesOf('long-line-no-punctuation').toString('utf8');
    expect(line.length).toBe(LONG_LINE_CHARS);
    expect(line).not.toMatch(/[\n.,;:!?]/);
  });

  it('writes symlink loops', () => {
    const self = path.join(dir, 'loop', 'self');
    expect(lstatSync(self).isSymbolicLink()).toBe(true);
    expect(realpathSync(path.join(self, 'self', 'self'))).toBe(realpathSync(path.join(dir, 'loop')));
    expect(readlinkSync(path.join(dir, 'loop-a.txt'))).toBe('loop-b.txt');
    expect(() => readFileSync(path.join(dir, 'loop-a.txt'))).toThrow(/ELOOP/);
  });

  it('writes the same article under two names', () => {
    expect(bytesOf('duplicate-a').equals(bytesOf('duplicate-b'))).toBe(true);
    expect(inputs.get('duplicate-a')!.file).not.toBe(inputs.get('duplicate-b')!.file);
  });

  it('writes unsupported-language and mixed-language articles', () => {
    expect(bytesOf('persian').toString('utf8')).toMatch(/[پچژگک]/);
    expect(bytesOf('french').toString('utf8')).toMatch(/gouvernement/);
    const paragraphs = bytesOf('mixed-arabic-english').toString('utf8').split('\n');
    expect(paragraphs.filter((p) => /^[\x20-\x7e]+$/.test(p))).toHaveLength(2);
    expect(paragraphs.filter((p) => /\p{Script=Arabic}/u.test(p))).toHaveLength(3);
  });
});
