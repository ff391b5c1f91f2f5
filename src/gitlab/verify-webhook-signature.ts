// Standard Webhooks signatures (https://www.standardwebhooks.com/), as GitLab sends them when a
// webhook has a signing token: `webhook-signature: v1,<base64 HMAC-SHA256>` over
// `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the secret (`whsec_<base64>`).

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedDelivery {
  id: string | undefined;
  /** Seconds since the epoch, as sent. */
  timestamp: string | undefined;
  /** Space-separated `v1,<base64>` entries (several while a secret is rotated). */
  signature: string;
  body: Buffer;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/** Default tolerance between the sender's timestamp and our clock, either way. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

/** The HMAC key: `whsec_` secrets carry base64 key bytes; any other secret is used as UTF-8 bytes. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhook(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  const mac = createHmac('sha256', key);
  mac.update(`${id}.${timestamp}.`, 'utf8');
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export function verifyWebhookSignature(
  delivery: SignedDelivery,
  key: Buffer,
  now: number,
  toleranceMs = SIGNATURE_TOLERANCE_MS,
): SignatureVerdict {
  if (!delivery.id || !delivery.timestamp) return { ok: false, reason: 'webhook-id or webhook-timestamp missing' };
  if (!/^\d{1,12}$/.test(delivery.timestamp)) return { ok: false, reason: 'webhook-timestamp is not a number' };
  const sentAt = Number(delivery.timestamp) * 1000;
  if (Math.abs(now - sentAt) > toleranceMs) return { ok: false, reason: 'webhook-timestamp outside the tolerance window' };

  const expected = Buffer.from(signWebhook(key, delivery.id, delivery.timestamp, delivery.body).slice(3), 'base64');
  for (const entry of delivery.signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'webhook-signature does not match' };
}
