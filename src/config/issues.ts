import { isMap, isNode, isScalar, visit, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { configJsonSchema } from './schema.js';

/**
 * A config's problems as messages a user can act on: where in the file (line and column of the key or
 * value), which key, what was found and what is accepted there (read from the config's JSON Schema).
 */

export type ZodIssue = z.core.$ZodIssue;
type KeyPath = readonly PropertyKey[];

/** yaml's syntax errors, each at its line and column. */
export function syntaxIssues(doc: Document, file: string): ConfigIssue[] {
  return doc.errors.map((error) => {
    const position = error.linePos?.[0] ?? { line: 0, col: 0 };
    const firstLine = error.message.split('\n')[0] ?? error.message;
    // yaml's pretty message repeats the position at its end; the issue carries it already.
    const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
    return { file, line: position.line, col: position.col, path: '', problem: `YAML syntax error: ${message}` };
  });
}

/** yaml refused to expand aliases past its limit: the issue is at the first alias. */
export function aliasExpansionIssue(doc: Document, lineCounter: LineCounter, file: string, error: ReferenceError): ConfigIssue {
  let offset: number | undefined;
  visit(doc, {
    Alias: (_key, node) => {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  const position = offset === undefined ? { line: 0, col: 0 } : lineCounter.linePos(offset);
  return {
    file,
    ...position,
    path: '',
    problem: `YAML aliases expand to too much data (${error.message}); write the values out instead of using &anchors and *aliases`,
  };
}

/** The issue at the key or value of `doc` it is about. */
export function configIssueAt(issue: ZodIssue, doc: Document, lineCounter: LineCounter, file: string): ConfigIssue {
  const path = issue.path;
  const position = (offset: number) => lineCounter.linePos(offset);
  if (issue.code === 'unrecognized_keys') {
    // One issue per object lists every unknown key; point at the first and name them all.
    const offset = keyOffset(doc, path, issue.keys[0]) ?? nodeOffset(doc, path);
    const keys = issue.keys.map((key) => displayPath([...path, key])).join(', ');
    const known = Object.keys(schemaAt(path)?.properties ?? {}).join(', ');
    return {
      file,
      ...position(offset),
      path: keys,
      problem: `${issue.keys.length > 1 ? 'are not known keys' : 'is not a known key'}; accepted: ${known}`,
    };
  }
  if (issue.code === 'invalid_key') {
    const parent = path.slice(0, -1);
    const key = path[path.length - 1];
    const offset = keyOffset(doc, parent, key) ?? nodeOffset(doc, path);
    const keySchema = schemaAt(parent)?.propertyNames;
    return {
      file,
      ...position(offset),
      path: displayPath(path),
      problem: `is not a valid key; accepted: ${keySchema ? describeSchema(keySchema) : 'another key'}`,
    };
  }
  const node = doc.getIn(path, true);
  const value = isNode(node) ? node.toJS(doc) : node;
  // A missing key is reported at the key of the mapping that lacks it.
  const offset =
    (value === undefined && path.length >= 2 ? keyOffset(doc, path.slice(0, -2), path[path.length - 2]) : undefined) ??
    nodeOffset(doc, path);
  return {
    file,
    ...position(offset),
    path: displayPath(path),
    problem: valueProblem(value, path, issue),
  };
}

/** What is wrong with `value` at `path`: what it is and what is accepted there. */
export function valueProblem(value: unknown, path: KeyPath, issue: ZodIssue): string {
  const accepted = schemaAt(path);
  return `is ${describeValue(value)}; accepted: ${accepted ? describeSchema(accepted) : issue.message}`;
}

/** Offset of the node at `path`, or of its nearest ancestor that exists in the document. */
function nodeOffset(doc: Document, path: KeyPath): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
  }
  return 0;
}

function keyOffset(doc: Document, mapPath: KeyPath, key: PropertyKey | undefined): number | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

/** `translation.models.ar.id`, `input.patterns[0]`. */
export function displayPath(path: KeyPath): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  return `${String(value)} (a ${typeof value})`;
}

interface JsonSchemaNode {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  propertyNames?: JsonSchemaNode;
  items?: JsonSchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  description?: string;
}

let configJsonSchemaCache: JsonSchemaNode | undefined;

/** The JSON Schema node that describes the value at `path`, used to say what is accepted. */
function schemaAt(path: KeyPath): JsonSchemaNode | undefined {
  configJsonSchemaCache ??= configJsonSchema() as JsonSchemaNode;
  let node: JsonSchemaNode | undefined = configJsonSchemaCache;
  for (const key of path) {
    if (!node) return undefined;
    if (typeof key === 'number') node = node.items;
    else if (node.properties) node = node.properties[String(key)];
    else node = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
  }
  return node;
}

/** Number.MAX_SAFE_INTEGER is how zod spells "no upper bound" for integers. */
const NO_BOUND = Number.MAX_SAFE_INTEGER;

function describeSchema(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((value) => String(value)).join(', ');
  switch (node.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
    case 'number': {
      const kind = node.type === 'integer' ? 'integer' : 'number';
      const max = node.maximum !== undefined && node.maximum < NO_BOUND ? node.maximum : undefined;
      if (node.exclusiveMinimum !== undefined) return `${kind} > ${node.exclusiveMinimum}`;
      if (node.minimum !== undefined && max !== undefined) return `${kind} from ${node.minimum} to ${max}`;
      if (node.minimum !== undefined) return `${kind} >= ${node.minimum}`;
      if (max !== undefined) return `${kind} <= ${max}`;
      return kind;
    }
    case 'string':
      if (node.format === 'uri') return 'a URL such as https://huggingface.co';
      if (node.pattern) return node.description?.replace(/\.$/, '') ?? `a string matching ${node.pattern}`;
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = node.items?.enum ? `one of ${describeSchema(node.items)}` : node.items ? describeSchema(node.items) : 'any';
      const size = node.minItems ? ` of at least ${node.minItems} item${node.minItems > 1 ? 's' : ''}` : '';
      return `a list${size} (each ${items})`;
    }
    case 'object':
      if (node.properties) return `a mapping with keys ${Object.keys(node.properties).join(', ')}`;
      return 'a mapping of language code to { id, revision }';
    default:
      return 'see schema/pipeline.schema.json';
  }
}
