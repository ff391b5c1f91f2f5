// Server-side field ownership as the API server records it in metadata.managedFields: each write
// names a field manager (`?fieldManager=`, default taken from the user agent), the fields it changed
// become that manager's, and other managers lose them. FieldsV1 encodes a field as `f:<name>`, an
// element of a map-keyed list as `k:{"name":…}`; a list without merge keys is owned as a whole.
// https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management

type Json = unknown;

export interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** Lists keyed by `name` in the built-in types canarybot touches (containers, env, ports…). */
const KEYED_LISTS = new Set(['containers', 'initContainers', 'env', 'ports', 'volumes', 'volumeMounts']);
const SKIPPED_METADATA = new Set(['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'namespace', 'name']);

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The FieldsV1 path segments of every leaf that differs between `before` and `after`. */
export function changedFieldPaths(before: Json, after: Json, path: string[] = []): string[][] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (isObject(after)) {
    const previous = isObject(before) ? before : {};
    const keys = new Set([...Object.keys(after), ...Object.keys(previous)]);
    return [...keys].flatMap((key) => {
      if (path.length === 0 && (key === 'status' || key === 'apiVersion' || key === 'kind')) return [];
      if (path.length === 1 && path[0] === 'f:metadata' && SKIPPED_METADATA.has(key)) return [];
      if (!(key in after)) return [];
      return changedFieldPaths(previous[key], after[key], [...path, `f:${key}`]);
    });
  }
  const last = path[path.length - 1]?.slice(2) ?? '';
  if (Array.isArray(after) && KEYED_LISTS.has(last) && after.every((item) => isObject(item) && typeof item.name === 'string')) {
    const previous = Array.isArray(before) ? before : [];
    return after.flatMap((item) => {
      const name = (item as { name: string }).name;
      const old = previous.find((candidate) => isObject(candidate) && candidate.name === name);
      return changedFieldPaths(old, item, [...path, `k:${JSON.stringify({ name })}`]);
    });
  }
  return [path];
}

function insert(tree: Record<string, unknown>, path: string[]): void {
  let node = tree;
  for (const segment of path) {
    node[segment] ??= {};
    node = node[segment] as Record<string, unknown>;
  }
}

/** Every leaf path of a FieldsV1 tree (an element key with children counts through its children). */
export function fieldPaths(tree: Record<string, unknown>, path: string[] = []): string[][] {
  const entries = Object.entries(tree).filter(([key]) => key !== '.');
  if (entries.length === 0) return path.length > 0 ? [path] : [];
  return entries.flatMap(([key, child]) => fieldPaths(isObject(child) ? child : {}, [...path, key]));
}

function overlaps(a: string[], b: string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** The managedFields after `manager` wrote `after` over `current` (undefined: a create). */
export function recordManager(
  current: { metadata: Record<string, unknown> } | undefined,
  after: Record<string, unknown>,
  write: { manager: string; operation: string; apiVersion: string; subresource?: string },
): ManagedFieldsEntry[] {
  const entries = structuredClone((current?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []);
  const changed = changedFieldPaths(current, after);
  if (changed.length === 0) return entries;
  const kept: ManagedFieldsEntry[] = [];
  let own: ManagedFieldsEntry | undefined;
  for (const entry of entries) {
    const same = entry.manager === write.manager && entry.operation === write.operation && entry.subresource === write.subresource;
    const paths = fieldPaths(entry.fieldsV1).filter((path) => same || !changed.some((taken) => overlaps(taken, path)));
    const fieldsV1: Record<string, unknown> = {};
    for (const path of paths) insert(fieldsV1, path);
    const next = { ...entry, fieldsV1 };
    if (same) own = next;
    else if (paths.length > 0) kept.push(next);
  }
  own ??= { manager: write.manager, operation: write.operation, apiVersion: write.apiVersion, time: '', fieldsType: 'FieldsV1', fieldsV1: {} };
  for (const path of changed) insert(own.fieldsV1, path);
  own.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (write.subresource !== undefined) own.subresource = write.subresource;
  return [...kept, own];
}

/** The manager that owns the field at `path` (FieldsV1 segments), or its closest owned ancestor. */
export function ownerOf(object: { metadata: Record<string, unknown> }, path: string[]): string | undefined {
  const entries = (object.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  for (const entry of [...entries].reverse()) {
    if (fieldPaths(entry.fieldsV1).some((owned) => overlaps(owned, path))) return entry.manager;
  }
  return undefined;
}
