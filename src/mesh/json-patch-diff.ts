// RFC 6902 operations that turn one JSON document into another. Objects are diffed key by key; an
// array whose length changed is replaced whole (simple, and exact for the few routes a VS has).

import { deepEqual } from './deep-equal.js';

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export function pointer(segments: (string | number)[]): string {
  return segments.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function jsonPatchDiff(from: unknown, to: unknown, path: (string | number)[] = []): JsonPatchOp[] {
  if (deepEqual(from, to)) return [];
  if (isObject(from) && isObject(to)) {
    const ops: JsonPatchOp[] = [];
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined) ops.push({ op: 'remove', path: pointer([...path, key]) });
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      if (from[key] === undefined) ops.push({ op: 'add', path: pointer([...path, key]), value });
      else ops.push(...jsonPatchDiff(from[key], value, [...path, key]));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return to.flatMap((item, i) => jsonPatchDiff(from[i], item, [...path, i]));
  }
  return [{ op: 'replace', path: pointer(path), value: to }];
}
