import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPing } from '../../src/demo/start-redis.js';

/** A real redis-server on a free port, nothing persisted, for one test run (or one test). */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stop and start again on the same port (data is lost unless started with `persistent`). */
  restart(): Promise<void>;
  /** Kill the process but keep its port and directory; `start()` brings it back. */
  halt(): Promise<void>;
  /** Start again after `halt()` (same port). */
  start(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file fsynced on every write, so a restart (even after SIGKILL) keeps the data. */
  persistent?: boolean;
  /** `requirepass`: the URL then carries it (`redis://:<password>@…`). */
  password?: string;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-redis-'));
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
        ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
        ...(options.password ? ['--requirepass', options.password] : []),
      ],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    await (options.password ? waitForAuthenticatedPing(port, options.password) : waitForPing(port));
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await launch();
  return {
    url: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await launch();
    },
    halt: stop,
    start: launch,
  };
}

async function waitForAuthenticatedPing(port: number, password: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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
