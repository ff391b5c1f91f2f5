import type { JobsOptions } from 'bullmq';
import { backoffDelayMs, type Backoff } from '../core/backoff.js';
import type { ActingVerb } from '../core/command.js';
import type { Input } from '../core/input.js';
import type { ReplyTarget } from '../core/ports.js';
import type { Actor, Release } from '../core/release.js';

export const QUEUE_NAME = 'canarybot-releases';

export type JobData =
  | { kind: 'start'; releaseId: string }
  /** `key` is the schedule-tick key the record expects; recovery ticks carry a `recover-…` key. */
  | { kind: 'tick'; releaseId: string; key: string }
  | {
      kind: 'command';
      releaseId: string;
      verb: ActingVerb;
      actor: Actor;
      stepIndex: number;
      writtenAt?: number;
      reason?: string;
      refusal?: string;
      replyTo?: ReplyTarget;
    }
  | { kind: 'alert'; releaseId: string; name: string; labels: Record<string, string>; startsAt: string; fingerprint: string }
  | { kind: 'supersede'; releaseId: string; byReleaseId: string; image: string }
  /** Concurrency limits: what a queued release waits for now. */
  | { kind: 'queued'; releaseId: string; sentence: string; blockers: string[] };

// BullMQ runs lower numbers first; jobs without a priority would run before every prioritized one,
// so every job gets one and an abort can jump the line.
const PRIORITY = { urgent: 1, command: 2, start: 3, tick: 4 } as const;

/** BullMQ job ids may not contain ':'. */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function tickJobId(release: Pick<Release, 'id' | 'attempt' | 'stepIndex'>, key: string): string {
  return safeId(`${release.id}-${release.attempt}-${release.stepIndex}-${key}`);
}

export function jobPriority(data: JobData): number {
  switch (data.kind) {
    case 'alert':
    case 'supersede':
      return PRIORITY.urgent;
    case 'command':
      return data.verb === 'abort' ? PRIORITY.urgent : PRIORITY.command;
    case 'start':
    case 'queued':
      return PRIORITY.start;
    case 'tick':
      return PRIORITY.tick;
  }
}

/** Completed and failed jobs are removed so a deterministic id can be scheduled again later. */
export function jobOptions(data: JobData, jobId: string, delayMs = 0): JobsOptions {
  return {
    jobId,
    priority: jobPriority(data),
    delay: Math.max(0, Math.round(delayMs)),
    attempts: 25,
    backoff: { type: 'capped' },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * A failed engine job (lost lock, Redis hiccup; never an effect's failure, which the core retries)
 * is run again after the one capped full-jitter backoff, so jobs that failed together do not return together.
 */
export const JOB_RETRY: Backoff = { baseMs: 100, capMs: 5_000 };

/** Delay before retry `attemptsMade` of a failed job. */
export function cappedBackoff(attemptsMade: number, random: () => number = Math.random): number {
  return backoffDelayMs(attemptsMade, JOB_RETRY, random);
}

/** The core input a job carries. */
export function inputOf(data: JobData): Input {
  switch (data.kind) {
    case 'start':
      return { type: 'start' };
    case 'tick':
      return { type: 'tick' };
    case 'command':
      return {
        type: 'command',
        verb: data.verb,
        actor: data.actor,
        releaseId: data.releaseId,
        stepIndex: data.stepIndex,
        ...(data.writtenAt !== undefined ? { writtenAt: data.writtenAt } : {}),
        reason: data.reason,
        ...(data.refusal !== undefined ? { refusal: data.refusal } : {}),
      };
    case 'alert':
      return { type: 'alert', name: data.name, labels: data.labels, startsAt: data.startsAt, fingerprint: data.fingerprint };
    case 'supersede':
      return { type: 'superseded', byReleaseId: data.byReleaseId, image: data.image };
    case 'queued':
      return { type: 'queued', sentence: data.sentence, blockers: data.blockers };
  }
}
