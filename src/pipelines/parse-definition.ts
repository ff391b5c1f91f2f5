// One definition file's text → a Definition, or every error in it with line and column. YAML syntax
// errors and schema errors are reported together; each zod issue path is located through the YAML
// node ranges.

import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { Definition } from '../core/definition.js';
import { formatPath, type DefinitionError } from './definition-error.js';
import { issueMessage } from './issue-message.js';
import { definitionSchema } from './schema.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { trainSchema } from './train-schema.js';

export interface ParsedFile {
  definition: Definition | null;
  /** A `kind: ReleaseTrain` file's train (then `definition` is null). */
  train?: TrainDefinition | null;
  errors: DefinitionError[];
}

function isTrain(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'ReleaseTrain';
}

export function parseDefinition(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const errors: DefinitionError[] = doc.errors.map((error) => ({
    file,
    ...at(error.pos[0]),
    path: '',
    message: `YAML: ${error.message.split('\n')[0]}`,
  }));
  if (errors.length > 0 && doc.contents === null) return { definition: null, errors };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { definition: null, errors: [...errors, { file, line: 1, column: 1, path: '', message: `YAML: ${(error as Error).message}` }] };
  }
  if (isTrain(data)) {
    const train = trainSchema.safeParse(data, { reportInput: true });
    if (train.success && errors.length === 0) return { definition: null, train: { ...train.data, file }, errors: [] };
    for (const issue of train.error?.issues ?? []) errors.push(...located(issue, doc, file, at));
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    return { definition: null, train: null, errors };
  }
  const result = definitionSchema.safeParse(data ?? {}, { reportInput: true });
  if (result.success && errors.length === 0) return { definition: { ...result.data, file }, errors: [] };
  for (const issue of result.error?.issues ?? []) errors.push(...located(issue, doc, file, at));
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { definition: null, errors };
}

function located(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; column: number },
): DefinitionError[] {
  const base = issue.path as PropertyKey[];
  const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...base, key]) : [base];
  return paths.map((path) => {
    const offset = offsetOf(doc, path, issue.code === 'unrecognized_keys');
    const message = issue.code === 'unrecognized_keys' ? `unknown field "${String(path[path.length - 1])}"` : issueMessage(issue);
    return { file, ...at(offset), path: formatPath(path), message };
  });
}

/** Start offset of the node at `path`, or of the deepest ancestor that exists (for missing fields). */
export function offsetOf(doc: Document, path: PropertyKey[], pointAtKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key);
      const valueStart = rangeStart(pair.value);
      // A key with no value (`approval:`) or an unknown key is reported at the key itself.
      if ((last && pointAtKey) || valueStart === undefined || isNullScalar(pair.value)) return keyStart ?? offset;
      node = pair.value;
      offset = valueStart;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      const start = rangeStart(item);
      if (start === undefined) return offset;
      node = item;
      offset = start;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function isNullScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null;
}
