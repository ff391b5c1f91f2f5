// Applying rendered objects over live ones as a GitOps controller does: `overlay` sets every field
// the desired object declares (lists of named items merged by name, other lists replaced);
// `restore` puts a live field back (a field the controller must leave alone); `pointerOf` names a
// FieldsV1 path as a JSON pointer and a jq-like path, the forms ignore rules use.

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `live` with every field `desired` sets laid over it (keyed lists merged by name, other lists replaced). */
export function overlay(live: unknown, desired: unknown): unknown {
  if (isObject(live) && isObject(desired)) {
    const out: Json = { ...live };
    for (const [key, value] of Object.entries(desired)) out[key] = overlay(live[key], value);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(desired) && desired.every((item) => isObject(item) && typeof item.name === 'string') && live.every(isObject)) {
    return desired.map((item) => overlay(live.find((candidate) => isObject(candidate) && candidate.name === (item as Json).name), item));
  }
  return structuredClone(desired);
}

function step(node: unknown, segment: string): unknown {
  if (segment.startsWith('k:')) {
    const { name } = JSON.parse(segment.slice(2)) as { name: string };
    return Array.isArray(node) ? node.find((item) => isObject(item) && item.name === name) : undefined;
  }
  return isObject(node) ? node[segment.slice(2)] : undefined;
}

/** Put `live`'s value at a FieldsV1 path back into `target` (an ignored field is never healed). */
export function restore(target: unknown, live: unknown, path: string[]): void {
  let t = target;
  let l = live;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (last && !segment.startsWith('k:') && isObject(t)) {
      const key = segment.slice(2);
      if (isObject(l) && key in l) t[key] = structuredClone(l[key]);
      else delete t[key];
      return;
    }
    t = step(t, segment);
    l = step(l, segment);
    if (t === undefined) return;
  }
}

/** The JSON pointer (with list indices from `live`) and jq-like path of a FieldsV1 path. */
export function pointerOf(live: unknown, path: string[]): { pointer: string; jq: string } {
  let node = live;
  const parts: string[] = [];
  const jq: string[] = [];
  for (const segment of path) {
    if (segment.startsWith('k:')) {
      const { name } = JSON.parse(segment.slice(2)) as { name: string };
      const index = Array.isArray(node) ? node.findIndex((item) => isObject(item) && item.name === name) : -1;
      parts.push(String(index));
    } else {
      parts.push(segment.slice(2));
      jq.push(segment.slice(2));
    }
    node = step(node, segment);
  }
  return { pointer: `/${parts.join('/')}`, jq: `.${jq.join('.')}` };
}

