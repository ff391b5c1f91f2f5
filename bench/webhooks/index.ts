// POST /webhooks/gitlab throughput and latency: the real route (token check, JSON parse, schema,
// classification, dedupe + enqueue into the intake inbox in one Redis round trip on a real
// redis-server; the forwarder into BullMQ is not on the request path and not run here) against a bare
// fastify route answering 202, both driven by autocannon in the same run with the same payload.
// Each request carries a unique Idempotency-Key, so every one is deduplicated and enqueued for real.
//
//   npx tsx bench/webhooks/index.ts [seconds per run, default 10] [connections, default 10] [rounds, default 2]

import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { fixture } from '../../test/gitlab/helpers.js';
import { startRedisServer } from '../../test/support/redis-server.js';
import { BENCH_SECRET } from './server.js';

const DURATION = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 10);
const ROUNDS = Number(process.argv[4] ?? 2);
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 10;

interface Server {
  port: number;
  /** Start counting the server's CPU time from now. */
  mark(): void;
  stop(): Promise<{ jobs?: number; cpuMicros?: number }>;
}

async function startServer(mode: 'bare' | 'webhook', redisUrl: string): Promise<Server> {
  const child: ChildProcess = fork(new URL('./server.ts', import.meta.url).pathname, [mode, redisUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    child.once('message', (message) => resolve((message as { port: number }).port));
  });
  return {
    port,
    mark: () => child.send('mark'),
    stop: () =>
      new Promise((resolve) => {
        let result: { jobs?: number; cpuMicros?: number } = {};
        child.on('message', (message) => (result = { ...result, ...(message as object) }));
        child.removeAllListeners('exit');
        child.once('exit', () => resolve(result));
        child.send('stop');
      }),
  };
}

async function drive(port: number, body: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}/webhooks/gitlab`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-gitlab-token': BENCH_SECRET, 'x-gitlab-event': 'Pipeline Hook' },
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }),
      },
    ],
  });
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  jobs?: number;
  /** CPU time per request of the server process and of redis-server, µs. */
  serverCpu: number;
  redisCpu: number;
}

async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

async function measure(name: string, mode: 'bare' | 'webhook', redisUrl: string, body: string): Promise<Row> {
  const server = await startServer(mode, redisUrl);
  const redis = new Redis(redisUrl);
  await drive(server.port, body, 2); // warm-up, discarded
  server.mark();
  const redisBefore = await redisCpuMicros(redis);
  const result = await drive(server.port, body, DURATION);
  const redisAfter = await redisCpuMicros(redis);
  redis.disconnect();
  const { jobs, cpuMicros } = await server.stop();
  const requests = result.requests.total;
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(jobs !== undefined ? { jobs } : {}),
    serverCpu: (cpuMicros ?? 0) / Math.max(1, requests),
    redisCpu: (redisAfter - redisBefore) / Math.max(1, requests),
  };
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? null : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const body = JSON.stringify(fixture('pipeline-success'));
  try {
    // Interleaved rounds: the machine's load drifts, and each ratio compares neighbours in time.
    const rows: Row[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const bare = await measure(`bare fastify 202 (round ${round})`, 'bare', redisUrl, body);
      const webhook = await measure(`POST /webhooks/gitlab (round ${round})`, 'webhook', redisUrl, body);
      rows.push(bare, webhook);
      ratios.push(webhook.rps / bare.rps);
    }
    const webhooks = rows.filter((row) => row.name.startsWith('POST'));
    const ratio = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const p99 = Math.max(...webhooks.map((row) => row.p99));

    console.log(`\nPOST /webhooks/gitlab vs a bare fastify route (${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, payload ${body.length} bytes)`);
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (autocannon, both servers and redis-server share it)\n`);
    console.log('| server | req/s | p50 ms | p99 ms | requests | non-2xx | errors | jobs (warm-up incl.) | server CPU µs/req | redis CPU µs/req |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(
        `| ${row.name} | ${row.rps.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.requests} | ${row.non2xx} | ${row.errors} | ${row.jobs ?? '-'} | ${row.serverCpu.toFixed(0)} | ${row.redisCpu.toFixed(0)} |`,
      );
    }
    console.log(`\nratio (webhook req/s ÷ bare req/s): ${ratios.map((r) => r.toFixed(2)).join(', ')}; mean ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`);
    console.log(`webhook p99 (worst round): ${p99} ms  (target ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'met' : 'NOT met'})`);
  } finally {
    await redis?.stop();
  }
}

// Exit explicitly: the benchmark's own clients may keep handles open after the report.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
