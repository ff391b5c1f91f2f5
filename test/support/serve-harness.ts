// The whole `canarybot serve` as a child process, for the reliability proofs: started from source
// (node --import tsx test/e2e/canarybot.ts serve) against the given Redis, Kubernetes and GitLab API
// test servers, and killed (SIGKILL) and started again as often as a test wants. Logs are kept.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeHarnessOptions {
  /** Environment of the bot (REDIS_URL, GITLAB_URL, KUBECONFIG, PIPELINES_DIR, secrets, …); PORT and HOST are set here. */
  env: Record<string, string>;
  /** How long one start may take to answer /readyz 200 (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ServeHarness {
  readonly url: string;
  /** Log lines of every process started so far (stdout and stderr). */
  readonly logs: string[];
  /** Processes started so far. */
  readonly starts: number;
  /** Start a process and wait until /readyz answers 200. */
  start(): Promise<void>;
  /** SIGKILL the running process (no shutdown of any kind) and wait for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait (the graceful path), for the end of a test. */
  stop(): Promise<void>;
  get(path: string): Promise<Response>;
}

export async function startServeHarness(options: ServeHarnessOptions): Promise<ServeHarness> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  let child: ChildProcess | null = null;
  let starts = 0;

  const gone = (process: ChildProcess): Promise<void> =>
    process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : new Promise((resolve) => process.once('exit', () => resolve()));

  const harness: ServeHarness = {
    url,
    logs,
    get starts() {
      return starts;
    },
    async start() {
      if (child) throw new Error('serve is already running');
      starts += 1;
      const started = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/canarybot.ts', 'serve'], {
        cwd: ROOT_DIR,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...options.env, HOST: '127.0.0.1', PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      const collect = (chunk: Buffer): void => {
        logs.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
      };
      started.stdout?.on('data', collect);
      started.stderr?.on('data', collect);
      const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
      for (;;) {
        if (started.exitCode !== null) throw new Error(`canarybot serve exited with ${started.exitCode}:\n${logs.slice(-20).join('\n')}`);
        const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`canarybot serve not ready after ${options.readyTimeoutMs ?? 60_000} ms:\n${logs.slice(-20).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill() {
      const running = child;
      child = null;
      if (!running) return;
      running.kill('SIGKILL');
      await gone(running);
    },
    async stop() {
      const running = child;
      child = null;
      if (!running) return;
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
      await gone(running);
      clearTimeout(timer);
    },
    get(path: string) {
      return fetch(`${url}${path}`);
    },
  };
  return harness;
}
