// `canarybot serve` start-up refusals, as a real process: a bad environment or an invalid
// definition stops it with exit code 2 and says what to fix, before anything is contacted.

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVIEWS_YAML } from '../e2e/world.js';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));

function canarybot(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'test/e2e/canarybot.ts', ...args], { cwd: ROOT_DIR, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const SERVE_ENV = {
  GITLAB_URL: 'http://127.0.0.1:9',
  GITLAB_TOKEN: 'glpat-not-used',
  GITLAB_WEBHOOK_SECRET: 'not-used',
  REDIS_URL: 'redis://127.0.0.1:9',
  KUBECONFIG: '/nonexistent',
};

let badDir: string;
let alertsDir: string;
/** Stands in for GitLab and Redis: counts every connection the bot opens. */
let listener: Server;
let connections = 0;
let listenerUrl: string;

beforeAll(async () => {
  badDir = mkdtempSync(join(tmpdir(), 'canarybot-serve-bad-'));
  cpSync(join(ROOT_DIR, 'test/fixtures/pipelines/three-mistakes.yaml'), join(badDir, 'three-mistakes.yaml'));
  alertsDir = mkdtempSync(join(tmpdir(), 'canarybot-serve-alerts-'));
  writeFileSync(join(alertsDir, 'reviews.yaml'), REVIEWS_YAML);
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  listenerUrl = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  rmSync(badDir, { recursive: true, force: true });
  rmSync(alertsDir, { recursive: true, force: true });
  await new Promise((resolve) => listener.close(resolve));
});

describe.concurrent('canarybot serve', { timeout: 100_000 }, () => {
  it('prints its help with every variable it reads', async () => {
    const { code, stdout } = await canarybot(['serve', '--help'], {});

    expect(code).toBe(0);
    expect(stdout).toContain('usage: canarybot serve');
    for (const name of ['GITLAB_WEBHOOK_SECRET', 'REDIS_URL', 'PROMETHEUS_URL', 'LOG_LEVEL']) expect(stdout).toContain(name);
  });

  it('stops with exit code 2 and one line naming a missing variable', async () => {
    const { code, stderr } = await canarybot(['serve'], { GITLAB_URL: 'http://127.0.0.1:9', GITLAB_TOKEN: 'glpat-x' });

    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(['canarybot: configuration error: GITLAB_WEBHOOK_SECRET: is required (or GITLAB_WEBHOOK_SECRET_FILE) to run canarybot serve']);
  });

  it('stops with exit code 2 and every located error when a definition is invalid', async () => {
    const { code, stderr } = await canarybot(['serve'], { ...SERVE_ENV, PIPELINES_DIR: badDir });
    const located = stderr.split('\n').filter((line) => /three-mistakes\.yaml:\d+:\d+: /.test(line));

    expect(code).toBe(2);
    expect(stderr).toContain('invalid pipeline definitions');
    expect(located.length).toBeGreaterThanOrEqual(3);
    expect(stderr).not.toContain('glpat-not-used');
  });

  it('stops with exit code 2 and one line naming ALERTMANAGER_URL and the definition when an analysis polls an Alertmanager that is not set, before connecting to anything', async () => {
    const env = { ...SERVE_ENV, GITLAB_URL: `http://${listenerUrl}`, REDIS_URL: `redis://${listenerUrl}`, PIPELINES_DIR: alertsDir };

    const { code, stderr } = await canarybot(['serve'], env);

    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      'canarybot: configuration error: ALERTMANAGER_URL: is not set, but pipeline reviews polls Alertmanager in analysis (spec.alerts); set ALERTMANAGER_URL or spec.analysis.provider.alertmanager.url',
    ]);
    expect(connections).toBe(0);
  });
});
