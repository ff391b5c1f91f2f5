import { describe, expect, it } from 'vitest';
import { verifyMattermostToken } from './verify-mattermost-token.js';

describe('verifyMattermostToken', () => {
  it.each([
    ['header', 'Token s3cret', undefined, true],
    ['header, other case of scheme', 'token s3cret', undefined, true],
    ['form field', undefined, 's3cret', true],
    ['both', 'Token s3cret', 's3cret', true],
    ['wrong header', 'Token nope', undefined, false],
    ['wrong header wins over a right field', 'Token nope', 's3cret', false],
    ['prefix of the token', 'Token s3cre', undefined, false],
    ['token plus suffix', 'Token s3cretX', undefined, false],
    ['bearer scheme', 'Bearer s3cret', undefined, false],
    ['wrong field', undefined, 'nope', false],
    ['field not a string', undefined, ['s3cret'], false],
    ['nothing', undefined, undefined, false],
  ])('%s', (_name, header, field, expected) => {
    expect(verifyMattermostToken('s3cret', header, field)).toBe(expected);
  });

  it('refuses everything when no token is configured', () => {
    expect(verifyMattermostToken('', 'Token ', '')).toBe(false);
  });
});
