import { createHash } from 'node:crypto';

/** A stable identity for an alert without one: the hash of its sorted labels. */
export function labelFingerprint(labels: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
