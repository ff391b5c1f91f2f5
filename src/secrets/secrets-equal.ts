// Comparing a presented secret (token, signature) with the expected one without leaking either
// through timing: both are hashed first, so the comparison runs on equal-length digests.

import { hash, timingSafeEqual } from 'node:crypto';

// One-shot hash: a third of createHash().update().digest()'s cost on a short string (webhook hot path).
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * A checker of presented secrets against one expected value, whose digest is computed once rather
 * than per request. An empty expected value matches nothing.
 */
export function secretChecker(expected: string): (given: string | null | undefined) => boolean {
  const want = digest(expected);
  return (given) => given !== undefined && given !== null && expected.length > 0 && timingSafeEqual(digest(given), want);
}

export function secretsEqual(given: string | null | undefined, expected: string): boolean {
  return secretChecker(expected)(given);
}
