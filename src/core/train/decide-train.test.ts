import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../pipelines/load-definitions.js';
import type { Definition } from '../definition.js';
import type { CheckResult } from '../gate.js';
import type { Actor } from '../release.js';
import type { GitOpsReport } from '../input.js';
import { decideTrain } from './decide-train.js';
import type { TrainDefinition } from './train-definition.js';
import type { GitOpsSpec } from '../gitops-spec.js';
import { createTrainRun, type TrainEffect, type TrainGitOpsAction, type TrainInput, type TrainMemberStart, type TrainRun } from './train-run.js';

let definitions: Definition[];
let bookinfo: TrainDefinition;

beforeAll(async () => {
  const loaded = await loadDefinitions('test/fixtures/trains');
  definitions = loaded.definitions;
  bookinfo = loaded.trains[0] as TrainDefinition;
});

const RM: Actor = { username: 'rm', channel: 'gitlab' };
const IMAGES: Record<string, TrainMemberStart> = {
  productpage: { image: 'registry.example.com/bookinfo/productpage:v2' },
  reviews: { image: 'registry.example.com/bookinfo/reviews:v2' },
  ratings: { image: 'registry.example.com/bookinfo/ratings:v2' },
};

const pass = (requests: number): { check: CheckResult; laneRequests: number } => ({
  check: { verdict: 'pass', at: 0, measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 99.9, threshold: '>= 99' }] },
  laneRequests: requests,
});
const noData = { check: { verdict: 'inconclusive', at: 0, measurements: [{ name: 'request-success-rate', verdict: 'inconclusive', value: null, threshold: '>= 99' }] } as CheckResult, laneRequests: 0 };
const failing = {
  check: { verdict: 'fail', at: 0, measurements: [{ name: 'request-success-rate', verdict: 'fail', value: 71.2, threshold: '>= 99' }] } as CheckResult,
  laneRequests: 40,
};

type World = {
  /** What a member's effect answers (default ok). */
  answer?: (member: string, effect: Extract<TrainEffect, { type: 'member' }>['effect'], run: TrainRun) => 'ok' | 'progressing' | 'transient' | 'terminal';
  /** The members' lane checks (default: everyone healthy with lane traffic). */
  lane?: (members: string[]) => Extract<TrainInput, { type: 'lane-check' }>['members'];
  /** Said when the train waits for a person. */
  person?: (run: TrainRun) => TrainInput | null;
  /** Stop (the bot dies) right after the decision that makes this true, before its effects run. */
  until?: (run: TrainRun) => boolean;
  /** The members' definitions (default: the fixtures). */
  definitions?: Definition[];
  /** Pre-flight reads the stable image (`<image>:v1`) and, for spec.gitops, the pins (before v1, after v2). */
  preflight?: boolean;
  /** What a train's GitOps write answers (default ok: a commit `c-<key>`, a revert `r-<key>`). */
  gitops?: (action: TrainGitOpsAction, write: string, run: TrainRun) => Extract<TrainInput, { type: 'gitops-result' }>['result'];
};

/**
 * Runs a train against a scripted world until it ends or nothing is left to do; returns what was
 * asked for, in order, as short lines (`reviews set-traffic lane`, `evaluate-lane`, …).
 */
function drive(
  train: TrainDefinition,
  starts: Record<string, TrainMemberStart>,
  world: World = {},
  limit = 500,
  from?: { run: TrainRun; input: TrainInput },
): { run: TrainRun; log: string[] } {
  let now = 1_000_000;
  let run = from?.run ?? createTrainRun(train, world.definitions ?? definitions, starts, 'train-1', now, RM);
  const log: string[] = [];
  const queue: TrainInput[] = [from?.input ?? { type: 'start' }];
  const ticks: Array<{ at: number; key: string }> = [];
  for (let i = 0; i < limit; i++) {
    let input = queue.shift();
    if (!input) {
      const approve: TrainInput = { type: 'command', verb: 'approve', actor: RM };
      const person = run.state !== 'awaiting-approval' ? null : world.person ? world.person(run) : approve;
      if (person) input = person;
      else {
        ticks.sort((a, b) => a.at - b.at);
        const tick = ticks.shift();
        if (!tick) break;
        now = Math.max(now, tick.at);
        input = { type: 'tick', key: tick.key };
      }
    }
    const decision = decideTrain(run, input, now);
    run = decision.next;
    if (world.until?.(run)) break;
    for (const effect of decision.effects) {
      if (effect.type === 'schedule-tick') ticks.push({ at: effect.at, key: effect.key });
      if (effect.type === 'report') log.push(`report ${effect.event}`);
      if (effect.type === 'evaluate-lane') {
        log.push(`evaluate-lane ${effect.members.join(',')}`);
        const members = world.lane?.(effect.members) ?? effect.members.map((member) => ({ member, ...pass(30) }));
        queue.push({ type: 'lane-check', stepIndex: effect.stepIndex, check: effect.check, members });
      }
      if (effect.type === 'gitops') {
        log.push(`gitops ${effect.action} ${effect.write}`);
        const sha = { sha: `${effect.action === 'revert' ? 'r' : 'c'}-${effect.write}`, url: `https://gitlab.example.com/commit/${effect.write}` };
        const result = world.gitops?.(effect.action, effect.write, run) ?? (effect.action === 'check' ? { outcome: 'ok' as const } : { outcome: 'ok' as const, gitops: { commit: sha } });
        queue.push({ type: 'gitops-result', action: effect.action, write: effect.write, result });
      }
      if (effect.type === 'member') {
        log.push(`${effect.member} ${effectLine(effect.effect)}`);
        const outcome = world.answer?.(effect.member, effect.effect, run) ?? 'ok';
        const member = run.members.find((candidate) => candidate.name === effect.member)!;
        const spec = member.definition.gitops;
        const preflight =
          effect.effect.type === 'preflight' && world.preflight
            ? {
                stableImage: (member.image ?? '').replace(':v2', ':v1'),
                ...(spec ? { gitops: { branch: spec.branch ?? 'main', pins: spec.files.map((file) => ({ path: file.path, where: 'image.tag', before: 'v1', after: 'v2' })), warnings: [] } } : {}),
              }
            : {};
        const base = { type: 'effect-result' as const, effect: effect.effect.type, ...preflight };
        const result =
          outcome === 'ok' || outcome === 'progressing'
            ? { ...base, outcome }
            : { ...base, outcome, code: outcome === 'transient' ? 'K8S_UNAVAILABLE' : 'K8S_FORBIDDEN', message: `answered ${outcome}` };
        queue.push({ type: 'member-result', member: effect.member, result });
      }
    }
    if (run.state === 'succeeded' || run.state === 'rolled-back' || run.state === 'aborted' || run.state === 'failed') break;
  }
  return { run, log };
}

function effectLine(effect: Extract<TrainEffect, { type: 'member' }>['effect']): string {
  switch (effect.type) {
    case 'set-traffic': {
      const t = effect.traffic;
      const parts = [`${t.weights.stable}/${t.weights.canary}`];
      if (t.lane) parts.push(`lane(${t.lane.match.length} blocks${t.lane.setHeader ? `, sets ${t.lane.setHeader.name}` : ''}${t.lane.to === 'stable' ? ', to stable' : ''})`);
      if (t.tagCanary) parts.push(`tags canary ${t.tagCanary.name}`);
      return `set-traffic ${parts.join(' ')}`;
    }
    case 'ensure-canary':
    case 'ensure-stable':
      return `${effect.type} ${effect.image.split('/').pop()}`;
    case 'scale-canary':
      return `scale-canary ${effect.replicas}`;
    case 'preflight':
      return 'preflight';
    case 'gitops-sync':
      return `gitops-sync ${effect.revision.slice(0, 8)} ${effect.image.split('/').pop()}`;
  }
}
const memberLines = (log: string[]): string[] => log.filter((line) => !line.startsWith('report') && !line.startsWith('evaluate-lane'));

describe('decideTrain: a whole run', () => {
  it('deploys every canary, adds the lane routes, opens the entry last; promotes leaf first, closes the entry, removes the lane routes last', () => {
    const { run, log } = drive(bookinfo, IMAGES);

    expect(run.state).toBe('succeeded');
    expect(memberLines(log)).toEqual([
      'productpage preflight',
      'reviews preflight',
      'ratings preflight',
      'productpage ensure-canary productpage:v2',
      'reviews ensure-canary reviews:v2',
      'ratings ensure-canary ratings:v2',
      'reviews set-traffic 100/0 lane(2 blocks)',
      'ratings set-traffic 100/0 lane(2 blocks)',
      'productpage set-traffic 100/0 lane(3 blocks, sets x-canary-lane)',
      'ratings ensure-stable ratings:v2',
      'reviews ensure-stable reviews:v2',
      'productpage ensure-stable productpage:v2',
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
    expect(log.filter((line) => line.startsWith('evaluate-lane'))).toEqual(['evaluate-lane productpage,reviews,ratings', 'evaluate-lane productpage,reviews,ratings']);
    expect(run.audit.map((entry) => entry.action)).toEqual([
      'created', 'deploying', 'canaries-ready', 'lane-routes', 'entry-open', 'step-started', 'check', 'check', 'step-started', 'approved',
      'promoting', 'member-promoted', 'member-promoted', 'member-promoted', 'entry-closed', 'lane-routes-removed', 'succeeded',
    ]);
  });

  it('writes no lane route until the last canary is ready', () => {
    let polls = 0;
    const { log } = drive(bookinfo, IMAGES, {
      answer: (member, effect) => (member === 'ratings' && effect.type === 'ensure-canary' && polls++ < 3 ? 'progressing' : 'ok'),
    });

    const lines = memberLines(log);
    const lastDeploy = lines.lastIndexOf('ratings ensure-canary ratings:v2');
    const firstLane = lines.findIndex((line) => line.includes('lane('));
    expect(lines.filter((line) => line === 'ratings ensure-canary ratings:v2')).toHaveLength(4);
    expect(firstLane).toBeGreaterThan(lastDeploy);
  });

  it('promotes every member at once with promote: together, still closing the entry before removing the lane routes', () => {
    const { run, log } = drive({ ...bookinfo, promote: 'together' }, IMAGES);

    expect(run.state).toBe('succeeded');
    const lines = memberLines(log);
    const from = lines.indexOf('productpage ensure-stable productpage:v2');
    expect(lines.slice(from, from + 6)).toEqual([
      'productpage ensure-stable productpage:v2',
      'reviews ensure-stable reviews:v2',
      'ratings ensure-stable ratings:v2',
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
    ]);
  });

  it('lets a member without a new image ride on stable: no canary, no lane route, not promoted', () => {
    const { run, log } = drive(bookinfo, { productpage: IMAGES.productpage!, ratings: IMAGES.ratings! });

    expect(run.state).toBe('succeeded');
    expect(memberLines(log).filter((line) => line.startsWith('reviews'))).toEqual([]);
    expect(log.filter((line) => line.startsWith('evaluate-lane'))[0]).toBe('evaluate-lane productpage,ratings');
  });

  it('tags the cohort on stable when the entry itself rides along', () => {
    const { log } = drive(bookinfo, { reviews: IMAGES.reviews! });

    expect(memberLines(log)).toContain('productpage set-traffic 100/0 lane(3 blocks, sets x-canary-lane, to stable)');
    expect(memberLines(log).filter((line) => line.startsWith('productpage')).some((line) => line.includes('canary ') && !line.includes('set-traffic'))).toBe(false);
  });

  it('enters by weight: the entry canary share is tagged, setWeight moves it', () => {
    const train: TrainDefinition = { ...bookinfo, entry: { member: 'productpage', kind: 'weight', weight: 5 }, steps: [{ kind: 'analysis', count: 1 }, { kind: 'setWeight', weight: 20 }, { kind: 'analysis', count: 1 }] };

    const { run, log } = drive(train, IMAGES);

    expect(run.state).toBe('succeeded');
    expect(memberLines(log).filter((line) => line.startsWith('productpage set-traffic'))).toEqual([
      'productpage set-traffic 95/5 lane(2 blocks, sets x-canary-lane) tags canary x-canary-lane',
      'productpage set-traffic 80/20 lane(2 blocks, sets x-canary-lane) tags canary x-canary-lane',
      'productpage set-traffic 100/0',
    ]);
  });
});

describe('decideTrain: failure rolls the whole train back', () => {
  const rollbackTail = [
    'productpage set-traffic 100/0',
    'reviews set-traffic 100/0',
    'ratings set-traffic 100/0',
    'productpage scale-canary 0',
    'reviews scale-canary 0',
    'ratings scale-canary 0',
  ];

  it('a failing member: entry closed first, then the lane routes, then every canary scaled down', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      lane: (members) => members.map((member) => (member === 'reviews' ? { member, ...failing } : { member, ...pass(30) })),
    });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe('reviews: request-success-rate 71.2 (wanted >= 99)');
    const lines = memberLines(log);
    expect(lines.slice(lines.indexOf('productpage set-traffic 100/0 lane(3 blocks, sets x-canary-lane)') + 1)).toEqual(rollbackTail);
  });

  it('a member that drops the tag is inconclusive with that sentence, never healthy, and rolls the train back past the limit', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      lane: (members) => members.map((member) => (member === 'ratings' ? { member, ...pass(0), laneRequests: 0 } : { member, ...pass(30) })),
    });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe(
      "ratings is not propagating the tag: its canary got no lane requests while productpage's got 30 (each service must pass x-canary-lane on, or W3C baggage) (4 inconclusive checks, limit 3)",
    );
    expect(run.members.find((member) => member.name === 'ratings')?.lastCheck).toMatchObject({ verdict: 'inconclusive', laneRequests: 0 });
    expect(log.filter((line) => line === 'evaluate-lane productpage,reviews,ratings')).toHaveLength(4);
    expect(memberLines(log).slice(-6)).toEqual(rollbackTail);
  });

  it('no lane traffic anywhere is inconclusive (no data), not a propagation problem', () => {
    const { run } = drive(bookinfo, IMAGES, { lane: (members) => members.map((member) => ({ member, ...noData })) });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe('productpage: request-success-rate no data (wanted >= 99); reviews: request-success-rate no data (wanted >= 99); ratings: request-success-rate no data (wanted >= 99) (4 inconclusive checks, limit 3)');
  });

  it('a member refused at pre-flight ends the train failed with nothing written, as a single release; an abort while pending ends it aborted', () => {
    const refused = drive(bookinfo, IMAGES, { answer: (member, effect) => (member === 'reviews' && effect.type === 'preflight' ? 'terminal' : 'ok') });
    const aborted = decideTrain(createTrainRun(bookinfo, definitions, IMAGES, 'train-2', 1_000, RM), { type: 'command', verb: 'abort', actor: RM }, 2_000).next;

    expect(refused.run.state).toBe('failed');
    expect(refused.log.filter((line) => !line.endsWith(' preflight') && !line.startsWith('report'))).toEqual([]);
    expect(aborted.state).toBe('aborted');
  });

  it('a canary that fails to deploy rolls back before any lane route is written', () => {
    const { run, log } = drive(bookinfo, IMAGES, { answer: (member, effect) => (member === 'reviews' && effect.type === 'ensure-canary' ? 'terminal' : 'ok') });

    expect(run.state).toBe('rolled-back');
    expect(memberLines(log).filter((line) => line.includes('lane('))).toEqual([]);
    expect(memberLines(log).slice(-6)).toEqual(rollbackTail);
  });

  it('an alert during ordered promotion: traffic first, then the stable images already promoted are restored, then the scale-down', () => {
    const promoting = drive(bookinfo, IMAGES, { answer: (member, effect) => (member === 'reviews' && effect.type === 'ensure-stable' ? 'progressing' : 'ok') }, 40).run;
    expect(promoting.state).toBe('promoting');
    const known = { ...promoting, members: promoting.members.map((member) => ({ ...member, stableImageBefore: `registry.example.com/bookinfo/${member.name}:v1` })) };

    const { run, log } = drive(bookinfo, IMAGES, {}, 100, { run: known, input: { type: 'alert', member: 'ratings', name: 'RatingsErrors' } });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe('alert RatingsErrors is firing for ratings');
    expect(memberLines(log)).toEqual([
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      'reviews ensure-stable reviews:v1',
      'ratings ensure-stable ratings:v1',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
  });

  it('an abort is answered and rolls back with the actor in the audit', () => {
    const start = drive(bookinfo, IMAGES, { person: () => null }, 60).run;
    expect(start.state).toBe('awaiting-approval');

    const aborted = decideTrain(start, { type: 'command', verb: 'abort', actor: RM, reason: 'wrong build' }, 3_000_000);

    expect(aborted.reply).toEqual({ ok: true, message: 'train bookinfo-lane rolling back, aborted by @rm' });
    expect(aborted.next.rollbackOutcome).toBe('aborted');
    expect(aborted.next.audit.at(-1)).toMatchObject({ action: 'rolling-back', actor: RM, detail: 'aborted by @rm: wrong build' });
  });

  it('a refused command is audited with the actor and its sentence, and changes nothing else', () => {
    const start = drive(bookinfo, IMAGES, { person: () => null }, 60).run;

    const refused = decideTrain(start, { type: 'command', verb: 'approve', actor: RM, refusal: 'Refused for reviews: approvals.minAccessLevel needs Maintainer' }, 3_000_000);

    expect(refused.reply).toEqual({ ok: false, message: 'Refused for reviews: approvals.minAccessLevel needs Maintainer' });
    expect(refused.effects).toEqual([]);
    expect({ ...refused.next, audit: start.audit, updatedAt: start.updatedAt }).toEqual(start);
    expect(refused.next.audit.at(-1)).toMatchObject({ action: 'refused', actor: RM, detail: 'approve: Refused for reviews: approvals.minAccessLevel needs Maintainer' });
  });

  it('keeps retrying the entry close until it lands: a rollback never stops while traffic may be on a canary', () => {
    let failures = 0;
    const { run, log } = drive(bookinfo, IMAGES, {
      lane: (members) => members.map((member) => (member === 'reviews' ? { member, ...failing } : { member, ...pass(30) })),
      answer: (member, effect, current) => (current.state === 'rolling-back' && current.phase === 'close-entry' && failures++ < 5 ? 'terminal' : 'ok'),
    });

    expect(run.state).toBe('rolled-back');
    expect(log.filter((line) => line === 'productpage set-traffic 100/0')).toHaveLength(6);
    expect(run.audit.filter((entry) => entry.action === 'retry')).toHaveLength(5);
  });

  it('ignores stale ticks and results for another phase', () => {
    const start = drive(bookinfo, IMAGES, { person: () => null }, 60).run;

    expect(decideTrain(start, { type: 'tick', key: 'stale' }, 5).next).toBe(start);
    expect(decideTrain(start, { type: 'member-result', member: 'reviews', result: { type: 'effect-result', effect: 'set-traffic', outcome: 'ok' } }, 5).next).toBe(start);
  });
});

describe('decideTrain: recover (the bot restarted; only the record survived)', () => {
  const crashWhen = (until: (run: TrainRun) => boolean, answer?: World['answer']) => drive(bookinfo, IMAGES, { until, ...(answer ? { answer } : {}) }).run;

  it('asks again for the outstanding effects of the phase, for the members still outstanding only, and the run goes on to succeed', () => {
    const crashed = crashWhen((run) => run.phase === 'lane' && run.waitingOn.length === 2);

    const first = decideTrain(crashed, { type: 'recover' }, 2_000_000);
    const { run, log } = drive(bookinfo, IMAGES, {}, 500, { run: crashed, input: { type: 'recover' } });

    expect(first.effects.filter((effect) => effect.type === 'member').map((effect) => effect.type === 'member' && `${effect.member} ${effect.effect.type}`)).toEqual([
      'reviews set-traffic',
      'ratings set-traffic',
    ]);
    expect(first.next.audit.at(-1)).toMatchObject({ action: 'resumed', detail: 'opening/lane for reviews, ratings' });
    expect(run.state).toBe('succeeded');
    expect(memberLines(log)[2]).toBe('productpage set-traffic 100/0 lane(3 blocks, sets x-canary-lane)');
  });

  it('does not hold the time the bot was away against a readiness deadline: what was left of it is left again', () => {
    const crashed = crashWhen((run) => run.phase === 'canary');
    const left = (crashed.deadlineAt ?? 0) - crashed.updatedAt;

    const resumed = decideTrain(crashed, { type: 'recover' }, crashed.updatedAt + 10 * 60_000).next;

    expect(left).toBeGreaterThan(0);
    expect(resumed.deadlineAt).toBe(crashed.updatedAt + 10 * 60_000 + left);
  });

  it('schedules the same wait again: same time, same key, so the tick already queued and the new one are one', () => {
    const crashed = crashWhen((run) => run.phase === 'analysis');

    const decision = decideTrain(crashed, { type: 'recover' }, 2_000_000);

    expect(decision.next).toBe(crashed);
    expect(decision.effects).toEqual([{ type: 'schedule-tick', at: crashed.wakeAt, key: crashed.wakeKey }]);
    expect(decideTrain(crashed, { type: 'tick', key: crashed.wakeKey ?? '' }, crashed.wakeAt ?? 0).next.phase).toBe('checking');
  });

  it('a rollback that was under way continues in order: entry, lane routes, canaries', () => {
    const crashed = drive(bookinfo, IMAGES, {
      lane: (members) => members.map((member) => (member === 'reviews' ? { member, ...failing } : { member, ...pass(30) })),
      until: (run) => run.state === 'rolling-back' && run.phase === 'close-entry',
    }).run;

    const { run, log } = drive(bookinfo, IMAGES, {}, 500, { run: crashed, input: { type: 'recover' } });

    expect(run.state).toBe('rolled-back');
    expect(memberLines(log)).toEqual([
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
  });

  it.each([
    ['a run waiting for a person', (run: TrainRun) => run.state === 'awaiting-approval'],
    ['an ended run', (run: TrainRun) => run.state === 'succeeded'],
  ])('asks for nothing for %s', (_, until) => {
    const crashed = crashWhen(until);

    expect(decideTrain(crashed, { type: 'recover' }, 2_000_000)).toEqual({ next: crashed, effects: [] });
  });

  it('a run created but not started starts', () => {
    const created = createTrainRun(bookinfo, definitions, IMAGES, 'train-2', 1_000, RM);

    expect(decideTrain(created, { type: 'recover' }, 2_000).next.phase).toBe('preflight');
  });
});

describe('decideTrain: spec.gitops members (one write per config repository for the whole train)', () => {
  const spec = (repository: string, path: string, sync: boolean): GitOpsSpec => ({
    repository,
    branch: 'main',
    files: [{ path, pin: { kind: 'helmValues', path: ['image', 'tag'] } }],
    via: 'commit',
    onDrift: 'refuse',
    mergeTimeoutMs: 600_000,
    ...(sync ? { sync: { controller: 'argocd' as const, application: path.split('/')[1]!, namespace: 'argocd', timeoutMs: 120_000 } } : {}),
  });
  /** productpage and reviews share platform/config; ratings has its own repository. */
  const gitopsDefinitions = (sync: boolean, only?: string[]): Definition[] =>
    definitions.map((definition) => {
      if (only && !only.includes(definition.name)) return definition;
      const repository = definition.name === 'ratings' ? 'platform/ratings-config' : 'platform/config';
      return { ...definition, gitops: spec(repository, `apps/${definition.name}/values.yaml`, sync) };
    });
  const SHARED = 'platform/config@main';
  const RATINGS = 'platform/ratings-config@main';
  const ends = (log: string[], from: string): string[] => memberLines(log).slice(memberLines(log).indexOf(from));

  it('git first for the whole train (check every write, then one commit per repository), then each controller applies it leaf first, then traffic', () => {
    const { run, log } = drive(bookinfo, IMAGES, { definitions: gitopsDefinitions(true), preflight: true });

    expect(run.state, run.reason ?? '').toBe('succeeded');
    expect(ends(log, `gitops check ${SHARED}`)).toEqual([
      `gitops check ${SHARED}`,
      `gitops check ${RATINGS}`,
      `gitops commit ${SHARED}`,
      `gitops commit ${RATINGS}`,
      `ratings gitops-sync c-platfo ratings:v2`,
      `reviews gitops-sync c-platfo reviews:v2`,
      `productpage gitops-sync c-platfo productpage:v2`,
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
    expect(log.filter((line) => line.includes('ensure-stable'))).toEqual([]);
    expect(run.gitops?.map((write) => [write.key, write.members, write.commit?.sha])).toEqual([
      [SHARED, ['productpage', 'reviews'], `c-${SHARED}`],
      [RATINGS, ['ratings'], `c-${RATINGS}`],
    ]);
    expect(run.members.map((member) => member.gitops?.commit?.sha)).toEqual([`c-${SHARED}`, `c-${SHARED}`, `c-${RATINGS}`]);
    expect(run.audit.filter((entry) => entry.action === 'gitops-committed').map((entry) => entry.detail)).toEqual([
      `${SHARED} c-platfo productpage apps/productpage/values.yaml: v1 → v2; reviews apps/reviews/values.yaml: v1 → v2`,
      `${RATINGS} c-platfo ratings apps/ratings/values.yaml: v1 → v2`,
    ]);
  });

  it('without a controller the stable images follow the commit through canarybot, still in promotion order; a member without spec.gitops as before', () => {
    const { run, log } = drive({ ...bookinfo, promote: 'together' }, IMAGES, { definitions: gitopsDefinitions(false, ['productpage', 'reviews']), preflight: true });

    expect(run.state).toBe('succeeded');
    expect(ends(log, `gitops check ${SHARED}`).slice(0, 5)).toEqual([
      `gitops check ${SHARED}`,
      `gitops commit ${SHARED}`,
      'productpage ensure-stable productpage:v2',
      'reviews ensure-stable reviews:v2',
      'ratings ensure-stable ratings:v2',
    ]);
  });

  it('a pin someone else changed refuses the whole train at the check: nothing is written, nothing is put on stable', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      gitops: (action, write) =>
        action === 'check' && write === RATINGS ? { outcome: 'terminal', code: 'GITOPS_REFUSED', message: 'apps/ratings/values.yaml image.tag is now hotfix (nothing was promoted)' } : { outcome: 'ok' },
    });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe('the Git write of the promotion was refused, nothing was written: apps/ratings/values.yaml image.tag is now hotfix (nothing was promoted)');
    expect(log.filter((line) => line.startsWith('gitops commit') || line.startsWith('gitops revert') || line.includes('gitops-sync') || line.includes('ensure-stable'))).toEqual([]);
    expect(ends(log, `gitops check ${SHARED}`)).toEqual([
      `gitops check ${SHARED}`,
      `gitops check ${RATINGS}`,
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
  });

  it('a rollback after the commits landed: entry, lane routes, then one revert per repository, then the controllers apply the reverts, then the canaries', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      answer: (member, effect, current) => (current.state === 'promoting' && member === 'reviews' && effect.type === 'gitops-sync' ? 'terminal' : 'ok'),
    });

    expect(run.state).toBe('rolled-back');
    expect(ends(log, 'reviews gitops-sync c-platfo reviews:v2')).toEqual([
      'reviews gitops-sync c-platfo reviews:v2',
      'productpage set-traffic 100/0',
      'reviews set-traffic 100/0',
      'ratings set-traffic 100/0',
      `gitops revert ${SHARED}`,
      `gitops revert ${RATINGS}`,
      'productpage gitops-sync r-platfo productpage:v1',
      'reviews gitops-sync r-platfo reviews:v1',
      'ratings gitops-sync r-platfo ratings:v1',
      'productpage scale-canary 0',
      'reviews scale-canary 0',
      'ratings scale-canary 0',
    ]);
    expect(run.gitops?.map((write) => write.revert?.sha)).toEqual([`r-${SHARED}`, `r-${RATINGS}`]);
  });

  it('a rollback before any commit landed asks each asked-for write\'s revert to read Git (nothing of canarybot\'s there): nothing written, no image put on stable', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      gitops: (action) => (action === 'commit' ? { outcome: 'terminal', code: 'GITOPS_REFUSED', message: 'the pipeline of merge request !3 of platform/config failed' } : action === 'revert' ? { outcome: 'ok', gitops: { nothingToRevert: true } } : { outcome: 'ok' }),
    });

    expect(run.state).toBe('rolled-back');
    expect(run.reason).toBe('the Git write of the promotion was refused: the pipeline of merge request !3 of platform/config failed');
    expect(log.filter((line) => line.startsWith('gitops revert'))).toEqual([`gitops revert ${SHARED}`, `gitops revert ${RATINGS}`]);
    expect(log.filter((line) => line.includes('gitops-sync') || line.includes('ensure-stable'))).toEqual([]);
    expect(run.gitops?.every((write) => write.revert === null && write.revertRefused === null)).toBe(true);
  });

  it('a revert refused (a human changed a pin after the commit) leaves Git and that write\'s stable images as they are, reverts the other write, and the train fails saying so', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      answer: (member, effect, current) => (current.state === 'promoting' && member === 'reviews' && effect.type === 'gitops-sync' ? 'terminal' : 'ok'),
      gitops: (action, write) =>
        action === 'revert' && write === SHARED
          ? { outcome: 'ok', gitops: { refused: 'apps/reviews/values.yaml image.tag is now hotfix1, not canarybot\'s v2: changed after canarybot\'s commit, left as it is' } }
          : action === 'check' ? { outcome: 'ok' } : { outcome: 'ok', gitops: { commit: { sha: `${action === 'revert' ? 'r' : 'c'}-${write}`, url: '' } } },
    });

    expect(run.state).toBe('failed');
    expect(run.reason).toContain(`Git was NOT rolled back in ${SHARED}: apps/reviews/values.yaml image.tag is now hotfix1, not canarybot's v2`);
    expect(memberLines(log).filter((line) => line.includes(':v1'))).toEqual(['ratings gitops-sync r-platfo ratings:v1']);
    expect(memberLines(log).slice(-3)).toEqual(['productpage scale-canary 0', 'reviews scale-canary 0', 'ratings scale-canary 0']);
  });

  it('a controller that fails to apply the revert: the rollback still scales the canaries down, and the train fails saying so', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      answer: (member, effect) => (member === 'reviews' && effect.type === 'gitops-sync' ? 'terminal' : 'ok'),
    });

    expect(run.state).toBe('failed');
    expect(run.reason).toContain('reviews: the revert is in Git but the GitOps controller failed: answered terminal');
    expect(memberLines(log).slice(-3)).toEqual(['productpage scale-canary 0', 'reviews scale-canary 0', 'ratings scale-canary 0']);
  });

  it('a controller that does not apply the revert within its sync timeout: the same, once the timeout has passed', () => {
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true),
      preflight: true,
      answer: (member, effect, current) => (member === 'reviews' && effect.type === 'gitops-sync' ? (current.state === 'promoting' ? 'terminal' : 'progressing') : 'ok'),
    });

    expect(run.state).toBe('failed');
    expect(run.reason).toContain('reviews: the revert is in Git but the GitOps controller did not apply the revert within 2m');
    expect(log.filter((line) => line === 'reviews gitops-sync r-platfo reviews:v1').length).toBeGreaterThan(30);
    expect(memberLines(log).slice(-3)).toEqual(['productpage scale-canary 0', 'reviews scale-canary 0', 'ratings scale-canary 0']);
  });

  it('waits for the train\'s merge request, polling, then goes on', () => {
    let polls = 0;
    const { run, log } = drive(bookinfo, IMAGES, {
      definitions: gitopsDefinitions(true, ['productpage', 'reviews']),
      preflight: true,
      gitops: (action) =>
        action === 'commit' && polls++ < 3
          ? { outcome: 'progressing', message: 'merge request !7 is open', gitops: { mergeRequest: { iid: 7, url: 'https://gitlab.example.com/platform/config/-/merge_requests/7' } } }
          : action === 'check' ? { outcome: 'ok' } : { outcome: 'ok', gitops: { commit: { sha: 'merge-commit', url: '' } } },
    });

    expect(run.state).toBe('succeeded');
    expect(log.filter((line) => line === `gitops commit ${SHARED}`)).toHaveLength(4);
    expect(run.gitops?.[0]).toMatchObject({ mergeRequest: { iid: 7 }, commit: { sha: 'merge-commit' } });
    expect(run.members[1]?.gitops?.mergeRequest?.iid).toBe(7);
  });

  it('aborted while the train\'s merge request waits: the MR is closed (not left to merge later), nothing is reverted or restored', () => {
    const mr = { iid: 7, url: 'https://gitlab.example.com/platform/config/-/merge_requests/7' };
    const world: World = {
      definitions: gitopsDefinitions(true, ['productpage', 'reviews']),
      preflight: true,
      gitops: (action) =>
        action === 'check' ? { outcome: 'ok' } : action === 'commit' ? { outcome: 'progressing', message: 'merge request !7 is open', gitops: { mergeRequest: mr } } : { outcome: 'ok', gitops: { closedMergeRequest: mr } },
    };
    const waiting = drive(bookinfo, IMAGES, { ...world, until: (run) => run.gitops?.[0]?.mergeRequest !== null && run.gitops?.[0]?.mergeRequest !== undefined }).run;

    const { run, log } = drive(bookinfo, IMAGES, world, 500, { run: waiting, input: { type: 'command', verb: 'abort', actor: RM } });

    expect(run.state).toBe('aborted');
    expect(log.filter((line) => line.startsWith('gitops'))).toEqual([`gitops revert ${SHARED}`]);
    expect(log.filter((line) => line.includes('gitops-sync') || line.includes('ensure-stable'))).toEqual([]);
    expect(run.gitops?.[0]).toMatchObject({ mergeRequestClosed: true, revert: null, commit: null });
    expect(run.audit.map((entry) => entry.action)).toContain('gitops-merge-request-closed');
  });

  it.each<[string, GitOpsReport, string, Record<string, unknown>]>([
    ['found open: recorded and closed', { mergeRequest: { iid: 7, url: 'https://gitlab.example.com/platform/config/-/merge_requests/7' }, closedMergeRequest: { iid: 7, url: 'https://gitlab.example.com/platform/config/-/merge_requests/7' } }, 'gitops-merge-request-closed', { mergeRequest: { iid: 7 }, mergeRequestClosed: true, revert: null, commit: null }],
    ['none open or merged: nothing to close or revert', { nothingToRevert: true }, 'gitops-nothing-to-revert', { mergeRequest: null, revert: null, commit: null, revertRefused: null }],
  ])('aborted while the train\'s merge request write has no answer recorded (GitLab may have opened it): the rollback asks for it to be closed — %s', (_name, reverted, audited, writeState) => {
    const world: World = {
      definitions: gitopsDefinitions(true, ['productpage', 'reviews']).map((definition) => (definition.gitops ? { ...definition, gitops: { ...definition.gitops, via: 'merge-request' as const } } : definition)),
      preflight: true,
      gitops: (action) => (action === 'check' ? { outcome: 'ok' } : action === 'commit' ? { outcome: 'transient', code: 'GITLAB_UNAVAILABLE', message: 'GitLab answered 502' } : { outcome: 'ok', gitops: reverted }),
    };
    const writing = drive(bookinfo, IMAGES, { ...world, until: (run) => run.phase === 'git' && run.gitops?.[0]?.mergeRequestAsked === true }).run;

    const { run, log } = drive(bookinfo, IMAGES, world, 500, { run: writing, input: { type: 'command', verb: 'abort', actor: RM } });

    expect(run.state).toBe('aborted');
    expect(log.filter((line) => line.startsWith('gitops'))).toEqual([`gitops revert ${SHARED}`]);
    expect(log.filter((line) => line.includes('gitops-sync') || line.includes('ensure-stable'))).toEqual([]);
    expect(run.gitops?.[0]).toMatchObject(writeState);
    expect(run.audit.map((entry) => entry.action)).toContain(audited);
  });

  it.each<[string, GitOpsReport, string, Record<string, unknown>]>([
    ['it landed: one revert commit', { commit: { sha: 'r-shared', url: '' } }, 'gitops-reverted', { commit: null, revert: { sha: 'r-shared' }, revertRefused: null }],
    ['it never landed: nothing to revert, nothing written', { nothingToRevert: true }, 'gitops-nothing-to-revert', { commit: null, revert: null, revertRefused: null }],
  ])('via: commit, aborted before the write\'s commit answer is recorded (GitLab may have stored it): the rollback asks for its revert — %s', (_name, reverted, audited, writeState) => {
    const world: World = {
      definitions: gitopsDefinitions(true, ['productpage', 'reviews']),
      preflight: true,
      gitops: (action) => (action === 'check' ? { outcome: 'ok' } : action === 'commit' ? { outcome: 'transient', code: 'GITLAB_UNAVAILABLE', message: 'GitLab answered 502' } : { outcome: 'ok', gitops: reverted }),
    };
    const writing = drive(bookinfo, IMAGES, { ...world, until: (run) => run.phase === 'git' && run.gitops?.[0]?.commitAsked === true }).run;

    const { run, log } = drive(bookinfo, IMAGES, world, 500, { run: writing, input: { type: 'command', verb: 'abort', actor: RM } });

    expect(run.state).toBe('aborted');
    expect(log.filter((line) => line.startsWith('gitops'))).toEqual([`gitops revert ${SHARED}`]);
    expect(run.gitops?.[0]).toMatchObject(writeState);
    expect(run.audit.map((entry) => entry.action)).toContain(audited);
  });

  it('after a restart in the git phase, asks again for the writes still outstanding (each idempotent) and goes on', () => {
    const world: World = { definitions: gitopsDefinitions(true), preflight: true };
    const crashed = drive(bookinfo, IMAGES, { ...world, until: (run) => run.phase === 'git' }).run;

    const first = decideTrain(crashed, { type: 'recover' }, 5_000_000);
    const { run } = drive(bookinfo, IMAGES, world, 500, { run: crashed, input: { type: 'recover' } });

    expect(first.effects.filter((effect) => effect.type === 'gitops')).toEqual([
      { type: 'gitops', action: 'commit', write: SHARED },
      { type: 'gitops', action: 'commit', write: RATINGS },
    ]);
    expect(run.state).toBe('succeeded');
  });
});
