import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { readinessRoute, type ReadinessCheck } from '../../src/server/routes/readiness.js';

async function readyz(checks: ReadinessCheck[]) {
  const app = await buildApp({ logger: false, routes: [readinessRoute({ checks: () => checks, timeoutMs: 100 })] });
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  await app.close();
  return { status: response.statusCode, body: response.json() as unknown };
}

const ok = (name: string): ReadinessCheck => ({ name, probe: async () => true });

describe('GET /readyz', () => {
  it('is 200 with every check when all pass', async () => {
    expect(await readyz([ok('redis'), ok('cluster:default')])).toEqual({
      status: 200,
      body: { ok: true, checks: [{ name: 'redis', ok: true }, { name: 'cluster:default', ok: true }] },
    });
  });

  it.each([
    ['answers false', async () => false, 'unreachable'],
    ['throws', async () => Promise.reject(new Error('ECONNREFUSED')), 'ECONNREFUSED'],
    ['does not answer in time', () => new Promise<boolean>(() => undefined), 'no answer within 100 ms'],
  ])('is 503 naming the check that %s', async (_case, probe, error) => {
    const result = await readyz([ok('redis'), { name: 'cluster:eu', probe }]);

    expect(result).toEqual({
      status: 503,
      body: { ok: false, failed: ['cluster:eu'], checks: [{ name: 'redis', ok: true }, { name: 'cluster:eu', ok: false, error }] },
    });
  });
});

describe('GET /readyz?verbose', () => {
  async function verbose(url: string, checks: ReadinessCheck[], details: ReadinessCheck[]) {
    const app = await buildApp({ logger: false, routes: [readinessRoute({ checks: () => checks, verboseChecks: () => details, timeoutMs: 100 })] });
    const response = await app.inject({ method: 'GET', url });
    await app.close();
    return { status: response.statusCode, body: response.json() as unknown };
  }
  const down = (name: string): ReadinessCheck => ({ name, probe: async () => false });

  it('stays ready when only a detail (a remote cluster) fails, and names it', async () => {
    expect(await verbose('/readyz?verbose', [ok('redis')], [ok('cluster:default'), down('cluster:eu')])).toEqual({
      status: 200,
      body: { ok: true, checks: [{ name: 'redis', ok: true }], details: [{ name: 'cluster:default', ok: true }, { name: 'cluster:eu', ok: false, error: 'unreachable' }] },
    });
  });

  it('leaves details out without ?verbose', async () => {
    expect(await verbose('/readyz', [ok('redis')], [down('cluster:eu')])).toEqual({ status: 200, body: { ok: true, checks: [{ name: 'redis', ok: true }] } });
  });

  it('is unready on Redis whatever the details say', async () => {
    expect(await verbose('/readyz?verbose=1', [down('redis')], [ok('cluster:eu')])).toEqual({
      status: 503,
      body: { ok: false, failed: ['redis'], checks: [{ name: 'redis', ok: false, error: 'unreachable' }], details: [{ name: 'cluster:eu', ok: true }] },
    });
  });
});
