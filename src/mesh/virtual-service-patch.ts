import type { JsonPatchOp } from './json-patch-diff.js';
import { jsonPatchDiff } from './json-patch-diff.js';
import type { VirtualServiceObject } from './virtual-service-types.js';

export type { JsonPatchOp } from './json-patch-diff.js';

/**
 * The JSON patch from `current` to `desired`, led by a `test` of metadata.resourceVersion so the
 * API server refuses it (409) when the object changed since it was read; null when nothing differs.
 */
export function virtualServicePatch(current: VirtualServiceObject, desired: VirtualServiceObject): JsonPatchOp[] | null {
  const { resourceVersion: _ignored, ...currentMeta } = current.metadata;
  const { resourceVersion: _ignoredToo, ...desiredMeta } = desired.metadata;
  const ops = jsonPatchDiff({ ...current, metadata: currentMeta }, { ...desired, metadata: desiredMeta });
  if (ops.length === 0) return null;
  const version = current.metadata.resourceVersion;
  return version === undefined ? ops : [{ op: 'test', path: '/metadata/resourceVersion', value: version }, ...ops];
}
