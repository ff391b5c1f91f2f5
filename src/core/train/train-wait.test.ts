import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../pipelines/load-definitions.js';
import type { Definition } from '../definition.js';
import type { GitOpsSpec } from '../gitops-spec.js';
import { decideTrain } from './decide-train.js';
import type { TrainDefinition } from './train-definition.js';
import { createTrainRun, type TrainRun } from './train-run.js';
import { trainWait } from './train-wait.js';

let definitions: Definition[];
let bookinfo: TrainDefinition;

beforeAll(async () => {
  const loaded = await loadDefinitions('test/fixtures/trains');
  definitions = loaded.definitions.map((definition) =>
    definition.name === 'reviews' ? { ...definition, approvals: { ...definition.approvals, users: ['release-bob'], groups: ['platform/sre'] } } : definition,
  );
  bookinfo = loaded.trains[0] as TrainDefinition;
});

const T0 = Date.parse('2026-12-06T10:00:00Z');
const image = (service: string) => ({ image: `registry.example.com/bookinfo/${service}:v2` });

function run(change: Partial<TrainRun> = {}, members: (run: TrainRun) => TrainRun['members'] = (r) => r.members): TrainRun {
  const base = createTrainRun(bookinfo, definitions, { reviews: image('reviews'), ratings: image('ratings') }, 'bookinfo-lane-1', T0, null);
  const next = { ...base, ...change };
  return { ...next, members: members(next) };
}

const ready = (names: string[]) => (r: TrainRun) => r.members.map((member) => (names.includes(member.name) ? { ...member, canary: 'ready' as const } : member));
const synced = (r: TrainRun) =>
  r.members.map((member) =>
    member.name === 'ratings'
      ? {
          ...member,
          definition: { ...member.definition, gitops: { sync: { kind: 'argocd' } } as unknown as GitOpsSpec },
          gitops: { repository: 'ops/config', branch: 'main', pins: [], warnings: [], commit: { sha: 'c0ffee1234567890', url: 'https://gitlab.example.com/ops/config/-/commit/c0ffee12' }, mergeRequest: null, revert: null, revertRefused: null, sync: null },
        }
      : member,
  );

describe('trainWait: what a live train waits for, in the shape of a release wait', () => {
  it.each<[string, () => TrainRun, { kind: string; sentence: string; until: number | null; link: string | null } | null]>([
    ['pre-flight: moving on its own', () => run({ state: 'pending', phase: 'preflight', waitingOn: ['reviews'] }), null],
    [
      'every canary to become ready, until the readiness deadline',
      () => run({ state: 'deploying', phase: 'canary', waitingOn: ['ratings'], deadlineAt: T0 + 30_000 }, ready(['reviews'])),
      { kind: 'canaries', sentence: 'Waiting for every canary to become ready before any lane route is written: ratings not ready yet (1 of 2 ready).', until: T0 + 30_000, link: null },
    ],
    [
      'an approval, and by whom (each member bringing an image applies its policy)',
      () => run({ state: 'awaiting-approval', phase: 'approval', stepIndex: 1 }),
      {
        kind: 'approval',
        sentence: "Waiting for `/canary train approve bookinfo-lane` (or promote, abort) from someone every member's approvals policy allows (reviews: maintainer or @release-bob, platform/sre; ratings: maintainer).",
        until: null,
        link: null,
      },
    ],
    [
      'a timed pause',
      () => run({ state: 'progressing', phase: 'pause', stepIndex: 0, wakeAt: T0 + 300_000, train: { ...bookinfo, steps: [{ kind: 'pause', durationMs: 300_000 }] } }),
      { kind: 'pause', sentence: 'Paused (step 1/1 (pause 300s)) until 10:05 UTC.', until: T0 + 300_000, link: null },
    ],
    [
      "the lane's analysis, with its figures and the next check",
      () => run({ state: 'progressing', phase: 'analysis', stepIndex: 0, wakeAt: T0 + 1_000, analysis: { passed: 1, failed: 0, inconclusive: 1, checks: 2 } }),
      {
        kind: 'analysis',
        sentence: "Analysing the lane's traffic on every member's canary (step 1/2 (analysis)): 2 checks so far (1 passed, 0 failed, 1 inconclusive).",
        until: T0 + 1_000,
        link: null,
      },
    ],
    [
      'a blocked rollback',
      () => run({
        state: 'rolling-back',
        phase: 'close-entry',
        waitingOn: ['productpage'],
        retries: 2,
        wakeKey: 'train_bookinfo-lane-1_s1_retry-2',
        wakeAt: T0 + 4_000,
        audit: [{ at: T0, actor: null, action: 'retry', stepIndex: 1, detail: 'productpage: set-traffic 503: the Kubernetes API is unavailable' }],
      }),
      {
        kind: 'rollback-blocked',
        sentence: 'The rollback is blocked: productpage: set-traffic 503: the Kubernetes API is unavailable; retrying with backoff, 2 tries failed so far.',
        until: T0 + 4_000,
        link: null,
      },
    ],
    [
      'a merge request of the GitOps write',
      () => run({
        state: 'promoting',
        phase: 'git',
        waitingOn: ['ops/config@main'],
        deadlineAt: T0 + 600_000,
        gitops: [{ key: 'ops/config@main', repository: 'ops/config', branch: 'main', via: 'merge-request', members: ['reviews', 'ratings'], commit: null, mergeRequest: { iid: 12, url: 'https://gitlab.example.com/ops/config/-/merge_requests/12' }, revert: null, revertRefused: null }],
      }),
      { kind: 'merge-request', sentence: 'Waiting for merge request !12 (ops/config@main: reviews, ratings) to be merged.', until: T0 + 600_000, link: 'https://gitlab.example.com/ops/config/-/merge_requests/12' },
    ],
    [
      "a GitOps controller's sync",
      () => run({ state: 'promoting', phase: 'stable', waitingOn: ['ratings'], deadlineAt: T0 + 60_000 }, synced),
      { kind: 'sync', sentence: 'Waiting for the GitOps controller to apply ratings c0ffee12.', until: T0 + 60_000, link: 'https://gitlab.example.com/ops/config/-/commit/c0ffee12' },
    ],
    [
      "a stable Deployment's rollout",
      () => run({ state: 'promoting', phase: 'stable', waitingOn: ['ratings'], deadlineAt: T0 + 60_000 }),
      { kind: 'rollout', sentence: 'Waiting for the stable Deployment of ratings to roll out its new image.', until: T0 + 60_000, link: null },
    ],
    ['ended', () => run({ state: 'succeeded', phase: 'done' }), null],
  ])('%s', (_, current, expected) => {
    expect(trainWait(current(), null, T0 + 500)).toEqual(expected === null ? null : { ...expected, since: T0 + 500 });
  });

  it('keeps since while the kind stays, and starts it again on a new kind', () => {
    const deploying = run({ state: 'deploying', phase: 'canary', waitingOn: ['reviews', 'ratings'] });
    const previous = { kind: 'canaries', sentence: 'older', since: T0 - 9_000 };

    expect(trainWait(deploying, previous, T0)?.since).toBe(T0 - 9_000);
    expect(trainWait(deploying, { ...previous, kind: 'retry' }, T0)?.since).toBe(T0);
  });

  it('is set by the core after every decision: the approval step waits for a person, the approval clears it', () => {
    const analysing = run({ state: 'progressing', phase: 'checking', stepIndex: 0, analysis: { passed: 1, failed: 0, inconclusive: 0, checks: 1 } });
    const healthy = { check: { verdict: 'pass' as const, at: 0, measurements: [{ name: 'request-success-rate', verdict: 'pass' as const, value: 99.9, threshold: '>= 99' }] }, laneRequests: 40 };

    const awaiting = decideTrain(analysing, { type: 'lane-check', stepIndex: 0, check: 1, members: [{ member: 'reviews', ...healthy }, { member: 'ratings', ...healthy }] }, T0 + 2_000).next;

    expect(awaiting.state).toBe('awaiting-approval');
    expect(awaiting.wait).toMatchObject({ kind: 'approval', since: T0 + 2_000 });
    const approved = decideTrain(awaiting, { type: 'command', verb: 'approve', actor: { username: 'rm', channel: 'gitlab' } }, T0 + 3_000).next;
    expect(approved.state).toBe('promoting');
    expect(approved.wait?.kind).not.toBe('approval');
  });
});
