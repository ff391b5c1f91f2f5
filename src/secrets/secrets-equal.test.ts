import { describe, expect, it } from 'vitest';
import { secretChecker, secretsEqual } from './secrets-equal.js';

describe('secretChecker', () => {
  const matches = secretChecker('s3cret-token');

  it.each([
    ['the same token', 's3cret-token', true],
    ['a missing token', undefined, false],
    ['a null token', null, false],
    ['an empty token', '', false],
    ['a prefix of it', 's3cret', false],
    ['a longer token', 's3cret-token-and-more', false],
    ['a different case', 'S3CRET-TOKEN', false],
    ['surrounding spaces', ' s3cret-token ', false],
  ])('%s → %s', (_name, given, expected) => {
    expect(matches(given)).toBe(expected);
  });

  it('checks many tokens against one expected value', () => {
    expect(['a', 's3cret-token', 'b', 's3cret-token'].map(matches)).toEqual([false, true, false, true]);
  });

  it('never matches when nothing is expected, not even an empty token', () => {
    expect(secretChecker('')('')).toBe(false);
    expect(secretsEqual('', '')).toBe(false);
  });
});
