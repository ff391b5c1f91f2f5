// A documented payload broken at random places: a field removed, given another type, a huge string,
// a random value, or a random key added next to it. The payload's own shape picks the places.

import fc from 'fast-check';
import { anyJson, hugeString, wrongValue } from './envelope.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Payload = Record<string, any>;
export type Mutation = (payload: Payload) => void;

/** Every path to a value in `value` (object keys and array indexes), down to `maxDepth`. */
export function pathsOf(value: unknown, maxDepth = 6, prefix: (string | number)[] = []): (string | number)[][] {
  if (prefix.length >= maxDepth || typeof value !== 'object' || value === null) return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, maxDepth, [...prefix, key])]);
}

function parentOf(payload: Payload, path: (string | number)[]): Payload | null {
  let node: unknown = payload;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return null;
    node = (node as Payload)[key];
  }
  return typeof node === 'object' && node !== null ? (node as Payload) : null;
}

/** One to `max` mutations at paths of `base` (a sample payload of the shape the route reads). */
export function mutationsOf(base: unknown, max = 3): fc.Arbitrary<Mutation[]> {
  const paths = pathsOf(base);
  const valueAt = (path: (string | number)[]): unknown => path.reduce<unknown>((node, key) => (node as Payload | undefined)?.[key], base);
  const one: fc.Arbitrary<Mutation> = fc.constantFrom(...paths).chain((path) => {
    const last = path[path.length - 1]!;
    return fc.oneof(
      fc.constant<Mutation>((p) => {
        const parent = parentOf(p, path);
        if (parent) delete parent[last];
      }),
      wrongValue(valueAt(path)).map<Mutation>((value) => (p) => {
        const parent = parentOf(p, path);
        if (parent) parent[last] = value;
      }),
      fc.oneof(hugeString, anyJson).map<Mutation>((value) => (p) => {
        const parent = parentOf(p, path);
        if (parent) parent[last] = value;
      }),
      fc.tuple(fc.string({ maxLength: 20 }), anyJson).map<Mutation>(([key, value]) => (p) => {
        const parent = parentOf(p, path);
        if (parent && !Array.isArray(parent)) parent[key] = value;
      }),
    );
  });
  return fc.array(one, { minLength: 1, maxLength: max });
}
