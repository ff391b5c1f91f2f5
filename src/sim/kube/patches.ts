// The three patch formats of the Kubernetes API: RFC 6902 JSON patch, RFC 7386 merge patch, and a
// strategic merge patch for Deployments (lists of named things merge by name).

type Json = unknown;
type JsonObject = Record<string, Json>;

export class PatchError extends Error {
  constructor(
    message: string,
    readonly testFailed = false,
  ) {
    super(message);
  }
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${path}`);
  return path.slice(1).split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => key in right && equal(left[key], right[key]));
}

function arrayIndex(array: Json[], segment: string, forAdd: boolean): number {
  if (forAdd && segment === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(segment)) throw new PatchError(`invalid array index ${segment}`);
  const index = Number(segment);
  if (index > array.length || (!forAdd && index === array.length)) throw new PatchError(`array index ${index} out of bounds`);
  return index;
}

function parentOf(doc: Json, segments: string[], path: string): Json {
  let node = doc;
  for (const segment of segments.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, segment, false)];
    else if (isObject(node) && segment in node) node = node[segment];
    else throw new PatchError(`doc is missing path: ${path}`);
  }
  return node;
}

function get(doc: Json, path: string): Json {
  let node = doc;
  for (const segment of parsePointer(path)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, segment, false)];
    else if (isObject(node) && segment in node) node = node[segment];
    else throw new PatchError(`doc is missing path: ${path}`);
  }
  return node;
}

function remove(doc: Json, path: string): Json {
  const segments = parsePointer(path);
  const parent = parentOf(doc, segments, path);
  const last = segments[segments.length - 1] as string;
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (isObject(parent) && last in parent) {
    const value = parent[last];
    delete parent[last];
    return value;
  }
  throw new PatchError(`doc is missing path: ${path}`);
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const segments = parsePointer(path);
  if (segments.length === 0) return structuredClone(value);
  const parent = parentOf(doc, segments, path);
  const last = segments[segments.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, !replace);
    parent.splice(index, replace ? 1 : 0, structuredClone(value));
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw new PatchError(`doc is missing path: ${path}`);
    parent[last] = structuredClone(value);
  } else throw new PatchError(`doc is missing path: ${path}`);
  return doc;
}

export function applyJsonPatch(document: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = structuredClone(document);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('each JSON patch operation needs an op and a path');
    }
    const { op, path } = raw;
    switch (op) {
      case 'test':
        if (!equal(get(doc, path), raw.value)) throw new PatchError(`testing value ${path} failed`, true);
        break;
      case 'add':
        doc = add(doc, path, raw.value, false);
        break;
      case 'replace':
        doc = add(doc, path, raw.value, true);
        break;
      case 'remove':
        remove(doc, path);
        break;
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new PatchError(`${op} needs from`);
        const value = op === 'move' ? remove(doc, raw.from) : get(doc, raw.from);
        doc = add(doc, path, value, false);
        break;
      }
      default:
        throw new PatchError(`unknown JSON patch operation ${op}`);
    }
  }
  return doc;
}

export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** List fields of a Deployment that strategic merge patches merge by a key instead of replacing. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

export function applyStrategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    const mergeKey = MERGE_KEYS[key];
    if (value === null) delete result[key];
    else if (mergeKey && Array.isArray(value) && Array.isArray(result[key])) {
      const merged = [...(result[key] as Json[])];
      for (const item of value) {
        const keyValue = isObject(item) ? item[mergeKey] : undefined;
        const at = merged.findIndex((existing) => isObject(existing) && existing[mergeKey] === keyValue);
        if (isObject(item) && item.$patch === 'delete') {
          if (at >= 0) merged.splice(at, 1);
        } else if (at >= 0) merged[at] = applyStrategicMergePatch(merged[at], item);
        else merged.push(structuredClone(item));
      }
      result[key] = merged;
    } else result[key] = applyStrategicMergePatch(result[key], value);
  }
  return result;
}
