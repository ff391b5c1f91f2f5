// The dashboard's JSON shape of a live release: the read API's summary plus what a board row shows
// (strategy, step n of m, the traffic split, the last gate figures, what it waits for, links).
// Pure: built from the record alone, so every replica sends the same thing.

import { planSteps } from '../core/plan.js';
import type { Measurement, Verdict } from '../core/gate.js';
import type { AnalysisProgress, Release } from '../core/release.js';
import { releaseDetail, releaseSummary, type ReleaseDetail, type ReleaseSummary } from './release-view.js';

/** The pinned generic "why is this release not moving" (DESIGN, HELPERS): sentence, until, link. */
export interface WaitView {
  kind: string;
  sentence: string;
  since: string;
  until: string | null;
  link: string | null;
}

export interface ReleaseLinks {
  mergeRequest: string | null;
  pipeline: string | null;
  commit: string | null;
  /** The GitOps write-back's promotion commit in the config repository (spec.gitops), once written. */
  configCommit: string | null;
  grafana: string | null;
  jaeger: string | null;
}

export interface LinkSettings {
  grafanaUrl?: string | undefined;
  jaegerUrl?: string | undefined;
}

export interface BoardRelease extends ReleaseSummary {
  strategy: Release['definition']['strategy']['kind'];
  /** Planned steps in all; `step` is the index of the current one. */
  stepCount: number;
  stepKind: string | null;
  traffic: { stable: number; canary: number; baseline: number; mirror: number };
  analysis: AnalysisProgress | null;
  lastGate: { stepIndex: number; verdict: Verdict; at: string; measurements: Measurement[] } | null;
  wait: WaitView | null;
  reason: string | null;
  endedAt: string | null;
  links: ReleaseLinks;
}

/** `GET /api/releases/:id`: the read API's detail plus the board row's fields and the charts' samples. */
export interface ReleasePage extends ReleaseDetail, Omit<BoardRelease, keyof ReleaseSummary | 'reason'> {
  /** Canary weight and success rate over time, as the progress note's chart plots them. */
  timeline: Array<{ at: string; canaryWeight: number; successRate: number | null }>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function boardRelease(release: Release, settings: LinkSettings = {}): BoardRelease {
  const plan = planSteps(release.definition);
  const last = release.gates.at(-1);
  return {
    ...releaseSummary(release),
    strategy: release.definition.strategy.kind,
    stepCount: plan.length,
    stepKind: plan[release.stepIndex]?.step.kind ?? null,
    traffic: {
      stable: release.weights.stable,
      canary: release.weights.canary,
      baseline: release.weights.baseline ?? 0,
      mirror: release.traffic.mirrorPercent,
    },
    analysis: release.analysis,
    lastGate: last
      ? { stepIndex: last.stepIndex, verdict: last.check.verdict, at: iso(last.check.at), measurements: last.check.measurements.map(withoutJudge) }
      : null,
    wait: waitView(release),
    reason: release.reason,
    endedAt: release.endedAt === null ? null : iso(release.endedAt),
    links: releaseLinks(release, settings),
  };
}

export function releasePage(release: Release, settings: LinkSettings = {}): ReleasePage {
  const board = boardRelease(release, settings);
  return {
    ...releaseDetail(release),
    ...board,
    // The board row strips the judge's report; the page shows it.
    lastGate: board.lastGate && { ...board.lastGate, measurements: release.gates.at(-1)?.check.measurements ?? [] },
    timeline: release.timeline.map((point) => ({ at: iso(point.at), canaryWeight: point.canaryWeight, successRate: point.successRate })),
  };
}

/** The record's own `wait` when something set it; an approval step's wait is said here for records that have none. */
export function waitView(release: Release): WaitView | null {
  const stored = release.wait;
  if (stored) {
    return {
      kind: stored.kind,
      sentence: stored.sentence,
      since: iso(stored.since),
      until: stored.until == null ? null : iso(stored.until),
      link: stored.link ?? null,
    };
  }
  if (release.state !== 'awaiting-approval') return null;
  return { kind: 'approval', sentence: approvalSentence(release), since: iso(release.stepStartedAt), until: null, link: release.mr?.url ?? null };
}

function approvalSentence(release: Release): string {
  const policy = release.definition.approvals;
  const who = [`a ${policy.minAccessLevel} or higher of the project`];
  if (policy.users.length > 0) who.push(policy.users.map((u) => `@${u}`).join(', '));
  if (policy.groups.length > 0) who.push(`members of ${policy.groups.join(', ')}`);
  const author = policy.allowAuthor || !release.mr?.authorUsername ? '' : ` (not the MR author @${release.mr.authorUsername})`;
  return `Waiting for approval of step ${release.stepIndex + 1} by ${who.join(' or ')}${author}.`;
}

// The judge's full report is on the release page; a board row needs only its score.
function withoutJudge(measurement: Measurement): Measurement {
  const { judge: _judge, ...rest } = measurement;
  return rest;
}

export function releaseLinks(release: Release, settings: LinkSettings): ReleaseLinks {
  const project = projectWebUrl(release.mr?.url ?? release.pipeline?.url);
  const from = release.createdAt;
  const to = release.endedAt ?? release.updatedAt;
  const workload = release.definition.target.canary.deployment;
  let grafana: string | null = null;
  if (settings.grafanaUrl) {
    const q = new URLSearchParams({ 'var-namespace': release.namespace, 'var-service': release.service, 'var-workload': workload, from: String(from), to: String(to) });
    grafana = `${trimSlash(settings.grafanaUrl)}/?${q.toString()}`;
  }
  let jaeger: string | null = null;
  if (settings.jaegerUrl) {
    const q = new URLSearchParams({ service: `${workload}.${release.namespace}`, start: String(from * 1000), end: String(to * 1000) });
    jaeger = `${trimSlash(settings.jaegerUrl)}/search?${q.toString()}`;
  }
  return {
    mergeRequest: release.mr?.url ?? null,
    pipeline: release.pipeline?.url ?? null,
    commit: project && release.sha ? `${project}/-/commit/${release.sha}` : null,
    configCommit: release.gitops?.commit?.url ?? null,
    grafana,
    jaeger,
  };
}

/** `https://gitlab/group/project/-/merge_requests/1` → `https://gitlab/group/project`. */
function projectWebUrl(url: string | undefined): string | null {
  if (!url) return null;
  const at = url.indexOf('/-/');
  return at > 0 ? url.slice(0, at) : null;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
