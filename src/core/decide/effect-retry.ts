// The engine's one retry of effects. A transient result (network, 5xx, 409, 429: the registry's
// transient codes) is never final: the release keeps its phase, says on `wait` what it waits for,
// and a tick after a capped full-jitter backoff runs the same idempotent effect again. Only a
// permanent error (a 4xx that is not 409/429) ends a step. Durable across restarts: the retry is a
// scheduled tick on the record, not a loop in a process.

import { backoffDelayMs, jitterUnit, type Backoff } from '../backoff.js';
import { ERROR_CODES } from '../errors.js';
import type { EffectOutcome } from '../input.js';
import type { Draft } from './draft.js';
import { announce, audit, wakeAt } from './draft.js';

/** First retry within 0.5 s, never more than 10 s apart: a rollback lands soon after an outage ends. */
export const EFFECT_RETRY: Backoff = { baseMs: 500, capMs: 10_000 };

/** The `wait` kinds this module sets (and so may clear). */
export const ROLLBACK_BLOCKED = 'rollback-blocked';
export const RETRY = 'retry';
const RETRY_KINDS: ReadonlySet<string> = new Set([ROLLBACK_BLOCKED, RETRY]);

export type EffectResultClass = 'done' | 'progressing' | 'retry' | 'permanent';

/** What an effect's result means for its step: done, not yet, try again later, or give up. */
export function classifyEffectResult(result: EffectOutcome): EffectResultClass {
  switch (result.outcome) {
    case 'ok':
      return 'done';
    case 'progressing':
      return 'progressing';
    case 'transient':
      return 'retry';
    case 'terminal': {
      // The code decides, not who reported it: a transient code is retried whatever the outcome says.
      const entry = (ERROR_CODES as Record<string, { transient: boolean } | undefined>)[result.code];
      return entry?.transient === true ? 'retry' : 'permanent';
    }
  }
}

export function failureText(result: EffectOutcome): string {
  if (result.outcome === 'transient' || result.outcome === 'terminal') return `${result.message} (${result.code})`;
  return result.outcome === 'progressing' && result.message ? result.message : 'no answer';
}

/** The delay before retry `attempt` of this release's current effect (deterministic per release and attempt). */
export function retryDelayMs(d: Draft, attempt: number): number {
  const r = d.next;
  const seed = `${r.id}/${r.attempt}/${r.clusterIndex}/${r.state}/${r.phase}/${attempt}`;
  return backoffDelayMs(attempt, EFFECT_RETRY, () => jitterUnit(seed));
}

/**
 * Waits and runs the current phase's effect again. `blocked` says what cannot happen (a sentence
 * fragment such as "traffic could not be put back on stable").
 */
export function retryEffect(d: Draft, result: EffectOutcome, blocked: string): void {
  const r = d.next;
  const attempt = (r.effectRetries ?? 0) + 1;
  const at = d.now + retryDelayMs(d, attempt);
  const kind = r.state === 'rolling-back' ? ROLLBACK_BLOCKED : RETRY;
  const since = r.wait?.kind === kind ? r.wait.since : d.now;
  const lead = kind === ROLLBACK_BLOCKED ? 'The rollback is blocked' : 'Waiting for Kubernetes';
  const sentence = `${lead}: ${blocked} (${failureText(result)}); retrying with backoff, ${attempt} ${attempt === 1 ? 'try' : 'tries'} failed so far.`;
  r.effectRetries = attempt;
  // `until` stays unknown: the next try is at `wakeAt`, but nobody knows when the outage ends.
  r.wait = { kind, sentence, since, until: null, link: null };
  if (attempt === 1) {
    audit(d, kind, sentence);
    // Told once per outage: the note says why the release stands still, chat hears of a blocked rollback.
    announce(d, 'waiting', kind === ROLLBACK_BLOCKED);
  }
  // The key is unique per wait (the time it was set): a tick job id, once consumed, is never run again,
  // and the same retry count comes back in a later phase.
  wakeAt(d, at, `retry${attempt}-${d.now}`);
}

/** The effect in flight answered (ready or progressing): end any retry wait it was in. */
export function effectAnswered(d: Draft): void {
  const r = d.next;
  const retries = r.effectRetries ?? 0;
  const waiting = r.wait != null && RETRY_KINDS.has(r.wait.kind);
  if (retries === 0 && !waiting) return;
  const kind = r.wait?.kind;
  r.effectRetries = 0;
  if (waiting) {
    r.wait = null;
    audit(d, kind === ROLLBACK_BLOCKED ? 'rollback-unblocked' : 'retry-landed', `after ${retries} failed ${retries === 1 ? 'try' : 'tries'}`);
    announce(d, 'progress', false);
  }
}

/** A new effect begins (rollback, end): the retry count and any retry wait of the old one go. */
export function clearRetry(d: Draft): void {
  const r = d.next;
  if ((r.effectRetries ?? 0) !== 0) r.effectRetries = 0;
  if (r.wait != null && RETRY_KINDS.has(r.wait.kind)) r.wait = null;
}
