// The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
// `canarybot serve` on a real redis-server, with the Kubernetes and GitLab API test servers:
//   sign in with a token (a wrong one shows GitLab's refusal) → a release appears and moves live →
//   the Developer sees no Approve button → the bot restarts and the board reconnects → the
//   Maintainer approves with a click and the release is promoted → its page shows the steps,
//   charts and audit → an alert rolls the next release back and the board shows the reason → a
//   GitLab deploy freeze holds a new release and the Maintainer overrides it with a reason → an
//   expired GitLab sign-in is renewed with its refresh token without signing the user out.
// Screenshots of the board and a release page are written to .tmp/dashboard-screenshots/ (and,
// with UPDATE_SCREENSHOTS=1, to docs/ for the README).

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/free-port.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALICE, deploymentState, IMAGE, pipelineHook, PROJECT, PROJECT_PATH, ROOT, routeWeights, startWorld, waitUntil, webhookHeaders, type World } from '../e2e/world.js';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT_DIR, '.tmp', 'dashboard-screenshots');
const WEBHOOK_SECRET = 'browser-gitlab-webhook-secret';
const ALERT_SECRET = 'browser-alert-webhook-secret';
const TOKENS = { root: 'glpat-root-browser-test', alice: 'glpat-alice-browser-test' };
const OAUTH = { clientId: 'canarybot-dashboard', clientSecret: 'browser-oauth-secret' };
const SHA = { promoted: 'd4e5f60718293a4b5c6d7e8f9012345678a1b2c3', alerted: 'e5f60718293a4b5c6d7e8f9012345678a1b2c3d4', frozen: 'f60718293a4b5c6d7e8f9012345678a1b2c3d4e5' };

/** Steps that take a few seconds without Prometheus: weights move, then an approval. */
const DEFINITION = `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: reviews
spec:
  trigger: { project: ${PROJECT_PATH}, branch: master, image: ${IMAGE}, tag: short-sha }
  target:
    cluster: default
    namespace: bookinfo
    virtualService: reviews
    route: primary
    host: reviews
    stable: { subset: stable, deployment: reviews-primary }
    canary: { subset: canary, deployment: reviews-canary, container: reviews }
    settle: 1s
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: { duration: 2s }
        - setWeight: 30
        - approval: {}
        - setWeight: 100
  alerts:
    - alertmanager: { matchers: ['service="reviews"', 'severity="critical"'] }
  approvals:
    minAccessLevel: maintainer
    allowAuthor: false
`;

let redis: RedisServer;
let world: World;
let browser: Browser;
let bot: ChildProcess | null = null;
let port: number;
let baseUrl: string;
const output: string[] = [];

async function startBot(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/canarybot.ts', 'serve'], {
    cwd: ROOT_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ALERT_WEBHOOK_SECRET: ALERT_SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PUBLIC_URL: baseUrl,
      GRAFANA_URL: 'https://grafana.example.com',
      GITLAB_OAUTH_CLIENT_ID: OAUTH.clientId,
      GITLAB_OAUTH_CLIENT_SECRET: OAUTH.clientSecret,
      FREEZE_REFRESH: '1s',
      // Short, so a token GitLab expired is asked about again within the test.
      API_TOKEN_CACHE: '1s',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  bot = child;
  await waitUntil('canarybot serve to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`canarybot exited with ${child.exitCode}:\n${output.join('')}`);
    return (await fetch(`${baseUrl}/readyz`).catch(() => null))?.status === 200;
  }, 45_000);
}

async function stopBot(): Promise<void> {
  const child = bot;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

beforeAll(async () => {
  [redis, world] = await Promise.all([startRedisServer(), startWorld()]);
  writeFileSync(join(world.pipelinesDir, 'reviews.yaml'), DEFINITION);
  world.gitlab.seed({
    tokens: [
      { token: TOKENS.root, userId: ROOT.id, scopes: ['read_user'] },
      { token: TOKENS.alice, userId: ALICE.id, scopes: ['read_user'] },
    ],
  });
  port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  world.gitlab.oauth.addApplication({ ...OAUTH, redirectUri: `${baseUrl}/auth/gitlab/callback` });
  [browser] = await Promise.all([launchChromium(), startBot()]);
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopBot();
  await world?.close();
  await redis?.stop();
});

async function signedIn(token: string, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, baseURL: baseUrl });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('GitLab access token').fill(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${baseUrl}/`);
  return { context, page };
}

/** Signed in to GitLab as `user`, the tab goes through "Sign in with GitLab" and lands on the board. */
async function signedInWithGitLab(user: { id: number; username: string }): Promise<{ context: BrowserContext; page: Page }> {
  world.gitlab.oauth.signIn(user.id);
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with GitLab' }).click();
  await page.waitForURL(`${baseUrl}/`);
  await expect.poll(() => page.locator('.username').textContent()).toBe(`@${user.username}`);
  return { context, page };
}

async function deliver(path: string, body: unknown, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })).status;
}

function card(page: Page, image: string) {
  return page.locator('article.card', { hasText: image.split('/').at(-1) as string });
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(SHOTS, name);
  await page.screenshot({ path: file, fullPage: true });
  // Something was drawn: a blank page compresses to a few hundred bytes.
  expect(statSync(file).size).toBeGreaterThan(15_000);
  if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(file, join(ROOT_DIR, 'docs', name));
}

describe('the dashboard in Chromium', () => {
  let maintainer: Page;
  let developer: Page;
  const image = `${IMAGE}:${SHA.promoted.slice(0, 8)}`;

  it('refuses a wrong token with the bot’s sentence, signs a Maintainer in with a pasted token', async () => {
    const context = await browser.newContext({ baseURL: baseUrl });
    const page = await context.newPage();
    await page.goto('/signin');
    await page.getByLabel('GitLab access token').fill('glpat-nobody');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    const error = await page.getByRole('alert').textContent();
    await context.close();

    ({ page: maintainer } = await signedIn(TOKENS.root));

    expect(error).toMatch(/GitLab does not accept this token/);
    await expect.poll(() => maintainer.locator('.username').textContent()).toBe('@root');
    await expect.poll(() => maintainer.locator('.live-status').textContent()).toBe('live');
  });

  it('signs in with GitLab (OAuth): GitLab sends the browser back and the board knows the user', async () => {
    const { context, page } = await signedInWithGitLab(ALICE);
    const url = page.url();
    await context.close();

    expect(url).toBe(`${baseUrl}/`);
  });

  it('shows a release appear and move live, waiting for a Maintainer; the Developer gets no Approve button', async () => {
    ({ page: developer } = await signedIn(TOKENS.alice));

    expect(await deliver('/webhooks/gitlab', pipelineHook(SHA.promoted, 1), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'))).toBe(202);

    // No reload: each of these arrives over the event stream.
    const row = card(maintainer, image);
    await row.getByText('canary 10%').waitFor({ timeout: 20_000 });
    await row.getByText('canary 30%').waitFor({ timeout: 20_000 });
    await row.getByText('awaiting approval').waitFor({ timeout: 20_000 });
    await row.getByText(/Waiting for approval of step 4 by a maintainer or higher/).waitFor();
    await row.getByRole('button', { name: 'Approve' }).waitFor();
    await card(developer, image).getByText('awaiting approval').waitFor({ timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));

    // alice is a Developer (and the MR's author): the policy lets her abort her own release, never approve it.
    expect(await card(developer, image).getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await card(developer, image).getByRole('button', { name: 'Promote' }).count()).toBe(0);
    expect(await row.locator('.card-step').textContent()).toBe('step 4/5 · approval');
    expect(await row.getByRole('img', { name: /^Traffic:/ }).getAttribute('aria-label')).toBe('Traffic: stable 70 %, canary 30 %');
    await screenshot(maintainer, 'dashboard-board.png');
  });

  // Restarts `serve` (through tsx: several seconds, more on a loaded machine), so more than the default 30 s.
  it('reconnects after the bot restarts, and a click on Approve moves the release on to promotion', { timeout: 120_000 }, async () => {
    await stopBot();
    await expect.poll(() => maintainer.locator('.live-status').textContent(), { timeout: 10_000 }).toBe('reconnecting…');
    await startBot();
    await expect.poll(() => maintainer.locator('.live-status').textContent(), { timeout: 20_000 }).toBe('live');

    const approve = card(maintainer, image).getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 10_000 });
    await approve.click();
    await maintainer.getByRole('status').filter({ hasText: /approv/i }).first().waitFor({ timeout: 15_000 });
    await card(maintainer, image).getByText('promoted').waitFor({ timeout: 30_000 });

    expect(routeWeights(world)).toEqual({ stable: 100 });
    expect(deploymentState(world, 'reviews-primary').image).toBe(image);
    expect(await maintainer.locator('#ended-heading').textContent()).toBe('Recently ended');
  });

  it('shows the release page: steps with durations, charts, the audit with the API approval, links', async () => {
    await card(maintainer, image).getByRole('link', { name: 'reviews' }).click();
    await maintainer.getByRole('heading', { name: /reviews/ , level: 1 }).waitFor();
    await maintainer.locator('table.audit').getByText('@root (api)').first().waitFor({ timeout: 10_000 });

    const steps = await maintainer.locator('.timeline .step').allTextContents();
    expect(steps).toHaveLength(5);
    expect(steps.every((text) => text.includes('done'))).toBe(true);
    expect(await maintainer.locator('.timeline .step-duration').first().textContent()).toMatch(/^\d+s$/);
    expect(await maintainer.locator('figure.chart svg path.series.canary').count()).toBeGreaterThan(0);
    expect(await maintainer.getByRole('link', { name: 'Grafana' }).getAttribute('href')).toMatch(/^https:\/\/grafana\.example\.com\//);
    await screenshot(maintainer, 'dashboard-release.png');
  });

  it('shows a rollback with its reason when an alert fires, and stays readable on a phone', async () => {
    const next = `${IMAGE}:${SHA.alerted.slice(0, 8)}`;
    const { page: phone } = await signedIn(TOKENS.alice, { width: 390, height: 844 });
    const alert = JSON.parse(readFileSync(new URL('../fixtures/alertmanager/webhook-firing.json', import.meta.url), 'utf8')) as { alerts: { startsAt: string }[] };
    (alert.alerts[0] as { startsAt: string }).startsAt = new Date().toISOString();

    await deliver('/webhooks/gitlab', pipelineHook(SHA.alerted, 2), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    await card(phone, next).getByText('canary 10%').waitFor({ timeout: 20_000 });
    expect(await deliver('/webhooks/alertmanager', alert, { 'content-type': 'application/json', authorization: `Bearer ${ALERT_SECRET}` })).toBe(202);
    const reason = card(phone, next).locator('.reason');
    await reason.waitFor({ timeout: 20_000 });
    await card(phone, next).getByText('rolled back').waitFor({ timeout: 20_000 });

    expect(await reason.textContent()).toMatch(/^alert ReviewsHighErrorRate fired/);
    expect(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(phone, 'dashboard-phone.png');
  });

  it('holds a new release on a GitLab deploy freeze; the Maintainer overrides it with a reason and it starts', async () => {
    const frozen = `${IMAGE}:${SHA.frozen.slice(0, 8)}`;
    const freeze = await fetch(`${world.gitlab.url}/api/v4/projects/${PROJECT}/freeze_periods`, {
      method: 'POST',
      headers: { 'private-token': world.gitlab.token, 'content-type': 'application/json' },
      body: JSON.stringify({ freeze_start: '* * * * *', freeze_end: '0 0 1 1 *', cron_timezone: 'UTC' }),
    });
    expect(freeze.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    await maintainer.goto('/');
    await deliver('/webhooks/gitlab', pipelineHook(SHA.frozen, 3), webhookHeaders(WEBHOOK_SECRET, 'Pipeline Hook'));
    const row = card(maintainer, frozen);
    await row.getByText(/Waiting to start: a GitLab deploy freeze/).waitFor({ timeout: 20_000 });
    const override = row.getByRole('button', { name: 'Override freeze…' });
    await override.waitFor({ timeout: 10_000 });
    await card(developer, frozen).getByText(/Waiting to start: a GitLab deploy freeze/).waitFor({ timeout: 10_000 });
    const developerSees = await card(developer, frozen).getByRole('button', { name: 'Override freeze…' }).count();

    await override.click();
    const submit = row.getByRole('button', { name: 'Override for this release' });
    const disabledWithoutReason = await submit.isDisabled();
    await row.getByLabel(/Why release reviews through the freeze\?/).fill('hotfix for INC-7');
    await submit.click();
    // The bot's answer: done, or (a busy release) accepted with the outcome to follow in the audit.
    const answer = row.getByRole('status').filter({ hasText: /no longer hold reviews|Accepted/ });
    await answer.waitFor({ timeout: 15_000 });
    // The card names its first step (canary 10%) while it waits, so the traffic bar says it moved.
    await row.getByRole('img', { name: /^Traffic: stable (90|70) %, canary (10|30) %$/ }).waitFor({ timeout: 20_000 });
    const weights = await waitUntil('canary traffic in the VirtualService', () => ((routeWeights(world).canary ?? 0) >= 10 ? routeWeights(world) : null));

    expect(developerSees).toBe(0);
    expect(disabledWithoutReason).toBe(true);
    expect(weights.canary).toBeGreaterThanOrEqual(10);
  });

  it('renews an expired GitLab sign-in with its refresh token on the next call, without signing the user out', async () => {
    const { context, page } = await signedInWithGitLab(ALICE);
    const storedToken = () => page.evaluate<string | null>("sessionStorage.getItem('canarybot.token')");
    const before = await storedToken();
    const refreshes = world.gitlab.oauth.refreshes;

    // Two hours on: GitLab answers 401 "Token is expired" for the access token; the bot's cache of it lapses.
    world.gitlab.expireOAuthTokens();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('table.history').getByText('rolled back').first().waitFor({ timeout: 15_000 });
    const after = await storedToken();
    const url = page.url();
    const username = await page.locator('.username').textContent();
    await context.close();

    expect(world.gitlab.oauth.refreshes).toBe(refreshes + 1);
    expect(after).not.toBe(before);
    expect(after).toMatch(/^gloas-/);
    expect(url).toBe(`${baseUrl}/history`);
    expect(username).toBe('@alice');
  });
});
