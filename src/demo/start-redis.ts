// A throwaway redis-server on a free port for the demo (when REDIS_URL is not set): nothing
// persisted, gone when the demo ends.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisConnections } from '../redis/connect-redis.js';

export interface LocalRedis {
  url: string;
  stop(): Promise<void>;
}

/** redis-server is not installed (not on PATH). */
export class RedisServerMissingError extends Error {
  constructor() {
    super('redis-server was not found on PATH');
    this.name = 'RedisServerMissingError';
  }
}

export async function startLocalRedis(binary = 'redis-server'): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-demo-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new RedisServerMissingError() : error));
  });
  try {
    await spawned;
    await waitForPing(port, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a redis-server answers PING on the port; rejects after 10 s or when `exited()` says it died. */
export async function waitForPing(port: number, exited: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited()) throw new Error(`redis-server exited before answering on port ${port}`);
    const client = redisConnections({ mode: 'standalone', host: '127.0.0.1', port, db: 0, tls: false }).open({ lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}
