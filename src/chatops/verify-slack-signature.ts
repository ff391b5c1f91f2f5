import { createHmac } from 'node:crypto';
import { secretsEqual } from '../secrets/secrets-equal.js';

/** Slack refuses requests older than five minutes; so do we (replay protection). */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export interface SlackSignatureInput {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp` (epoch seconds). */
  timestamp: string | undefined;
  /** `X-Slack-Signature` (`v0=<hex>`). */
  signature: string | undefined;
  rawBody: Buffer | undefined;
  /** Epoch milliseconds. */
  now: number;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

/** Slack's v0 scheme: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function verifySlackSignature(input: SlackSignatureInput): SignatureVerdict {
  const { timestamp, signature, rawBody } = input;
  if (!timestamp || !signature || rawBody === undefined || !input.signingSecret) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale' };
  const ageSeconds = Math.abs(input.now / 1000 - Number(timestamp));
  if (ageSeconds > SLACK_MAX_AGE_SECONDS) return { ok: false, reason: 'stale' };
  const expected = slackSignature(input.signingSecret, timestamp, rawBody);
  return secretsEqual(signature, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** The `X-Slack-Signature` value Slack would send for this body. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`, 'utf8');
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}
