import { createEngine, type Engine, type EngineOptions } from '../../src/engine/create-engine.js';
import type { Release } from '../../src/core/release.js';
import { isLive } from '../../src/core/release.js';

/** Short timings so a dead worker's job comes back in about a second. */
export const FAST_TIMING = { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 };

export async function startTestEngine(options: Omit<EngineOptions, 'timing'> & Partial<Pick<EngineOptions, 'timing'>>): Promise<Engine> {
  const engine = createEngine({
    timing: FAST_TIMING,
    concurrency: 4,
    ...options,
  });
  await engine.start();
  return engine;
}

/** Polls until `probe` returns something truthy; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the release has ended and returns it. */
export async function waitForEnd(engine: Pick<Engine, 'get'>, id: string, timeoutMs = 15_000): Promise<Release> {
  return waitFor(async () => {
    const release = await engine.get(id);
    return release && !isLive(release.state) ? release : null;
  }, timeoutMs, `release ${id} to end`);
}

/** Collapses consecutive repeats (an idempotent effect re-run after a lost lock): [10, 10, 50] → [10, 50]. */
export function collapse<T>(values: T[]): T[] {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}
