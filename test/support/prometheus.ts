import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface PrometheusServer {
  url: string;
  /** Stop the server (SIGKILL); `start` brings it back on the same port with the same data dir. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop for good and remove the data directory. */
  close(): Promise<void>;
}

/**
 * The real /usr/bin/prometheus on a free port, with a temporary config and TSDB, scraping the given
 * targets every second.
 */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: istio-exporter',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const proc = spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    proc.on('error', () => undefined);
    child = proc;
    await waitUntilReady(`${url}/-/ready`, proc, () => stderr);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await start();
  return {
    url,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitUntilReady(readyUrl: string, proc: ChildProcess, stderr: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${readyUrl}: process exited with ${proc.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${readyUrl} not ready within ${timeoutMs} ms: ${stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
