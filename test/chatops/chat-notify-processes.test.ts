// Chat notifications with two engine processes on one Redis, each with its own notifier: every
// release is announced once per event and platform.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Definition, Step } from '../../src/core/definition.js';
import { isLive } from '../../src/core/release.js';
import { createEngine, type Engine } from '../../src/engine/create-engine.js';
import { startChatServer, type ChatServer } from '../support/chat-server.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { waitFor } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { url: redisUrl, prefix } = testRedis();
let chat: ChatServer;
const children: ChildProcess[] = [];
/** Not started: only used to trigger and read (its workers never run). */
let client: Engine;

/** One pre-bundled file starts much faster than tsx compiling the tree in each child. */
async function childArgs(): Promise<string[]> {
  const entry = join(root, 'test', 'support', 'chat-notify-engine.ts');
  const outfile = join(root, 'node_modules', '.cache', 'canarybot', 'chat-notify-engine.mjs');
  try {
    const esbuild = await import('esbuild');
    mkdirSync(dirname(outfile), { recursive: true });
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile,
      logLevel: 'error',
    });
    return [outfile];
  } catch {
    return ['--import', 'tsx', entry];
  }
}

function startChild(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`engine process exited early (${code})`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  chat = await startChatServer();
  const env = { REDIS_URL: redisUrl, CHAT_PREFIX: prefix, SLACK_WEBHOOK_URL: `${chat.url}/hooks/slack`, MATTERMOST_WEBHOOK_URL: `${chat.url}/hooks/mattermost` };
  const args = await childArgs();
  await Promise.all([startChild(args, env), startChild(args, env)]);
  client = createEngine({ redisUrl, prefix, ports: fakePorts() });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.all(children.map(stopChild));
  await chat?.close();
});

const STEPS: Step[] = [
  { kind: 'setWeight', weight: 20 },
  { kind: 'analysis', count: 2 },
  { kind: 'setWeight', weight: 60 },
  { kind: 'setWeight', weight: 100 },
];

function definition(name: string): Definition {
  return { ...canaryDefinition({ name, steps: STEPS }), notify: { slack: { channel: '#releases' }, mattermost: { channel: 'releases' } } };
}

const texts = (path: string, service: string): string[] =>
  chat.postsTo(path).map((p) => (p.body as { text: string }).text).filter((text) => new RegExp(`\\*\\*?${service}\\*\\*?`).test(text));

describe('chat notifications from two engine processes', () => {
  it('announces each event of each release once per platform', async () => {
    const services = ['alpha', 'beta', 'gamma', 'delta-bad', 'omega-bad'];

    for (const service of services) await client.trigger(triggerFor(definition(service), `${service.slice(0, 4)}0001`));
    await waitFor(async () => {
      const releases = await client.list({ limit: 100 });
      return releases.length === services.length && releases.every((r) => !isLive(r.state));
    }, 30_000, 'every release to end');
    const expected = (service: string): number => (service.endsWith('-bad') ? 3 : 2);
    await chat.waitFor(() => services.every((s) => texts('/hooks/slack', s).length >= expected(s) && texts('/hooks/mattermost', s).length >= expected(s)), 10_000);
    // Give a late duplicate the chance to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));

    for (const path of ['/hooks/slack', '/hooks/mattermost']) {
      for (const service of services) {
        // Two replicas send independently, so only the set of messages is pinned, not their order.
        const kinds = texts(path, service).map((text) => text.split(' ')[0]).sort();
        const expectedKinds = service.endsWith('-bad') ? [':rocket:', ':x:', ':rewind:'] : [':rocket:', ':white_check_mark:'];
        expect({ path, service, kinds }).toEqual({ path, service, kinds: expectedKinds.sort() });
      }
    }
  });
});
