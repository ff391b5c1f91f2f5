import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitUntilReady } from './prometheus.js';

export interface TestAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

export interface AlertmanagerServer {
  url: string;
  /** POST /api/v2/alerts, as Prometheus would. */
  push(alerts: TestAlert[]): Promise<void>;
  /** Push the alerts again with endsAt in the past: resolved. */
  resolve(alerts: TestAlert[]): Promise<void>;
  close(): Promise<void>;
}

/** The real /usr/bin/prometheus-alertmanager on a free port, clustering off, tmp config and storage. */
export async function startAlertmanager(): Promise<AlertmanagerServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, ['route:', '  receiver: blackhole', '  group_wait: 1s', 'receivers:', '  - name: blackhole', ''].join('\n'));
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    '/usr/bin/prometheus-alertmanager',
    [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  proc.on('error', () => undefined);
  await waitUntilReady(`${url}/-/ready`, proc, () => stderr);

  const post = async (alerts: TestAlert[]): Promise<void> => {
    const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    if (!response.ok) throw new Error(`alertmanager refused alerts: HTTP ${response.status} ${await response.text()}`);
  };

  return {
    url,
    push: post,
    resolve: (alerts) => {
      const past = new Date(Date.now() - 1_000).toISOString();
      return post(alerts.map((a) => ({ ...a, startsAt: a.startsAt ?? new Date(Date.now() - 60_000).toISOString(), endsAt: past })));
    },
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
