// Child process of bench/alert-rollback's loaded mode: GitLab Pipeline Hooks POSTed to the bot at a
// fixed rate (open loop: a request leaves on schedule whether or not earlier ones have answered),
// each with its own Idempotency-Key so every one is deduplicated and enqueued for real, until the
// parent sends 'stop'; then it reports how many were sent and answered, and the answer latencies.
// argv: url rate

import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fixture } from '../../test/gitlab/helpers.js';
import { BENCH_SECRET } from '../webhooks/bench-secret.js';

const [url, rateArg] = process.argv.slice(2);
const rate = Number(rateArg);
const target = new URL(url!);
const body = JSON.stringify(fixture('pipeline-success'));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const latencies: number[] = [];
let sent = 0;
let failed = 0;
let stopping = false;

function send(): void {
  const started = process.hrtime.bigint();
  const headers = { 'content-type': 'application/json', 'x-gitlab-token': BENCH_SECRET, 'x-gitlab-event': 'Pipeline Hook', 'idempotency-key': randomUUID(), 'content-length': Buffer.byteLength(body) };
  const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers }, (res) => {
    res.resume();
    res.on('end', () => {
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if ((res.statusCode ?? 0) >= 300) failed++;
    });
  });
  req.on('error', () => failed++);
  req.end(body);
  sent++;
}

const start = performance.now();
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * rate);
  while (!stopping && sent < due) send();
}, 1);

process.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  const seconds = (performance.now() - start) / 1000;
  setTimeout(() => {
    latencies.sort((a, b) => a - b);
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    process.send?.({ sent, answered: latencies.length, failed, seconds, p50: at(0.5), p99: at(0.99) }, () => process.exit(0));
  }, 2_000);
});
process.send?.('ready');
