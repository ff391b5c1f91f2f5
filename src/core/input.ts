import type { ActingVerb } from './command.js';
import type { CheckResult } from './gate.js';
import type { Actor } from './release.js';

/** Outcome of an effect that reports back (readiness, rollout, preflight). */
export type EffectOutcome =
  | { outcome: 'ok' }
  /** Not finished yet (rollout still progressing); the core decides when to look again. */
  | { outcome: 'progressing'; message?: string }
  | { outcome: 'transient'; code: string; message: string }
  | { outcome: 'terminal'; code: string; message: string };

export type Input =
  /** Begin a freshly created release. */
  | { type: 'start' }
  /** A scheduled tick is due (pause over, next analysis check, poll readiness, settle over). */
  | {
      type: 'tick';
      /** The `schedule-tick` key this tick was scheduled under; absent for recovery ticks (which re-drive). */
      key?: string;
    }
  | ({
      type: 'effect-result';
      effect: 'preflight' | 'ensure-canary' | 'ensure-stable' | 'set-traffic' | 'scale-canary';
      /** Preflight only: the image the stable Deployment's container runs now (absent when unknown). */
      stableImage?: string;
    } & EffectOutcome)
  | { type: 'gate-result'; stepIndex: number; check: CheckResult }
  | {
      type: 'command';
      verb: ActingVerb;
      actor: Actor;
      /** The release this command was addressed to when it was given. */
      releaseId: string;
      /** The step the release was on when the command was given (approvals bind to it). */
      stepIndex: number;
      reason?: string;
    }
  | { type: 'alert'; name: string; labels: Record<string, string>; startsAt: string; fingerprint: string }
  | { type: 'superseded'; byReleaseId: string; image: string };
