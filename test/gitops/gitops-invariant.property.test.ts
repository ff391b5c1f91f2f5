// Issue 14's invariant as a property over seeded random runs: the real core (decide), the real
// executor and the real GitOps adapter, against an in-process Git repository with GitLab's commit
// semantics (src/sim/gitlab/repository.ts: stale last_commit_id, moved branch) and a model cluster
// with an Argo-CD-like controller that applies Git's tag to the stable Deployment and ignores the
// weights canarybot owns. On a virtual clock; no network. Each run releases several images in a row
// while, between any two effects, the controller may reconcile, a human may commit (another line of
// the pinned file, or — with a controller — a new tag by hand), a concurrent commit may be injected
// between the bot's read and write, an alert may fire, and the analysis may fail.
// Checked on every run:
//   - after a release that ended succeeded or rolled-back (and no human changed the tag meanwhile),
//     the stable image equals the tag in Git, and that tag is the release's (succeeded) or the one
//     before it (rolled-back);
//   - canarybot never puts an image on the stable Deployment that Git does not hold at that moment;
//   - every canarybot commit changes only pinned values, all pins of a file set at once, and never a
//     pin that holds a value a human wrote (no human change is overwritten);
//   - the weights canarybot wrote survive every reconcile while the release is live;
//   - a refused release (drift) writes nothing.
// CI runs CANARYBOT_GITOPS_RUNS=60 (default) runs of 4 releases; set it to 2000 for a soak.

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import type { Effect } from '../../src/core/effect.js';
import { CanarybotError } from '../../src/core/errors.js';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { Input } from '../../src/core/input.js';
import type { Ports, ReleaseTarget } from '../../src/core/ports.js';
import { isLive, type Release } from '../../src/core/release.js';
import type { TrafficState } from '../../src/core/traffic.js';
import { createExecutor } from '../../src/engine/executor.js';
import type { ConfigRepository } from '../../src/gitops/config-repository.js';
import { readPin, writePin } from '../../src/gitops/edit-pin.js';
import { createGitOpsAdapter, type SyncController } from '../../src/gitops/gitops-adapter.js';
import { inProcessRepositoryLock } from '../../src/gitops/repository-lock.js';
import { Repository, RepositoryError } from '../../src/sim/gitlab/repository.js';
import { fakePorts, FakeClock } from '../support/fakes.js';
import { definition, release as releaseOf } from '../core/fixtures.js';

const RUNS = Number(process.env.CANARYBOT_GITOPS_RUNS ?? 60);
const RELEASES_PER_RUN = 4;
const REPO = 'registry.example.com/bookinfo/reviews';
const VALUES = (tag: string, replicas = 2) => `# reviews\nreplicaCount: ${replicas}\nimage:\n  repository: ${REPO}\n  tag: '${tag}'   # canarybot writes this\n`;
const KUSTOMIZATION = (tag: string) => `images:\n  - name: ${REPO}\n    newTag: ${tag} # pinned\nresources: [deployment.yaml]\n`;
const FILES: GitOpsSpec['files'] = [
  { path: 'values.yaml', pin: { kind: 'helmValues', path: ['image', 'tag'] } },
  { path: 'kustomization.yaml', pin: { kind: 'kustomizeImage', image: REPO } },
];

/** mulberry32: a small seeded generator, so a failing seed replays exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ConfigRepository over the in-process repository, with GitLab's two lost-race answers as GITOPS_RACE (as the GitLab adapter maps them). */
function inProcess(repo: Repository): ConfigRepository {
  const unsupported = () => Promise.reject(new Error('merge requests are not part of this property'));
  return {
    defaultBranch: async () => 'main',
    readFile: async (_project, path, ref) => {
      const commit = repo.resolve(ref);
      const content = commit?.files.get(path);
      return commit && content !== undefined ? { path, content, lastCommitId: repo.lastCommitId(ref, path), commitId: commit.id } : null;
    },
    branchHead: async (_project, branch) => repo.branches.get(branch) ?? null,
    commit: async (_project, request) => {
      try {
        const commit = repo.commit({ branch: request.branch, message: request.message, actions: request.changes.map((change) => ({ action: 'update', filePath: change.path, content: change.content, lastCommitId: change.lastCommitId })) });
        return { sha: commit.id, webUrl: `http://gitlab.test/c/${commit.id}` };
      } catch (error) {
        if (error instanceof RepositoryError && /changed since you started editing|incorrect old value/.test(error.message)) throw new CanarybotError('GITOPS_RACE', error.message);
        throw error;
      }
    },
    createMergeRequest: unsupported,
    mergeRequest: unsupported,
    findMergeRequest: unsupported,
    merge: unsupported,
    closeMergeRequest: unsupported,
    commitUrl: (_project, sha) => `http://gitlab.test/c/${sha}`,
  };
}

const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);

interface RunResult { violations: string[]; outcomes: string[] }

/** One seeded run: RELEASES_PER_RUN releases in a row against one repository and cluster. */
async function run(seed: number): Promise<RunResult> {
  const random = seeded(seed);
  const chance = (p: number) => random() < p;
  const withController = chance(0.6);
  const violations: string[] = [];
  const outcomes: string[] = [];
  const clock = new FakeClock(Date.UTC(2026, 11, 1));
  const repo = new Repository('platform/k8s-config', () => clock.now(), 'main', { 'values.yaml': VALUES('v1'), 'kustomization.yaml': KUSTOMIZATION('v1'), 'README.md': 'config\n' });
  const humanTags = new Set<string>();
  const cluster = { stable: `${REPO}:v1`, weights: { stable: 100, canary: 0 } as Record<string, number>, botWeights: null as Record<string, number> | null, applied: null as string | null, writes: 0 };
  let humanEdits = 0;
  const pinsOf = new Map<string, { before: string; after: string }[]>();

  const gitTags = () => FILES.map((file) => readPin(repo.resolve('main')!.files.get(file.path)!, file.pin, file.path));
  const gitTag = () => {
    const tags = gitTags();
    if (new Set(tags).size !== 1) violations.push(`seed ${seed}: pins disagree in Git: ${tags.join(', ')}`);
    return tags[0]!;
  };
  /** A person's commit; when a pending injected commit lands inside it and moves the branch, they pull and commit again. */
  const human = (message: string, change: (files: Map<string, string>) => [string, string][]) => {
    for (;;) {
      const head = repo.resolve('main')!;
      try {
        repo.commit({ branch: 'main', message, authorName: 'Alice', actions: change(head.files).map(([filePath, content]) => ({ action: 'update', filePath, content })) });
        return;
      } catch (error) {
        if (!(error instanceof RepositoryError)) throw error;
      }
    }
  };
  const humanLine = () => {
    humanEdits += 1;
    human('scale', (files) => [['values.yaml', files.get('values.yaml')!.replace(/replicaCount: \d+/, `replicaCount: ${2 + humanEdits}`)]]);
  };
  const humanTag = () => {
    const tag = `hotfix${humanTags.size + 1}`;
    humanTags.add(tag);
    human(`pin ${tag} by hand`, (files) => FILES.map((file) => [file.path, writePin(files.get(file.path)!, file.pin, tag, file.path)]));
  };
  /** The controller: applies Git's tag to the stable Deployment; the weights are ignored (canarybot owns them). */
  const reconcile = () => {
    const image = `${REPO}:${gitTag()}`;
    if (cluster.stable !== image) cluster.stable = image;
    cluster.applied = repo.resolve('main')!.id;
    if (cluster.botWeights && JSON.stringify(cluster.weights) !== JSON.stringify(cluster.botWeights)) violations.push(`seed ${seed}: a reconcile reset the weights`);
  };

  const controller: SyncController = {
    preflight: async () => undefined,
    sync: async (_release, revision, image) => {
      if (chance(0.5)) reconcile(); // the refresh annotation is honoured sooner or later
      const done = cluster.applied === revision && cluster.stable === image;
      return done ? { done: true, report: {} } : { done: false, message: `applied ${cluster.applied?.slice(0, 8) ?? 'none'}`, report: { waiting: { kind: 'sync', sentence: 'waiting for the controller', link: null } } };
    },
  };
  const gitops = createGitOpsAdapter({ repository: inProcess(repo), lock: inProcessRepositoryLock(), ...(withController ? { controller } : {}), random, sleep: async () => undefined });
  const base = fakePorts(clock);
  const ports: Ports = {
    ...base,
    router: {
      preflight: async () => undefined,
      setTraffic: async (_target: ReleaseTarget, traffic: TrafficState) => {
        cluster.writes += 1;
        cluster.weights = { ...traffic.weights };
        cluster.botWeights = { ...traffic.weights };
      },
    },
    workloads: {
      ensureCanary: async () => {
        cluster.writes += 1;
        return { state: 'ready' };
      },
      ensureStable: async (_target, image) => {
        cluster.writes += 1;
        if (tagOf(image) !== gitTag()) violations.push(`seed ${seed}: canarybot put ${image} on stable while Git holds ${gitTag()}`);
        cluster.stable = image;
        return { state: 'ready' };
      },
      scaleCanary: async () => {
        cluster.writes += 1;
      },
      currentStableImage: async () => cluster.stable,
    },
    gitops,
  };
  const execute = createExecutor({ ports });

  for (let n = 1; n <= RELEASES_PER_RUN; n += 1) {
    const tag = `r${seed.toString(36)}x${n}`;
    const spec: GitOpsSpec = { repository: 'platform/k8s-config', branch: 'main', files: FILES, via: 'commit', onDrift: 'refuse', mergeTimeoutMs: 600_000, ...(withController ? { sync: { controller: 'argocd', application: 'reviews', namespace: 'argocd', timeoutMs: 60_000 } } : {}) };
    const def = definition({ steps: [{ kind: 'setWeight', weight: 30 }, { kind: 'analysis', count: 1 }, { kind: 'setWeight', weight: 100 }] }, { gitops: spec });
    let r: Release = releaseOf(def, { id: `rel-${seed}-${n}`, image: `${REPO}:${tag}` });
    base.gates.fallback = chance(0.25) ? 'fail' : 'pass';
    const before = { tag: gitTag(), head: repo.resolve('main')!.id, writes: cluster.writes };
    let humanTagged = false;
    cluster.botWeights = null;

    const pending: Effect[] = [];
    let wake: { at: number; key: string } | null = null;
    const apply = (input: Input) => {
      const decision = decide(r, input, clock.now());
      r = decision.next;
      for (const effect of decision.effects) {
        if (effect.type === 'schedule-tick') wake = { at: effect.at, key: effect.key };
        else pending.push(effect);
      }
    };
    apply({ type: 'start' });
    for (let guard = 0; isLive(r.state) && guard < 2_000; guard += 1) {
      // The world moves between any two effects.
      if (withController && chance(0.3)) reconcile();
      if (chance(0.05)) humanLine();
      if (withController && chance(0.02)) {
        humanTag();
        humanTagged = true;
      }
      if (chance(0.08)) repo.interleave(chance(0.5) ? 'before-check' : 'before-ref-update', humanLine);
      // An alert is an input of its own: the engine applies it under the release's lock, between effects' jobs, never while one is in flight.
      if (pending.length === 0 && chance(0.1)) apply({ type: 'alert', name: 'ReviewsHighErrorRate', labels: { service: 'reviews', severity: 'critical' }, startsAt: new Date(clock.now()).toISOString(), fingerprint: `f${guard}` });
      const effect = pending.shift();
      if (effect) {
        const input = await execute(r, effect);
        if (input) apply(input);
        continue;
      }
      if (wake === null) break;
      const due: { at: number; key: string } = wake;
      wake = null;
      clock.advance(Math.max(0, due.at - clock.now()));
      apply({ type: 'tick', key: due.key });
    }
    outcomes.push(r.state);
    pinsOf.set(r.id, r.gitops?.pins ?? []);
    if (isLive(r.state)) violations.push(`seed ${seed}: release ${n} never ended (${r.state}/${r.phase})`);

    if (r.state === 'failed' && r.reason?.includes('GITOPS_DRIFT')) {
      if (repo.resolve('main')!.id !== before.head && !humanTagged) violations.push(`seed ${seed}: a refused release wrote to Git`);
      if (cluster.writes !== before.writes) violations.push(`seed ${seed}: a refused release wrote to the cluster`);
    }
    if (!humanTagged && (r.state === 'succeeded' || r.state === 'rolled-back')) {
      const git = gitTag();
      if (tagOf(cluster.stable) !== git) violations.push(`seed ${seed}: release ${n} ${r.state}, stable runs ${cluster.stable}, Git holds ${git}`);
      const expected = r.state === 'succeeded' ? tag : before.tag;
      if (git !== expected) violations.push(`seed ${seed}: release ${n} ${r.state}, Git holds ${git}, expected ${expected}`);
    }
    if (withController) reconcile(); // the controller catches up before the next release
    else if (humanTagged) cluster.stable = `${REPO}:${gitTag()}`;
  }

  // Every canarybot commit changes only pins, all at once, never a value a human wrote.
  for (const commit of repo.commits.values()) {
    if (commit.authorName !== 'canarybot') continue;
    const parent = repo.commits.get(commit.parentIds[0]!)!;
    const values = FILES.map((file) => readPin(commit.files.get(file.path)!, file.pin, file.path));
    const previous = FILES.map((file) => readPin(parent.files.get(file.path)!, file.pin, file.path));
    if (new Set(values).size !== 1) violations.push(`seed ${seed}: commit ${commit.id.slice(0, 8)} leaves the pins disagreeing`);
    for (const [path, content] of commit.files) {
      const file = FILES.find((candidate) => candidate.path === path);
      const expected = file ? writePin(parent.files.get(path)!, file.pin, values[FILES.indexOf(file)]!, path) : parent.files.get(path);
      if (content !== expected) violations.push(`seed ${seed}: commit ${commit.id.slice(0, 8)} changed ${path} beyond its pin`);
    }
    // The value replaced must be the one the release read at pre-flight (promotion) or its own (revert):
    // anything else was written by someone else since, and is theirs.
    const pins = pinsOf.get(/Canarybot-Release: (\S+)/.exec(commit.message)?.[1] ?? '') ?? [];
    for (const [i, value] of previous.entries()) {
      if (value !== values[i] && value !== pins[i]?.before && value !== pins[i]?.after) violations.push(`seed ${seed}: commit "${commit.message.split('\n')[0]}" overwrote ${value}${humanTags.has(value) ? ', a tag a human wrote' : ''} (the release read ${pins[i]?.before ?? '?'})`);
    }
  }
  return { violations, outcomes };
}

describe('the GitOps invariant over random runs', () => {
  it(`holds for ${RUNS} seeded runs of ${RELEASES_PER_RUN} releases (CANARYBOT_GITOPS_RUNS)`, async () => {
    const violations: string[] = [];
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= RUNS; seed += 1) {
      const result = await run(seed);
      violations.push(...result.violations);
      for (const outcome of result.outcomes) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }

    expect(violations.slice(0, 10)).toEqual([]);
    // The runs reach every ending the invariant speaks of.
    expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['failed', 'rolled-back', 'succeeded']));
  }, 120_000);
});
