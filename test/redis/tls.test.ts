// rediss:// with a private CA made by openssl for the test: with REDIS_CA_FILE the bot connects
// (certificate verified), runs a release to approval and is ready; without it, the server's
// certificate is refused and /readyz says Redis is not reachable. Plain TCP is off on the server.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/server/create-bot.js';
import { freePort } from '../support/free-port.js';
import { startWorld, waitUntil, type World } from '../e2e/world.js';
import { deliver, pipeline, startBot } from './topology-helpers.js';

let dir: string;
let server: ChildProcess;
let port: number;
let world: World;
const bots: Bot[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canarybot-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=canarybot test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'redis.key', '-out', 'redis.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'redis.pem');
  port = await freePort();
  server = spawn(
    'redis-server',
    ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'redis.pem', '--tls-key-file', 'redis.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir],
    { cwd: dir, stdio: 'ignore' },
  );
  world = await startWorld();
}, 60_000);

afterAll(async () => {
  for (const bot of bots) await bot.close();
  await world?.close();
  server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rediss:// with a private CA', () => {
  it('verifies the server against REDIS_CA_FILE and runs a release', async () => {
    const bot = await waitUntil('the TLS Redis to accept the bot', async () => startBot(world, { REDIS_URL: `rediss://localhost:${port}`, REDIS_CA_FILE: join(dir, 'ca.pem') }), 20_000);
    bots.push(bot);

    const ready = await bot.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(await deliver(bot, pipeline('5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f', 3), 'Pipeline Hook')).toBe(202);
    const live = await waitUntil('the release to await approval', async () => {
      const [release] = await bot.engine.list({ state: 'live' });
      return release?.state === 'awaiting-approval' ? release : null;
    }, 30_000);
    expect(live.image).toMatch(/:5e6f7a8b$/);
  }, 60_000);

  it('refuses the server certificate without the CA', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const { redisConnections } = await import('../../src/redis/connect-redis.js');
    const client = redisConnections(loadConfig({ REDIS_URL: `rediss://localhost:${port}` }).redis).open({ maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    const errors: string[] = [];
    client.on('error', (error: Error) => errors.push(error.message));

    await expect(client.connect()).rejects.toThrow();
    client.disconnect();
    expect(errors.join('\n')).toMatch(/self[- ]signed|unable to (get|verify)/i);
  });
});
