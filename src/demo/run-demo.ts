// `canarybot demo`: the real bot (createBot, in this process, on a real HTTP port) releases
// Bookinfo's `reviews` three times against the simulators, each canary judged against a fresh
// baseline at its weight. A healthy build goes 10 → 30 → 50 %, is approved by the demo release
// manager when asked, and is promoted; a broken build (about 30 % 5xx) fails its first analysis on a
// fixed threshold and is rolled back; a build 20 % slower than its baseline, under every fixed
// threshold, is judged high on latency and rolled back; a fourth, merged during a GitLab deploy
// freeze, waits until the release manager deletes the freeze, then goes on. Each release's MR notes end up in
// <output>/<n>-reviews-<outcome>.md. Then the release-train scene (train-scene.ts): Bookinfo's productpage →
// reviews → ratings released together, promoted leaf first, then a run where the lane header is
// lost before ratings, rolled back; each run's train summary in <output>/train-<n>-bookinfo-lane-<state>.md.

import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { once } from 'node:events';
import { loadConfig } from '../config.js';
import { isLive } from '../core/release.js';
import type { ReleaseDetail, ReleaseSummary } from '../engine/release-view.js';
import { createLogger } from '../server/create-logger.js';
import { createBot, type Bot } from '../server/create-bot.js';
import { AUTHOR, CHANGES, CONFIG_PROJECT, PROJECT, RELEASE_MANAGER, SERVICE, STABLE, NAMESPACE, type DemoChange } from './bookinfo.js';
import { startDemoWorld, type DemoWorld } from './demo-world.js';
import { noteHook, pipelineHook } from './hooks.js';
import { progressLine, ProgressBoard, type BoardOutput } from './progress-board.js';
import { FAILING, HEALTHY, SLOWER, type WorkloadHealth } from './simulated-traffic.js';
import { runTrainScene, type TrainSceneRun } from './train-scene.js';

export interface DemoOptions {
  /** Where the MR notes (and the bot's log) are written. */
  outputDir: string;
  out: BoardOutput;
  env: Record<string, string | undefined>;
  /** Longest a single release may take before the demo gives up (default 90 s). */
  releaseTimeoutMs?: number;
}

export interface DemoRelease {
  n: number;
  id: string;
  image: string;
  state: string;
  outcome: string;
  reason: string | null;
  durationMs: number;
  file: string;
}

export interface DemoResult {
  releases: DemoRelease[];
  /** The release-train scene: promoted, then rolled back for not propagating the lane header. */
  trains: TrainSceneRun[];
  /** One promoted, two rolled back (a fixed threshold, then the judge), one promoted after a freeze: what the demo is meant to show. */
  ok: boolean;
}

interface Scenario {
  change: DemoChange;
  canary: WorkloadHealth;
  expected: string;
  story: string;
  /** Merged during a GitLab deploy freeze, which the release manager lifts a few seconds later. */
  frozen?: boolean;
}

const SCENARIOS: Scenario[] = [
  { change: CHANGES[0] as DemoChange, canary: HEALTHY, expected: 'succeeded', story: 'a healthy build (99.8 % success, p99 ~120 ms)' },
  { change: CHANGES[1] as DemoChange, canary: FAILING, expected: 'rolled-back', story: 'a broken build (~30 % of its responses are 5xx)' },
  {
    change: CHANGES[2] as DemoChange,
    canary: SLOWER,
    expected: 'rolled-back',
    story: 'a judged canary: p99 ~144 ms, 20 % above its baseline yet under every fixed threshold',
  },
  { change: CHANGES[3] as DemoChange, canary: HEALTHY, expected: 'succeeded', story: 'a healthy build merged during a GitLab deploy freeze', frozen: true },
];

const NOTE_FILE = new RegExp(`^(\\d+-${SERVICE}|train-\\d+-[a-z-]+)-[a-z-]+\\.md$`);
const OUTCOME: Record<string, string> = { succeeded: 'promoted', 'rolled-back': 'rolled-back' };

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = (text: string): unknown => options.out.write(`${text}\n`);
  mkdirSync(options.outputDir, { recursive: true });
  // Notes of an earlier run would read as this run's outcome.
  for (const name of readdirSync(options.outputDir)) if (NOTE_FILE.test(name)) rmSync(join(options.outputDir, name));
  const logPath = join(options.outputDir, 'canarybot.log');
  const logFile = createWriteStream(logPath);

  say('canarybot demo: Bookinfo `reviews` on simulated Kubernetes + Istio, GitLab and traffic');
  const world = await startDemoWorld(options.env);
  let bot: Bot | null = null;
  try {
    say(`  redis       ${world.ownRedis ? `${world.redisUrl} (redis-server started for the demo)` : `${world.redisUrl} (REDIS_URL)`}`);
    say(`  kubernetes  ${world.kube.url} (simulated API server: Deployments, VirtualServices, DestinationRules)`);
    say(`  gitlab      ${world.gitlab.url} (simulated API: project ${PROJECT.path}, MRs !1 and !2)`);
    say(`  gitops      ${CONFIG_PROJECT.path} (Helm chart ${CONFIG_PROJECT.chart}) applied by a simulated Argo CD, self-healing every second`);
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      REDIS_URL: world.redisUrl,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: world.webhookSecret,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      LOG_LEVEL: 'info',
      // The dashboard can be watched during the demo without a GitLab token (reads only).
      API_READ_ANONYMOUS: 'true',
      WORKER_CONCURRENCY: '4',
      // Deploy freezes are re-read every second, so the freeze scene's lift shows at once.
      FREEZE_REFRESH: '1s',
      GITLAB_WRITES_PER_MINUTE: '6000',
    });
    const logger = createLogger({ level: config.logLevel, secrets: [world.gitlab.token, world.webhookSecret], destination: logFile });
    bot = await createBot(config, {
      logger,
      metricProvider: world.traffic,
      // A fresh prefix, so a shared REDIS_URL never mixes this run with another.
      prefix: `{canarybot-demo-${randomBytes(4).toString('hex')}}`,
      writebackPollMs: 100,
      engine: { timing: { recoverIntervalMs: 1_000 } },
    });
    await bot.start();
    const address = await bot.listen();
    say(`  canarybot   ${address} (the real bot, in this process; log: ${shown(logPath)})`);
    say(`  dashboard   ${address}/ (open it to watch the releases move; read-only without a token)`);
    say('');

    const releases: DemoRelease[] = [];
    for (const [index, scenario] of SCENARIOS.entries()) {
      releases.push(await runRelease(index + 1, scenario, { world, address, options }));
    }
    const trains = await runTrainScene(options.outputDir, options.out);
    printSummary(releases, options.out);
    for (const run of trains.runs) {
      options.out.write(`  train #${run.n}  bookinfo-lane (productpage, reviews, ratings v2)  ${run.state.padEnd(11)}  ${(run.durationMs / 1000).toFixed(1).padStart(5)} s  ${shown(run.file)}${run.reason ? `  (${run.reason})` : ''}\n`);
    }
    const ok = releases.every((release, index) => release.state === SCENARIOS[index]?.expected) && trains.ok;
    return { releases, trains: trains.runs, ok };
  } finally {
    await bot?.close();
    await world.close();
    logFile.end();
    await once(logFile, 'close').catch(() => undefined);
  }
}

interface ReleaseContext {
  world: DemoWorld;
  address: string;
  options: DemoOptions;
}

async function runRelease(n: number, scenario: Scenario, context: ReleaseContext): Promise<DemoRelease> {
  const { world, address, options } = context;
  const board = new ProgressBoard(options.out);
  const { change } = scenario;
  const started = Date.now();
  const configHead = configRepository(world).resolve('main')!.id;
  world.traffic.setCanaryHealth(scenario.canary);
  board.note(`▶ release ${n}: MR !${change.iid} "${change.title}" merged — ${scenario.story}`);
  const freeze = scenario.frozen ? await addFreeze(world) : null;
  board.note(`  GitLab CI passed on main (${change.sha.slice(0, 8)}) → Pipeline Hook → POST ${address}/webhooks/gitlab`);
  await deliver(address, world.webhookSecret, 'Pipeline Hook', pipelineHook({ project: PROJECT, pipelineId: 500 + n, sha: change.sha, mr: change, user: AUTHOR }));

  const deadline = started + (options.releaseTimeoutMs ?? 90_000);
  const summary = await waitFor(() => findRelease(address, change.sha, world.gitlab.token), deadline, 'the release to start');
  const key = summary.id;
  const label = `reviews #${n}`;
  const approved = new Set<number>();
  let detail: ReleaseDetail;
  for (;;) {
    detail = await getJson<ReleaseDetail>(`${address}/api/releases/${encodeURIComponent(summary.id)}`, world.gitlab.token);
    board.update(key, progressLine(detail, label));
    if (!isLive(detail.state)) break;
    if (freeze && !freeze.lifted && await liftFreeze(world, freeze, detail, (text) => board.note(text))) freeze.lifted = true;
    if (detail.state === 'awaiting-approval' && !approved.has(detail.step)) {
      approved.add(detail.step);
      board.note(`  🙋 approval requested on MR !${change.iid} → @${RELEASE_MANAGER.username} (Maintainer) comments "/canary approve"`);
      const note = world.gitlab.addNote(PROJECT.id, change.iid, '/canary approve', RELEASE_MANAGER.id);
      await deliver(
        address,
        world.webhookSecret,
        'Note Hook',
        noteHook({ project: PROJECT, mr: { iid: change.iid, authorId: AUTHOR.id }, note: { id: note.id, body: note.body, discussionId: note.discussionId }, user: RELEASE_MANAGER }),
      );
    }
    if (Date.now() > deadline) throw new Error(`release ${n} did not finish in time (still ${detail.state})`);
    await sleep(150);
  }
  board.finish(key);
  for (const line of gitopsLines(world, configHead)) options.out.write(`${line}\n`);

  const outcome = OUTCOME[detail.state] ?? detail.state;
  const file = join(options.outputDir, `${n}-${SERVICE}-${outcome}.md`);
  writeFileSync(file, await settledNotes(world, change, detail));
  const durationMs = Date.now() - started;
  const why = detail.reason ? ` — ${detail.reason}` : '';
  options.out.write(`  ${outcome === 'promoted' ? '✅' : '⏪'} ${outcome} in ${(durationMs / 1000).toFixed(1)} s${why}\n`);
  options.out.write(`  MR notes → ${shown(file)}\n\n`);
  return { n, id: detail.id, image: detail.image, state: detail.state, outcome, reason: detail.reason, durationMs, file };
}

interface DemoFreeze {
  id: number;
  seenAt: number | null;
  lifted: boolean;
}

/** Settings → CI/CD → Deploy freezes on the app project, through the GitLab API: frozen from now on. */
async function addFreeze(world: DemoWorld): Promise<DemoFreeze> {
  const response = await fetch(`${world.gitlab.url}/api/v4/projects/${PROJECT.id}/freeze_periods`, {
    method: 'POST',
    headers: { 'private-token': world.gitlab.token, 'content-type': 'application/json' },
    body: JSON.stringify({ freeze_start: '* * * * *', freeze_end: '0 0 1 1 *', cron_timezone: 'Europe/Berlin' }),
  });
  if (response.status !== 201) throw new Error(`adding the demo's deploy freeze: ${response.status}`);
  return { id: ((await response.json()) as { id: number }).id, seenAt: null, lifted: false };
}

/** Once the release has been seen waiting on the freeze for 3 s, the release manager deletes the freeze. */
async function liftFreeze(world: DemoWorld, freeze: DemoFreeze, detail: ReleaseDetail, note: (text: string) => void): Promise<boolean> {
  const wait = (detail as ReleaseDetail & { wait?: { kind: string; sentence: string } | null }).wait;
  if (wait?.kind !== 'freeze') return false;
  if (freeze.seenAt === null) {
    freeze.seenAt = Date.now();
    note(`  🧊 ${wait.sentence}`);
    return false;
  }
  if (Date.now() - freeze.seenAt < 3_000) return false;
  note(`  🔓 @${RELEASE_MANAGER.username} deletes the deploy freeze in GitLab (Settings → CI/CD → Deploy freezes); the release starts on its own`);
  await fetch(`${world.gitlab.url}/api/v4/projects/${PROJECT.id}/freeze_periods/${freeze.id}`, { method: 'DELETE', headers: { 'private-token': world.gitlab.token } });
  return true;
}

function configRepository(world: DemoWorld) {
  return world.gitlab.repositories.repository(CONFIG_PROJECT.id);
}

/** What this release did to the config repository and what Argo CD made of it (nothing before promotion). */
function gitopsLines(world: DemoWorld, before: string): string[] {
  const repository = configRepository(world);
  const head = repository.resolve('main')!;
  if (head.id === before) return [`  📁 ${CONFIG_PROJECT.path} untouched: nothing is written to Git before promotion`];
  const old = (repository.commits.get(head.parentIds[0] ?? '')?.files.get(CONFIG_PROJECT.values) ?? '').split('\n');
  const now = (head.files.get(CONFIG_PROJECT.values) ?? '').split('\n');
  const changed = now.findIndex((line, i) => line !== old[i]);
  const stable = world.kube.object('Deployment', NAMESPACE, STABLE.deployment)?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined;
  const synced = world.argo.applied.includes(head.id);
  return [
    `  📝 ${CONFIG_PROJECT.path} ${head.id.slice(0, 8)} "${head.message.split('\n')[0]}"`,
    `     ${CONFIG_PROJECT.values}:${changed + 1}  -${old[changed] ?? ''}`,
    `     ${CONFIG_PROJECT.values}:${changed + 1}  +${now[changed] ?? ''}`,
    synced ? `  🔄 Argo CD synced ${head.id.slice(0, 8)}: ${STABLE.deployment} runs ${stable?.template.spec.containers[0]?.image ?? '?'}` : `  ⏳ Argo CD has not synced ${head.id.slice(0, 8)} yet`,
  ];
}

/** The MR's notes once the write-back has caught up: the progress note last edited, the commit status final. */
async function settledNotes(world: DemoWorld, change: DemoChange, detail: ReleaseDetail): Promise<string> {
  const marker = `canarybot:release:`;
  const render = (): string => {
    const notes = world.gitlab.notes(PROJECT.id, change.iid);
    const progress = notes.filter((note) => note.body.includes(marker));
    const others = notes.filter((note) => !note.body.includes(marker));
    const user = (id: number): string => (id === RELEASE_MANAGER.id ? RELEASE_MANAGER.username : id === AUTHOR.id ? AUTHOR.username : 'canarybot');
    const parts = [
      `# MR !${change.iid} — ${change.title}`,
      '',
      `Release \`${detail.id}\` of \`${detail.image}\`: **${detail.state}**${detail.reason ? ` (${detail.reason})` : ''}.`,
      '',
      ...progress.flatMap((note) => [`## Progress note (edited ${note.history.length} time(s))`, '', note.body, '']),
      ...(others.length > 0 ? ['## Thread', ''] : []),
      ...others.flatMap((note) => [`**@${user(note.authorId)}** (${note.createdAt}):`, '', note.body, '']),
    ];
    return parts.join('\n');
  };
  const final = (): boolean =>
    world.gitlab.statuses(PROJECT.id, change.sha).some((status) => ['success', 'failed', 'canceled'].includes(status.status));
  const until = Date.now() + 10_000;
  let last = render();
  let stableSince = Date.now();
  while (Date.now() < until) {
    await sleep(200);
    const now = render();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (final() && Date.now() - stableSince >= 1_000) break;
  }
  return last;
}

function printSummary(releases: DemoRelease[], out: BoardOutput): void {
  out.write('Summary\n');
  for (const release of releases) {
    const why = release.reason ? `  (${release.reason})` : '';
    out.write(`  #${release.n}  ${release.image.padEnd(48)}  ${release.outcome.padEnd(11)}  ${(release.durationMs / 1000).toFixed(1).padStart(5)} s  ${shown(release.file)}${why}\n`);
  }
}

async function deliver(address: string, secret: string, event: string, payload: unknown): Promise<void> {
  const response = await fetch(`${address}/webhooks/gitlab`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gitlab-token': secret, 'x-gitlab-event': event, 'x-gitlab-webhook-uuid': randomUUID() },
    body: JSON.stringify(payload),
  });
  if (response.status !== 202) throw new Error(`the bot answered ${event} with ${response.status}: ${(await response.text()).slice(0, 300)}`);
}

async function findRelease(address: string, sha: string, token: string): Promise<ReleaseSummary | null> {
  const { releases } = await getJson<{ releases: ReleaseSummary[] }>(`${address}/api/releases?service=${SERVICE}`, token);
  return releases.find((release) => release.sha === sha) ?? null;
}

/** The API reads as a GitLab user: here the demo GitLab's own token. */
async function getJson<T>(url: string, token: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

async function waitFor<T>(probe: () => Promise<T | null>, deadline: number, what: string): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A path relative to the working directory when it is below it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
