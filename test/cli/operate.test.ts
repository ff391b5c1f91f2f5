// The operator CLI against the whole bot over real HTTP (createBot on a private redis-server with the
// Kubernetes and GitLab API test servers): get, describe and the release commands as the GitLab user
// of CANARYBOT_TOKEN, exit codes 0/1/2, NO_COLOR, --watch, completion.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAct } from '../../src/cli/act.js';
import { completionScript } from '../../src/cli/completion.js';
import { runDescribe } from '../../src/cli/describe.js';
import { runGet } from '../../src/cli/get.js';
import type { CliIo } from '../../src/cli/io.js';
import { actCommand } from '../../src/cli/operate.js';
import { loadConfig } from '../../src/config.js';
import type { Release } from '../../src/core/release.js';
import { createBot, type Bot } from '../../src/server/create-bot.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALICE, pipelineHook, ROOT, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';
import { healthyMetrics as healthy, quietAlertmanager } from '../support/healthy-gates.js';

const SECRET = 'cli-webhook-secret';
const TOKENS = { root: 'glpat-root-cli', alice: 'glpat-alice-cli' };
let world: World;
let redis: RedisServer;
let bot: Bot;
let url: string;
let waiting: Release;

beforeAll(async () => {
  world = await startWorld();
  world.gitlab.seed({ tokens: [{ token: TOKENS.root, userId: ROOT.id }, { token: TOKENS.alice, userId: ALICE.id }] });
  redis = await startRedisServer();
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    REDIS_URL: redis.url,
    GITLAB_URL: world.gitlab.url,
    GITLAB_TOKEN: world.gitlab.token,
    GITLAB_WEBHOOK_SECRET: SECRET,
    KUBECONFIG: world.kubeconfig,
    PIPELINES_DIR: world.pipelinesDir,
    LOG_LEVEL: 'silent',
  });
  bot = await createBot(config, {
    metricProvider: healthy,
    alertGate: quietAlertmanager,
    writebackPollMs: 50,
    engine: { timing: { lockTtlMs: 2_000, jobLockMs: 2_000, stalledIntervalMs: 1_000, recoverIntervalMs: 1_000 } },
  });
  await bot.start();
  url = await bot.listen();
  await bot.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: webhookHeaders(SECRET, 'Pipeline Hook'), payload: pipelineHook('7e6d5c4b3a29180716f5e4d3c2b1a09876543210', 3) });
  waiting = await waitUntil('the release to await approval', async () => {
    const [release] = await bot.engine.list({ state: 'live' });
    return release?.state === 'awaiting-approval' ? release : null;
  });
}, 60_000);

afterAll(async () => {
  await bot?.close();
  await redis?.stop();
  await world?.close();
});

function io(env: Record<string, string | undefined>, tty = false): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: { write: (text: string) => out.push(text), isTTY: tty } as CliIo['stdout'],
    stderr: { write: (text: string) => err.push(text) },
    env,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

const as = (token: string) => ({ CANARYBOT_URL: url, CANARYBOT_TOKEN: token, NO_COLOR: '1' });

describe('canarybot get', () => {
  it('prints NAME, AGE, STATE, STEP, WEIGHTS and WAITING FOR', async () => {
    const cli = io(as(TOKENS.alice));

    const code = await runGet([], cli);

    expect(code).toBe(0);
    const [header, row] = cli.out().trimEnd().split('\n');
    expect(header).toMatch(/^NAME\s+AGE\s+STATE\s+STEP\s+WEIGHTS\s+WAITING FOR$/);
    expect(row).toMatch(/^bookinfo\/reviews\s+\d+s\s+awaiting-approval\s+3\/4\s+stable 80 \/ canary 20\s+\S/);
    expect(cli.out()).not.toContain('\u001b[');
  });

  it('-o wide adds cluster, strategy, image and id; -o json is the API rows', async () => {
    const wide = io(as(TOKENS.alice));
    const json = io(as(TOKENS.alice));

    await runGet(['-o', 'wide'], wide);
    await runGet(['reviews', '-o', 'json'], json);

    expect(wide.out()).toContain(waiting.id);
    expect(wide.out()).toContain(waiting.image);
    expect((JSON.parse(json.out()) as { releases: { id: string }[] }).releases[0]?.id).toBe(waiting.id);
  });

  it('--watch redraws in place on a terminal, colours the state unless NO_COLOR', async () => {
    const cli = io({ CANARYBOT_URL: url, CANARYBOT_TOKEN: TOKENS.alice }, true);

    await runGet(['--watch', '--interval', '0.01'], cli, { rounds: 2 });

    expect(cli.out().split('\u001b[H\u001b[J')).toHaveLength(3);
    expect(cli.out()).toContain('\u001b[33mawaiting-approval');
  });

  it('exits 2 on usage and configuration errors, 1 on a token GitLab refuses', async () => {
    const noUrl = io({ CANARYBOT_TOKEN: TOKENS.alice });
    const badOption = io(as(TOKENS.alice));
    const badToken = io(as('glpat-nope'));

    expect(await runGet([], noUrl).catch((e: { exitCode: number }) => e.exitCode)).toBe(2);
    expect(await runGet(['-o', 'table'], badOption).catch((e: { exitCode: number }) => e.exitCode)).toBe(2);
    expect(await runGet([], badToken).catch((e: { exitCode: number; message: string }) => [e.exitCode, e.message])).toEqual([
      1,
      'GitLab does not accept this token (unknown, expired, revoked, without read_user scope, or its user is blocked).',
    ]);
  });
});

describe('canarybot describe', () => {
  it('shows steps, checks with their figures, and the audit, by service name or id', async () => {
    const byName = io(as(TOKENS.alice));
    const byId = io(as(TOKENS.alice));

    expect(await runDescribe(['reviews'], byName)).toBe(0);
    await runDescribe([waiting.id], byId);

    expect(byName.out()).toBe(byId.out());
    expect(byName.out()).toMatch(/^Name:\s+default\/bookinfo\/reviews$/m);
    expect(byName.out()).toContain('Steps:');
    expect(byName.out()).toMatch(/request-success-rate: 100 /);
    expect(byName.out()).toContain('Audit:');
  });
});

describe('canarybot approve|promote|abort|…', () => {
  it('override-freeze needs --reason (exit 2, nothing sent); with one, a Maintainer lifts freezes for the release (exit 0)', async () => {
    const root = io(as(TOKENS.root));

    const usage = await runAct('override-freeze', ['reviews'], root).catch((e: { exitCode: number; message: string }) => [e.exitCode, e.message]);
    const untouched = await bot.engine.get(waiting.id);
    const lifted = await runAct('override-freeze', ['reviews', '--reason', 'hotfix for INC-7'], root);

    expect(usage).toEqual([2, 'override-freeze needs --reason <text> (it is audited)']);
    expect(untouched?.freezeOverride ?? null).toBeNull();
    expect(lifted).toBe(0);
    expect(root.out()).toBe(`Freezes and deny windows no longer hold reviews (release ${waiting.id}); audited: hotfix for INC-7.\n`);
    expect((await bot.engine.get(waiting.id))?.freezeOverride).toMatchObject({ actor: { username: 'root', channel: 'api' }, reason: 'hotfix for INC-7' });
  });

  it('refuses the MR author with the MR-comment sentence and exit 1, then a Maintainer approves with exit 0', async () => {
    const alice = io(as(TOKENS.alice));
    const root = io(as(TOKENS.root));

    const refused = await runAct('approve', ['reviews'], alice);
    const approved = await runAct('approve', ['reviews'], root);

    expect(refused).toBe(1);
    expect(alice.err()).toBe('Refused by approvals.allowAuthor: @alice wrote this merge request and cannot approve its release.\n');
    expect(approved).toBe(0);
    expect(root.out()).toBe(`Approved step 3 of reviews (${waiting.image}); moving on.\n`);
  });

  it('exits 2 for a missing service and 1 when nothing is live', async () => {
    await waitUntil('the release to end', async () => (await bot.engine.get(waiting.id))?.endedAt ?? null, 30_000);
    const cli = io(as(TOKENS.root));
    const usage = await actCommand('abort').run([]);

    expect(usage).toBe(2);
    expect(await runAct('abort', ['reviews', '--reason', 'test'], cli).catch((e: { exitCode: number; message: string }) => [e.exitCode, e.message])).toEqual([1, 'no live release of reviews']);
  });
});

describe('canarybot completion', () => {
  it.each(['bash', 'zsh'])('prints a %s script naming every command', (shell) => {
    const script = completionScript(shell);

    expect(script).toContain('complete -o default -F _canarybot canarybot');
    for (const command of ['get', 'describe', 'approve', 'promote', 'abort', 'pause', 'resume', 'retry', 'override-freeze']) expect(script).toContain(command);
  });

  it('gives bash a script it parses and that completes a command and -o', () => {
    const run = (line: string): string => {
      const words = line.split(' ');
      const probe = `${completionScript('bash')}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _canarybot; echo "\${COMPREPLY[*]}"`;
      return spawnSync('bash', ['-c', probe], { encoding: 'utf8' }).stdout.trim();
    };

    expect(run('canarybot appr')).toBe('approve');
    expect(run('canarybot get -o w')).toBe('wide');
    expect(run('canarybot abort --r')).toBe('--reason');
    expect(run('canarybot plan reviews --dif')).toBe('--diff --diff-format');
    expect(run('canarybot plan reviews --diff --diff-format j')).toBe('json-patch');
  });
});

describe('canarybot --version', () => {
  it("prints the package's version and exits 0", () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/e2e/canarybot.ts', '--version'], { encoding: 'utf8' });

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^canarybot \d+\.\d+\.\d+\n$/);
  });
});
