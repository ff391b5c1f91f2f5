import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison of a presented token with the expected one. Both are hashed first so
 * the comparison runs on equal-length digests and leaks neither content nor length.
 */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
