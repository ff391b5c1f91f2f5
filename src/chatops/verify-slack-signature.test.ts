import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from './verify-slack-signature.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const body = Buffer.from('token=x&team_id=T1&user_id=U1&command=%2Fcanary&text=approve+reviews&response_url=https%3A%2F%2Fhooks.slack.com%2Fx');
const now = 1_700_000_000_000;
const ts = String(now / 1000);

describe('verifySlackSignature', () => {
  it.each([
    ['valid', { timestamp: ts, signature: slackSignature(secret, ts, body) }, { ok: true }],
    ['4 min old', { timestamp: String(now / 1000 - 240), signature: slackSignature(secret, String(now / 1000 - 240), body) }, { ok: true }],
    ['6 min old (replay)', { timestamp: String(now / 1000 - 360), signature: slackSignature(secret, String(now / 1000 - 360), body) }, { ok: false, reason: 'stale' }],
    ['6 min in the future', { timestamp: String(now / 1000 + 360), signature: slackSignature(secret, String(now / 1000 + 360), body) }, { ok: false, reason: 'stale' }],
    ['timestamp not a number', { timestamp: 'abc', signature: slackSignature(secret, 'abc', body) }, { ok: false, reason: 'stale' }],
    ['other secret', { timestamp: ts, signature: slackSignature('other', ts, body) }, { ok: false, reason: 'mismatch' }],
    ['signature for another timestamp', { timestamp: ts, signature: slackSignature(secret, String(now / 1000 - 1), body) }, { ok: false, reason: 'mismatch' }],
    ['no v0= prefix', { timestamp: ts, signature: slackSignature(secret, ts, body).slice(3) }, { ok: false, reason: 'mismatch' }],
    ['missing signature', { timestamp: ts, signature: undefined }, { ok: false, reason: 'missing' }],
    ['missing timestamp', { timestamp: undefined, signature: slackSignature(secret, ts, body) }, { ok: false, reason: 'missing' }],
  ])('%s', (_name, headers, expected) => {
    expect(verifySlackSignature({ signingSecret: secret, rawBody: body, now, ...headers })).toEqual(expected);
  });

  it('refuses a tampered body', () => {
    const signature = slackSignature(secret, ts, body);
    const tampered = Buffer.from(body.toString().replace('approve', 'promote'));

    expect(verifySlackSignature({ signingSecret: secret, rawBody: tampered, timestamp: ts, signature, now })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses everything when no secret is configured', () => {
    expect(verifySlackSignature({ signingSecret: '', rawBody: body, timestamp: ts, signature: slackSignature('', ts, body), now })).toEqual({ ok: false, reason: 'missing' });
  });

  it('matches the example in Slack\'s documentation', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (documented example values)
    const documentedBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';

    expect(slackSignature(secret, '1531420618', documentedBody)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });
});
