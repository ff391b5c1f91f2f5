// An open-loop load: requests leave on a fixed schedule whether or not earlier ones have answered,
// so the latency measured is the server's answer time at that load, not the queueing a closed loop
// (autocannon, whose `overallRate` sends each second's quota in a burst) builds up at saturation.

import { Agent, request } from 'node:http';

export interface PacedLatency {
  sent: number;
  /** Answers with a status other than 2xx, and transport errors. */
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PacedLoad {
  url: string;
  body: string;
  headers: () => Record<string, string>;
  /** Requests per second. */
  rate: number;
  seconds: number;
}

const TICK_MS = 1;

export async function pacedLatency(load: PacedLoad): Promise<PacedLatency> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(load.url);
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (): void => {
    const started = process.hrtime.bigint();
    const done = new Promise<void>((resolve) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...load.headers(), 'content-length': Buffer.byteLength(load.body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            if ((res.statusCode ?? 0) >= 300) failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(load.body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    sent++;
  };

  const start = performance.now();
  const end = start + load.seconds * 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Math.min(performance.now(), end);
      const due = Math.floor(((now - start) / 1000) * load.rate);
      while (sent < due) send();
      if (now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.all(inFlight);
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { sent, failed, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? NaN };
}
