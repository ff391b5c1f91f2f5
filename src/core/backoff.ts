// Capped exponential backoff with full jitter: the delay before retry n (1-based) is drawn uniformly
// from [0, min(cap, base · 2^(n-1))). Full jitter spreads retries of many callers that failed
// together (a Kubernetes API that blinked for every release at once) instead of moving them in step.
// `random` is injected: the core passes a deterministic value, adapters may pass Math.random.

export interface Backoff {
  /** Upper bound of the first retry's delay. */
  baseMs: number;
  /** No delay is ever drawn above this. */
  capMs: number;
}

/** The largest delay retry `attempt` may draw (before jitter). */
export function backoffCeilingMs(attempt: number, backoff: Backoff): number {
  const exponent = Math.min(30, Math.max(0, Math.floor(attempt) - 1));
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** exponent);
}

/** Delay before retry `attempt` (1 = the first retry); `random` returns a number in [0, 1). */
export function backoffDelayMs(attempt: number, backoff: Backoff, random: () => number): number {
  const drawn = random();
  const unit = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1 - Number.EPSILON) : 0;
  return Math.floor(unit * backoffCeilingMs(attempt, backoff));
}

/**
 * A deterministic number in [0, 1) from a string (FNV-1a), for the pure core: the same release and
 * attempt always draw the same jitter, different ones spread out.
 */
export function jitterUnit(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}
