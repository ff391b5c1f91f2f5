// Who is calling the API: the GitLab user a bearer token belongs to, asked of GitLab (GET /user)
// and remembered for a short time. No user database of our own: a token GitLab no longer accepts
// stops working here when its cache entry lapses.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { GitLabUser } from '../gitlab/gitlab-api.js';

/** A caller GitLab vouched for. */
export interface Caller {
  id: number;
  username: string;
  name: string;
}

export interface CallerIdentityOptions {
  /** GitLab's answer for a token: its user, or null when GitLab does not accept it. Throws on an outage. */
  lookup: (token: string) => Promise<GitLabUser | null>;
  /** How long GitLab's answer for a token is kept (default 60 s). */
  ttlMs?: number;
  /** How long a refused token is remembered as refused (default 10 s), so it cannot make us hammer GitLab. */
  refusedTtlMs?: number;
  /** Most tokens remembered at once (default 10,000); the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

export interface CallerIdentity {
  /** The caller of `token`, or null when GitLab does not accept it. Throws (GITLAB_UNAVAILABLE) when GitLab cannot be asked. */
  identify(token: string): Promise<Caller | null>;
}

interface Entry {
  digest: Buffer;
  caller: Caller | null;
  expiresAt: number;
}

/**
 * Tokens are never kept, compared or logged as they are: the cache is keyed by an HMAC of the token
 * under a key made at start-up (so a memory dump holds nothing a token could be checked against
 * offline), and a hit is confirmed by comparing the digests in constant time.
 */
export function createCallerIdentity(options: CallerIdentityOptions): CallerIdentity {
  const ttlMs = options.ttlMs ?? 60_000;
  const refusedTtlMs = Math.min(options.refusedTtlMs ?? 10_000, ttlMs);
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const key = randomBytes(32);
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Caller | null>>();

  const digestOf = (token: string): Buffer => createHmac('sha256', key).update(token, 'utf8').digest();

  function remember(id: string, digest: Buffer, caller: Caller | null): void {
    cache.delete(id);
    while (cache.size >= maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    cache.set(id, { digest, caller, expiresAt: now() + (caller ? ttlMs : refusedTtlMs) });
  }

  return {
    async identify(token) {
      if (token === '') return null;
      const digest = digestOf(token);
      const id = digest.toString('base64');
      const hit = cache.get(id);
      if (hit && hit.expiresAt > now() && timingSafeEqual(hit.digest, digest)) return hit.caller;
      if (hit) cache.delete(id);
      const pending = inFlight.get(id);
      if (pending) return pending;
      const asked = options
        .lookup(token)
        .then((user) => {
          const caller = user ? { id: user.id, username: user.username, name: user.name } : null;
          remember(id, digest, caller);
          return caller;
        })
        .finally(() => inFlight.delete(id));
      inFlight.set(id, asked);
      return asked;
    },
  };
}
