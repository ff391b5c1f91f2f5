// Engine benchmark: 1,000 concurrent releases of 10 zero-length steps on one process + Redis, against
// raw BullMQ no-op job throughput measured in the same run on the same redis-server.
// Run: npx tsx bench/engine/index.ts   (RELEASES, CONCURRENCY, RAW_JOBS, ROUNDS to change the sizes)

import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Definition, Step } from '../../src/core/definition.js';
import type { Ports } from '../../src/core/ports.js';
import { createEngine, type EngineStats } from '../../src/engine/create-engine.js';
import { startRedisServer } from '../../test/support/redis-server.js';

const RELEASES = Number(process.env.RELEASES ?? 1_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const RAW_JOBS = Number(process.env.RAW_JOBS ?? 20_000);
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 2));
const RSS_LIMIT_MB = 256;
const RATIO_TARGET = 0.5;

const STEPS: Step[] = [
  { kind: 'setWeight', weight: 10 },
  { kind: 'pause', durationMs: 0 },
  { kind: 'setWeight', weight: 20 },
  { kind: 'pause', durationMs: 0 },
  { kind: 'setWeight', weight: 40 },
  { kind: 'pause', durationMs: 0 },
  { kind: 'setWeight', weight: 60 },
  { kind: 'pause', durationMs: 0 },
  { kind: 'setWeight', weight: 80 },
  { kind: 'setWeight', weight: 100 },
];

const noopPorts: Ports = {
  router: { preflight: async () => undefined, setTraffic: async () => undefined },
  workloads: { ensureCanary: async () => ({ state: 'ready' }), ensureStable: async () => ({ state: 'ready' }), scaleCanary: async () => undefined },
  gates: {
    evaluate: async () => ({ verdict: 'pass', measurements: [], at: Date.now() }),
    callWebhook: async () => ({ verdict: 'pass', measurements: [], at: Date.now() }),
  },
  reporter: { report: async () => undefined },
  notifier: { notify: async () => undefined },
  replier: { reply: async () => undefined },
  clock: { now: () => Date.now() },
};

function definition(name: string): Definition {
  return {
    name,
    trigger: { project: 'bench/app', branch: 'main', image: `registry.example.com/bench/${name}`, tag: { kind: 'short-sha' } },
    target: {
      clusters: ['default'],
      namespace: 'bench',
      virtualService: name,
      host: name,
      stable: { subset: 'stable', deployment: `${name}-primary`, container: name },
      canary: { subset: 'canary', deployment: `${name}-canary`, container: name },
      settleMs: 0,
      readinessDeadlineMs: 600_000,
    },
    strategy: { kind: 'canary', steps: STEPS },
    analysis: { intervalMs: 0, windowMs: 60_000, count: 1, failureLimit: 0, inconclusiveLimit: 3, consecutiveErrorLimit: 4, minRequests: 0, metrics: [] },
    alerts: [],
    approvals: { minAccessLevel: 'maintainer', users: [], groups: [], allowAuthor: false },
    notify: {},
  };
}

/** Peak resident set size seen while `run` runs, sampled every 100 ms. */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  try {
    const result = await run();
    return { result, peakMb: Math.max(peak, process.memoryUsage().rss) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

async function rawBullmq(url: string, prefix: string): Promise<{ seconds: number; perSecond: number }> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  for (let i = 0; i < RAW_JOBS; i += 1_000) {
    const size = Math.min(1_000, RAW_JOBS - i);
    await queue.addBulk(Array.from({ length: size }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: true } })));
  }
  let done = 0;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('raw', async () => undefined, { connection, prefix, concurrency: CONCURRENCY });
    worker.on('completed', () => {
      if (++done === RAW_JOBS) void worker.close().then(() => resolve());
    });
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  await connection.quit();
  return { seconds, perSecond: RAW_JOBS / seconds };
}

/** Each job adds its successor, as a release's tick schedules the next: `chains` chains of `length` jobs. */
async function chainedBullmq(url: string, prefix: string, chains: number, length: number): Promise<{ seconds: number; perSecond: number }> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix });
  let done = 0;
  const total = chains * length;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker(
      'chain',
      async (job) => {
        const { chain, step } = job.data as { chain: number; step: number };
        if (step + 1 < length) {
          await queue.add('noop', { chain, step: step + 1 }, { jobId: `c${chain}-${step + 1}`, removeOnComplete: true });
        }
      },
      { connection, prefix, concurrency: CONCURRENCY },
    );
    worker.on('completed', () => {
      if (++done === total) void worker.close().then(() => resolve());
    });
  });
  await queue.addBulk(Array.from({ length: chains }, (_, chain) => ({ name: 'noop', data: { chain, step: 0 }, opts: { jobId: `c${chain}-0`, removeOnComplete: true } })));
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  await connection.quit();
  return { seconds, perSecond: total / seconds };
}

interface EngineRun {
  triggerSeconds: number;
  seconds: number;
  stats: EngineStats;
  succeeded: number;
}

async function engineRun(url: string, prefix: string, inlineTicks: number): Promise<EngineRun> {
  const engine = createEngine({ redisUrl: url, prefix, ports: noopPorts, concurrency: CONCURRENCY, inlineTicks });
  const triggerStart = performance.now();
  for (let i = 0; i < RELEASES; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, RELEASES - i) }, (_, j) =>
        engine.trigger({
          definition: definition(`svc-${i + j}`),
          image: `registry.example.com/bench/svc-${i + j}:v1`,
          sha: 'abcdef0123456789',
          ref: 'main',
          pipeline: null,
          mr: null,
          actor: null,
        }),
      ),
    );
  }
  const triggerSeconds = (performance.now() - triggerStart) / 1000;
  const started = performance.now();
  await engine.start();
  const probe = new Redis(url);
  while ((await probe.zcard(engine.store.key('live'))) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  const releases = await engine.list({ limit: RELEASES });
  await probe.quit();
  const stats = engine.stats();
  await engine.close();
  return { triggerSeconds, seconds, stats, succeeded: releases.filter((r) => r.state === 'succeeded').length };
}

function row(cells: Array<string | number>): string {
  return cells.map((cell, i) => String(cell).padEnd(i === 0 ? 38 : 13)).join(' ');
}

const fixed = (n: number, digits = 0): string => n.toFixed(digits);

async function main(): Promise<void> {
  const server = await startRedisServer();
  try {
    // The machine is shared: each measure runs ROUNDS times, interleaved, and the fastest round counts.
    const raws: Array<{ seconds: number; perSecond: number }> = [];
    const chains: Array<{ seconds: number; perSecond: number }> = [];
    const inlines: Array<{ result: EngineRun; peakMb: number }> = [];
    const queueds: Array<{ result: EngineRun; peakMb: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      raws.push(await rawBullmq(server.url, `raw${round}`));
      chains.push(await chainedBullmq(server.url, `chain${round}`, RELEASES, 12));
      inlines.push(await withPeakRss(() => engineRun(server.url, `bench-inline-${round}`, 16)));
      queueds.push(await withPeakRss(() => engineRun(server.url, `bench-queued-${round}`, 0)));
    }
    const fastest = <T extends { seconds: number }>(runs: T[]): T => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const raw = fastest(raws);
    const chained = fastest(chains);
    const inline = { ...fastest(inlines.map((r) => ({ ...r, seconds: r.result.seconds }))), peakMb: Math.max(...inlines.map((r) => r.peakMb)) };
    const queued = { ...fastest(queueds.map((r) => ({ ...r, seconds: r.result.seconds }))), peakMb: Math.max(...queueds.map((r) => r.peakMb)) };

    const ticks = (run: EngineRun): number => (run.stats.inputs.tick ?? 0) + (run.stats.inputs.start ?? 0);
    const ticksPerSecond = (run: EngineRun): number => ticks(run) / run.seconds;
    const engines = [inline.result, queued.result];
    const lines = [
      `engine benchmark: ${RELEASES} releases × ${STEPS.length} zero-length steps, concurrency ${CONCURRENCY}, node ${process.version}, fastest of ${ROUNDS} rounds (peak RSS: highest)`,
      '',
      row(['measure', 'raw BullMQ', 'raw, chained', 'engine', 'engine, no inline ticks']),
      row(['wall time (s)', fixed(raw.seconds, 2), fixed(chained.seconds, 2), ...engines.map((r) => fixed(r.seconds, 2))]),
      row(['wall time, every round (s)', raws.map((r) => fixed(r.seconds, 1)).join('/'), chains.map((r) => fixed(r.seconds, 1)).join('/'), inlines.map((r) => fixed(r.result.seconds, 1)).join('/'), queueds.map((r) => fixed(r.result.seconds, 1)).join('/')]),
      row(['queue jobs processed', RAW_JOBS, RELEASES * 12, ...engines.map((r) => r.stats.jobs)]),
      row(['queue jobs/s', fixed(raw.perSecond), fixed(chained.perSecond), ...engines.map((r) => fixed(r.stats.jobs / r.seconds))]),
      row(['ticks (start + tick inputs)', '-', '-', ...engines.map(ticks)]),
      row(['ticks/s', '-', '-', ...engines.map((r) => fixed(ticksPerSecond(r)))]),
      row(['core decisions (all inputs)/s', '-', '-', ...engines.map((r) => fixed(sum(r.stats) / r.seconds))]),
      row(['steps/s', '-', '-', ...engines.map((r) => fixed((RELEASES * STEPS.length) / r.seconds))]),
      row(['releases succeeded', '-', '-', ...engines.map((r) => `${r.succeeded}/${RELEASES}`)]),
      row(['trigger time for all releases (s)', '-', '-', ...engines.map((r) => fixed(r.triggerSeconds, 2))]),
      row(['peak RSS (MB)', '-', '-', fixed(inline.peakMb), fixed(queued.peakMb)]),
      '',
      row(['ratio ticks/s ÷ raw jobs/s', '', '', ...engines.map((r) => fixed(ticksPerSecond(r) / raw.perSecond, 2))]),
      row(['ratio ticks/s ÷ chained raw jobs/s', '', '', ...engines.map((r) => fixed(ticksPerSecond(r) / chained.perSecond, 2))]),
      `targets: peak RSS ≤ ${RSS_LIMIT_MB} MB, ratio ≥ ${RATIO_TARGET}`,
      '"raw, chained": each no-op job adds its successor (as a tick schedules the next), 12 per chain, one chain per release.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await server.stop();
  }
}

function sum(stats: EngineStats): number {
  return Object.values(stats.inputs).reduce((a, b) => a + b, 0);
}

await main();
