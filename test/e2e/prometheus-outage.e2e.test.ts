// Issue 13 proof: Prometheus stopped in the middle of an analysis, end to end — the real `canarybot
// serve`, the real Prometheus scraping an exporter of Istio metrics, a private redis-server and the
// Kubernetes and GitLab API test servers. Three releases are in their analysis at 20 % when
// Prometheus is killed:
//   - `patient` (consecutiveErrorLimit 60) waits: its checks are errors, never passes, its traffic
//     stays at 20 %; when Prometheus is started again its analysis goes on and it is promoted;
//   - `strict` (consecutiveErrorLimit 2) is rolled back once 3 checks in a row could not be
//     evaluated, and its note says why (Prometheus unreachable);
//   - `holding` (the same limit, onFailure: hold) is HELD at 20 %, and stays held after Prometheus is back.
// No release is promoted while Prometheus is away. The figures are printed.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startServeHarness, type ServeHarness } from '../support/serve-harness.js';
import { PROJECT, pipelineHook, progressNotes, routeWeights, seedNamespace, startWorld, waitUntil, webhookHeaders, type World, fastAnalysis, reviewsDefinition } from './world.js';

const SECRET = 'prometheus-outage-webhook-secret';
const SHA = 'e5f60718293a4b5c6d7e8f9012345678a1b2c3d4';
const CASES = {
  patient: { ns: 'bookinfo', limit: 60, onFailure: 'rollback' },
  strict: { ns: 'bookinfo-b', limit: 2, onFailure: 'rollback' },
  holding: { ns: 'bookinfo-c', limit: 2, onFailure: 'hold' },
} as const;
type Case = keyof typeof CASES;
const NAMES = Object.keys(CASES) as Case[];
/** Passed checks the analysis needs: far more than can pass between the first pass and the kill. */
const NEEDED_CHECKS = 8;

function definitionYaml(name: Case): string {
  const { ns, limit, onFailure } = CASES[name];
  return reviewsDefinition({
    name: `reviews-${name}`,
    namespace: ns,
    steps: ['setWeight: 20', 'analysis: {}', 'setWeight: 100'],
    spec: `  onFailure: ${onFailure}\n${fastAnalysis({ count: NEEDED_CHECKS, inconclusiveLimit: 20, consecutiveErrorLimit: limit })}`,
  });
}

interface Detail {
  id: string;
  service: string;
  namespace: string;
  state: string;
  phase: string;
  reason?: string | null;
  weights: { stable: number; canary: number };
  gates: { stepIndex: number; verdict: string; measurements: { name: string; verdict: string; message?: string }[] }[];
}

let redis: RedisServer;
let exporter: IstioExporter;
let prometheus: PrometheusServer;
let world: World;
let serve: ServeHarness;

beforeAll(async () => {
  [redis, exporter, world] = await Promise.all([startRedisServer(), startIstioExporter(), startWorld()]);
  for (const name of NAMES) {
    const { ns } = CASES[name];
    if (ns !== 'bookinfo') seedNamespace(world, ns);
    exporter.setTraffic('reviews-primary', { namespace: ns, rps: 40 });
    exporter.setTraffic('reviews-canary', { namespace: ns, rps: 40, errorRatio: 0 });
    writeFileSync(join(world.pipelinesDir, `reviews-${name}.yaml`), definitionYaml(name));
  }
  world.kube.clearRecord();
  // The world's own reviews.yaml polls Alertmanager; this proof needs only Prometheus.
  rmSync(join(world.pipelinesDir, 'reviews.yaml'));
  prometheus = await startPrometheus([exporter.target]);
  serve = await startServeHarness({
    env: {
      REDIS_URL: redis.url,
      GITLAB_URL: world.gitlab.url,
      GITLAB_TOKEN: world.gitlab.token,
      GITLAB_WEBHOOK_SECRET: SECRET,
      KUBECONFIG: world.kubeconfig,
      PIPELINES_DIR: world.pipelinesDir,
      PROMETHEUS_URL: prometheus.url,
      PUBLIC_URL: 'https://canarybot.example.com',
    },
  });
  await serve.start();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await prometheus?.close();
  await exporter?.close();
  await world?.close();
  await redis?.stop();
});

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${world.gitlab.token}` } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return (await response.json()) as T;
}

async function releases(): Promise<Record<Case, Detail>> {
  const { releases: list } = await api<{ releases: { id: string; service: string }[] }>('/api/releases');
  const byName = {} as Record<Case, Detail>;
  for (const name of NAMES) {
    const summary = list.find((release) => release.service === `reviews-${name}`);
    if (!summary) throw new Error(`no release of reviews-${name} yet`);
    byName[name] = await api<Detail>(`/api/releases/${summary.id}`);
  }
  return byName;
}

const prometheusCheck = (ready: unknown): unknown => (ready as { details?: { name: string }[] }).details?.find((check) => check.name === 'prometheus');
const verdicts = (release: Detail): string[] => release.gates.map((gate) => gate.verdict);
const count = (release: Detail, verdict: string): number => verdicts(release).filter((v) => v === verdict).length;

describe('Prometheus stopped mid-analysis', () => {
  it('never promotes blind: waits, rolls back or holds per the definition, and goes on when Prometheus is back', { timeout: 240_000 }, async () => {
    const delivered = await fetch(`${serve.url}/webhooks/gitlab`, { method: 'POST', headers: webhookHeaders(SECRET, 'Pipeline Hook'), body: JSON.stringify(pipelineHook(SHA, 1)) });
    expect(delivered.status).toBe(202);

    // Every release in its analysis with a first passed check, then Prometheus goes away.
    const before = await waitUntil('a passed check in every analysis', async () => {
      const all = await releases();
      return NAMES.every((name) => count(all[name], 'pass') >= 1) ? all : null;
    }, 90_000);
    await prometheus.stop();
    const stoppedAt = Date.now();
    const passedBefore = Object.fromEntries(NAMES.map((name) => [name, count(before[name], 'pass')])) as Record<Case, number>;
    for (const name of NAMES) expect(passedBefore[name], name).toBeLessThan(NEEDED_CHECKS);

    // The strict one rolls back and the holding one holds; the patient one keeps waiting, with
    // more errors in a row than the others were allowed.
    const during = await waitUntil('strict rolled back, holding held, patient past 4 errors', async () => {
      const all = await releases();
      return all.strict.state === 'rolled-back' && all.holding.phase === 'held' && count(all.patient, 'error') >= 4 ? all : null;
    }, 90_000);
    const outageMs = Date.now() - stoppedAt;
    expect(during.patient.state).toBe('progressing');
    expect(during.patient.weights).toEqual({ stable: 80, canary: 20 });
    expect(count(during.patient, 'pass')).toBe(passedBefore.patient);
    expect(verdicts(during.patient).slice(-4)).toEqual(['error', 'error', 'error', 'error']);
    expect(JSON.stringify(during.patient.gates.at(-1))).toContain('Prometheus unreachable');
    expect(during.strict.reason).toMatch(/3 checks in a row could not be evaluated \(consecutiveErrorLimit 2\).*Prometheus unreachable/);
    expect(routeWeights(world, CASES.strict.ns)).toEqual({ stable: 100 });
    expect(during.holding.state).toBe('paused');
    expect(routeWeights(world, CASES.holding.ns)).toEqual({ stable: 80, canary: 20 });
    for (const name of NAMES) expect(during[name].state, name).not.toBe('succeeded');
    // Readiness is about Redis only; `?verbose` says Prometheus is away.
    const readyDuring = await serve.get('/readyz?verbose');
    expect(readyDuring.status).toBe(200);
    expect(prometheusCheck(await readyDuring.json())).toMatchObject({ ok: false, error: expect.stringContaining('Prometheus unreachable') as unknown });

    await prometheus.start();
    const restartedAt = Date.now();
    const after = await waitUntil('patient promoted', async () => {
      const all = await releases();
      return ['succeeded', 'rolled-back', 'failed'].includes(all.patient.state) ? all : null;
    }, 90_000);
    const resumedMs = Date.now() - restartedAt;
    expect(after.patient.state).toBe('succeeded');
    expect(prometheusCheck(await (await serve.get('/readyz?verbose')).json())).toEqual({ name: 'prometheus', ok: true });
    expect(count(after.patient, 'pass')).toBe(NEEDED_CHECKS);
    expect(routeWeights(world, CASES.patient.ns)).toEqual({ stable: 100 });
    expect(after.strict.state).toBe('rolled-back');
    expect(after.holding).toMatchObject({ state: 'paused', phase: 'held' });
    expect(routeWeights(world, CASES.holding.ns)).toEqual({ stable: 80, canary: 20 });

    // What the MR says: the rollback's reason and the hold, each in its own release's note.
    const notes = await waitUntil('the notes to tell the outcome', () => {
      const mine = progressNotes(world, 1);
      const of = (release: Detail) => mine.find((note) => note.body.includes(`canarybot:release:${release.id}`))?.body ?? '';
      const texts = { patient: of(after.patient), strict: of(after.strict), holding: of(after.holding) };
      return /promoted/i.test(texts.patient) && /could not be evaluated/.test(texts.strict) && /HELD/.test(texts.holding) ? texts : null;
    }, 30_000);
    expect(notes.strict).toContain('Prometheus unreachable');
    expect(world.gitlab.statuses(PROJECT, SHA).filter((s) => s.name.endsWith('reviews-patient')).at(-1)?.status).toBe('success');

    process.stdout.write(
      `Prometheus stopped mid-analysis: down ${(outageMs / 1000).toFixed(1)} s; patient: ${count(after.patient, 'error')} error checks, ` +
        `promoted ${(resumedMs / 1000).toFixed(1)} s after Prometheus came back; strict: rolled back (${count(after.strict, 'error')} errors in a row); ` +
        `holding: HELD at 20 %; promoted while Prometheus was down: 0\n`,
    );
  });
});
