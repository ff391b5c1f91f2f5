// GET /api/audit against a real engine (real Redis): a release's commands (accepted and refused,
// with the channel in the actor), gate verdicts and writes come out as JSON lines, oldest first,
// filtered by `since`.

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/create-engine.js';
import { buildApp } from '../../src/server/app.js';
import { auditRoute, type AuditLine } from '../../src/server/routes/audit.js';
import { canaryDefinition, triggerFor } from '../support/engine-definitions.js';
import { startTestEngine, waitFor, waitForEnd } from '../support/engine-harness.js';
import { fakePorts } from '../support/fakes.js';
import { testRedis } from '../support/redis.js';

let engine: Engine;
let app: FastifyInstance;
let releaseId = '';

beforeAll(async () => {
  const { url, prefix } = testRedis();
  engine = await startTestEngine({ redisUrl: url, prefix, ports: fakePorts() });
  app = await buildApp({ logger: false, routes: [auditRoute({ reader: engine })] });
  const definition = canaryDefinition({ steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'analysis', count: 1 }, { kind: 'approval' }, { kind: 'setWeight', weight: 100 }] });
  await engine.trigger(triggerFor(definition, 'a0d17000', { projectId: 42, iid: 3 }));
  const waiting = await waitFor(async () => (await engine.list({ service: 'reviews' })).find((r) => r.state === 'awaiting-approval'));
  releaseId = waiting.id;
  await engine.command({ verb: 'resume', actor: { username: 'mallory', channel: 'slack', chatUser: 'U123' }, releaseId, stepIndex: waiting.stepIndex });
  await engine.command({ verb: 'approve', actor: { username: 'mia', channel: 'gitlab', userId: 40 }, releaseId, stepIndex: waiting.stepIndex });
  await waitForEnd(engine, releaseId);
});

afterAll(async () => {
  await app.close();
  await engine.close();
});

function parse(body: string): AuditLine[] {
  return body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditLine);
}

describe('GET /api/audit', () => {
  it('streams every command, verdict and write as JSON lines, oldest first', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/audit' });
    const lines = parse(response.body).filter((line) => line.releaseId === releaseId);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(lines.map((line) => line.at)).toEqual([...lines.map((line) => line.at)].sort((a, b) => a - b));
    expect(lines.find((line) => line.action === 'refused')).toMatchObject({
      actor: { username: 'mallory', channel: 'slack', chatUser: 'U123' },
      detail: expect.stringContaining('resume: ') as unknown,
      service: 'reviews',
      mr: { projectId: 42, iid: 3 },
    });
    expect(lines.find((line) => line.action === 'approved')).toMatchObject({ actor: { username: 'mia', channel: 'gitlab' } });
    expect(lines.find((line) => line.action === 'check')?.detail).toMatch(/^check 1, 1\/1 passed: pass/);
    expect(lines.filter((line) => line.action === 'traffic').map((line) => line.detail)).toEqual(expect.arrayContaining([expect.stringContaining('canary 10') as unknown]));
    expect(lines.at(-1)).toMatchObject({ action: 'succeeded' });
    expect(lines[0]?.time).toBe(new Date(lines[0]?.at ?? 0).toISOString());
  });

  it('returns only entries at or after since (ISO or epoch ms), and refuses a bad since with 400', async () => {
    const all = parse((await app.inject({ method: 'GET', url: '/api/audit' })).body);
    const cut = all.find((line) => line.action === 'approved')?.at ?? 0;

    const byMs = parse((await app.inject({ method: 'GET', url: `/api/audit?since=${cut}` })).body);
    const byIso = parse((await app.inject({ method: 'GET', url: `/api/audit?since=${encodeURIComponent(new Date(cut).toISOString())}` })).body);
    const bad = await app.inject({ method: 'GET', url: '/api/audit?since=yesterday' });

    expect(byMs.length).toBeGreaterThan(0);
    expect(byMs.every((line) => line.at >= cut)).toBe(true);
    expect(byMs.some((line) => line.action === 'refused')).toBe(false);
    expect(byIso).toEqual(byMs);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: 'since must be an ISO 8601 date-time or epoch milliseconds' });
  });
});
