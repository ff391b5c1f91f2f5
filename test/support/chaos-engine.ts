// The engine in a process of its own, for the chaos test: fakes for every port, with the traffic
// writes and workload calls appended to Redis lists so the parent sees them across kills.
// Run: node --import tsx test/support/chaos-engine.ts  (REDIS_URL, CHAOS_PREFIX in the environment)

import { Redis } from 'ioredis';
import { createEngine } from '../../src/engine/create-engine.js';
import { failBadServicesGate, fakePorts } from './fakes.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.CHAOS_PREFIX ?? 'chaos';
const log = new Redis(redisUrl, { maxRetriesPerRequest: null });
log.on('error', () => undefined);

const ports = fakePorts();
// The write is recorded first and answered a little later, like a real API: a kill in between
// leaves a write the record does not know about.
const latency = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));
ports.router.onWrite = async (write) => {
  await log.rpush(`${prefix}:chaos:writes`, JSON.stringify({ service: write.service, canary: write.traffic.weights.canary, pid: process.pid }));
  await latency();
};
const scaleCanary = ports.workloads.scaleCanary.bind(ports.workloads);
ports.workloads.scaleCanary = async (target, replicas) => {
  await scaleCanary(target, replicas);
  await log.rpush(`${prefix}:chaos:scales`, JSON.stringify({ service: target.service, replicas }));
};
ports.gates.evaluate = failBadServicesGate;

const engine = createEngine({
  redisUrl,
  prefix,
  ports,
  concurrency: 4,
  // Short enough that a killed engine's work comes back within a couple of seconds, long enough
  // that a busy (not dead) engine on a loaded machine keeps its locks.
  timing: { lockTtlMs: 2_000, jobLockMs: 1_500, stalledIntervalMs: 500, recoverIntervalMs: 1_000 },
});

const stop = (): void => {
  void engine.close().then(() => log.quit()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await engine.start();
process.stdout.write('ready\n');
