import { describe, expect, it } from 'vitest';
import { createLogger, maskSecrets, MASK } from './create-logger.js';

function capture(secrets: string[], level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, secrets, destination: { write: (line: string) => lines.push(line) } });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), raw: () => lines.join('') };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the level name and an ISO time', () => {
    const { logger, records } = capture([]);

    logger.info({ releaseId: 'r1' }, 'release event');

    expect(records()).toEqual([expect.objectContaining({ level: 'info', msg: 'release event', releaseId: 'r1', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })]);
  });

  it('honours the level', () => {
    const { logger, records } = capture([], 'info');

    logger.debug('hidden');
    logger.warn('shown');

    expect(records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('redacts auth headers and token fields by name, whatever their value', () => {
    const { logger, records } = capture([]);

    logger.info({ req: { headers: { authorization: 'Bearer abc', 'x-gitlab-token': 'xyz', accept: 'json' } }, token: 't0k', nested: { password: 'pw' } }, 'request');

    expect(records()[0]).toMatchObject({ req: { headers: { authorization: MASK, 'x-gitlab-token': MASK, accept: 'json' } }, token: MASK, nested: { password: MASK } });
  });

  it('masks every configured secret value in messages, fields and error stacks', () => {
    const secret = 'glpat-s3cr3t"value';
    const { logger, raw } = capture([secret, 'whsec-other']);

    logger.warn({ url: `https://gitlab.example.com/?private_token=${secret}`, err: new Error(`refused whsec-other`) }, `call with ${secret} failed`);

    expect(raw()).not.toContain('s3cr3t');
    expect(raw()).not.toContain('whsec-other');
    expect(raw().split(MASK).length - 1).toBeGreaterThanOrEqual(3);
  });
});

describe('maskSecrets', () => {
  it.each([
    ['plain', 'token abc123 here', ['abc123'], `token ${MASK} here`],
    ['the longer secret first', 'abcdef', ['abc', 'abcdef'], MASK],
    ['JSON-escaped form', JSON.stringify({ v: 'a"b' }), ['a"b'], `{"v":"${MASK}"}`],
    ['no secrets', 'nothing', [], 'nothing'],
  ])('%s', (_name, text, secrets, expected) => {
    expect(maskSecrets(text, secrets)).toBe(expected);
  });
});
