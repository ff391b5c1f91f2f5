// The read side's JSON shape of a release (DESIGN §9 "Read API"), shared by the HTTP API and the CLI.

import { planSteps } from '../core/plan.js';
import type { JudgeDetails, Measurement, Verdict } from '../core/gate.js';
import { latestJudge } from '../core/judge/latest-judge.js';
import { isLive, type Actor, type MergeRequestRef, type Release, type ReleaseState } from '../core/release.js';
import type { TrafficState, Weights } from '../core/traffic.js';

export interface ReleaseSummary {
  id: string;
  definition: string;
  service: string;
  namespace: string;
  cluster: string;
  image: string;
  sha: string;
  mr: MergeRequestRef | null;
  state: ReleaseState;
  /** Index of the current step; -1 before the first. */
  step: number;
  weights: Weights;
  createdAt: string;
  updatedAt: string;
}

export type StepStatus = 'done' | 'running' | 'pending' | 'skipped' | 'stopped';

export interface StepView {
  index: number;
  kind: string;
  /** Canary weight while the step runs. */
  weight: number;
  traffic: TrafficState;
  gates: string[];
  status: StepStatus;
}

export interface GateView {
  stepIndex: number;
  verdict: Verdict;
  at: string;
  measurements: Measurement[];
}

export interface AuditView {
  at: string;
  actor: Actor | null;
  action: string;
  stepIndex: number | null;
  detail?: string;
}

export interface ReleaseDetail extends ReleaseSummary {
  phase: string;
  attempt: number;
  reason: string | null;
  endedAt: string | null;
  steps: StepView[];
  gates: GateView[];
  audit: AuditView[];
  /** The judge's latest verdict (its figures are also on that check's `judge` measurement); null when not judged. */
  judge: (JudgeDetails & { stepIndex: number; at: string; verdict: Verdict }) | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function releaseSummary(release: Release): ReleaseSummary {
  return {
    id: release.id,
    definition: release.definition.name,
    service: release.service,
    namespace: release.namespace,
    cluster: release.cluster,
    image: release.image,
    sha: release.sha,
    mr: release.mr,
    state: release.state,
    step: release.stepIndex,
    weights: release.weights,
    createdAt: iso(release.createdAt),
    updatedAt: iso(release.updatedAt),
  };
}

/** Where each planned step stands, given where the release is. */
export function stepStatus(release: Pick<Release, 'state' | 'stepIndex'>, index: number): StepStatus {
  if (index < release.stepIndex) return 'done';
  if (release.state === 'succeeded') return index === release.stepIndex ? 'done' : 'skipped';
  if (index === release.stepIndex) return isLive(release.state) && release.state !== 'rolling-back' ? 'running' : 'stopped';
  return isLive(release.state) && release.state !== 'rolling-back' ? 'pending' : 'skipped';
}

export function releaseDetail(release: Release): ReleaseDetail {
  return {
    ...releaseSummary(release),
    phase: release.phase,
    attempt: release.attempt,
    reason: release.reason,
    endedAt: release.endedAt === null ? null : iso(release.endedAt),
    steps: planSteps(release.definition).map((planned) => ({
      index: planned.index,
      kind: planned.step.kind,
      weight: planned.traffic.weights.canary,
      traffic: planned.traffic,
      gates: planned.gates,
      status: stepStatus(release, planned.index),
    })),
    gates: release.gates.map((gate) => ({
      stepIndex: gate.stepIndex,
      verdict: gate.check.verdict,
      at: iso(gate.check.at),
      measurements: gate.check.measurements,
    })),
    audit: release.audit.map((entry) => ({ ...entry, at: iso(entry.at) })),
    judge: judgeView(release),
  };
}

function judgeView(release: Release): ReleaseDetail['judge'] {
  const latest = latestJudge(release);
  if (!latest) return null;
  return { ...latest.measurement.judge, stepIndex: latest.stepIndex, at: iso(latest.at), verdict: latest.measurement.verdict };
}
