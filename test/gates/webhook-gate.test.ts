import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateEvaluator } from '../../src/gates/gate-evaluator.js';
import type { WebhookStep } from '../../src/gates/webhook-gate.js';
import { freePort } from '../support/free-port.js';
import { startHttpStub, type HttpStub } from './http-stub.js';
import { gateRelease } from './release-fixture.js';

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub();
});
afterAll(async () => {
  await stub.close();
});

const release = gateRelease({ canary: 'reviews-canary', stable: 'reviews-primary' });
const step = (extra: Partial<WebhookStep> = {}): WebhookStep => ({ kind: 'webhook', name: 'smoke', url: `${stub.url}/hooks/smoke?token=abc`, timeoutMs: 1_000, ...extra });
const evaluator = createGateEvaluator({ webhook: { env: { SMOKE_TOKEN: 's3cret' } }, now: () => 1234 });

describe('webhook gates', () => {
  it('POSTs the release and step as JSON with the bearer from the named env var; 2xx passes', async () => {
    stub.handle(() => ({ status: 200, body: '{"ok":true}' }));

    const result = await evaluator.callWebhook(release, step({ bearerEnv: 'SMOKE_TOKEN' }));

    expect(result).toEqual({
      verdict: 'pass',
      at: 1234,
      measurements: [{ name: 'webhook:smoke', verdict: 'pass', value: 200, threshold: 'HTTP 2xx', query: `POST ${stub.url}/hooks/smoke`, message: 'HTTP 200: {"ok":true}' }],
    });
    const request = stub.requests.at(-1)!;
    expect(request.headers.authorization).toBe('Bearer s3cret');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toMatchObject({
      release: { id: 'rel-1', service: 'reviews', namespace: 'bookinfo', image: 'registry.example.com/bookinfo/reviews:abcdef12', weights: { stable: 80, canary: 20 }, mergeRequest: { projectId: 7, iid: 3 } },
      step: { index: 1, name: 'smoke' },
    });
  });

  it('fails on a non-2xx status and shows the body, truncated', async () => {
    stub.handle(() => ({ status: 422, body: `smoke test failed: ${'x'.repeat(2_000)}`, contentType: 'text/plain' }));

    const result = await evaluator.callWebhook(release, step());

    expect(result.verdict).toBe('fail');
    const message = result.measurements[0]!.message!;
    expect(message.startsWith('HTTP 422: smoke test failed: xxx')).toBe(true);
    expect(message).toMatch(/… \(1519 more characters\)$/);
    expect(message.length).toBeLessThan(600);
    expect(stub.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('is an error, not a failure, on timeout', async () => {
    stub.handle(() => ({ status: 200, body: 'late', delayMs: 1_000 }));

    const result = await evaluator.callWebhook(release, step({ timeoutMs: 100 }));

    expect(result.verdict).toBe('error');
    expect(result.measurements[0]!.message).toBe('webhook unreachable: no answer within 100 ms');
  });

  it('is an error when nothing listens', async () => {
    const port = await freePort();

    const result = await evaluator.callWebhook(release, step({ url: `http://127.0.0.1:${port}/x` }));

    expect(result.verdict).toBe('error');
    expect(result.measurements[0]!.message).toMatch(/ECONNREFUSED/);
  });

  it('is an error without calling when the bearer env var is missing', async () => {
    const before = stub.requests.length;

    const result = await evaluator.callWebhook(release, step({ bearerEnv: 'NOT_SET' }));

    expect(result.measurements[0]).toMatchObject({ verdict: 'error', message: 'environment variable NOT_SET (bearer token) is not set, nor a readable NOT_SET_FILE' });
    expect(stub.requests.length).toBe(before);
  });

  it('reads the bearer from <bearerEnv>_FILE (a mounted Secret), trimmed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canarybot-bearer-'));
    writeFileSync(join(dir, 'token'), 'from-file-token\n');
    stub.handle(() => ({ status: 200, body: 'ok' }));
    const fromFile = createGateEvaluator({ webhook: { env: { SMOKE_TOKEN_FILE: join(dir, 'token') } }, now: () => 1234 });

    const result = await fromFile.callWebhook(release, step({ bearerEnv: 'SMOKE_TOKEN' }));
    rmSync(dir, { recursive: true, force: true });

    expect(result.verdict).toBe('pass');
    expect(stub.requests.at(-1)!.headers.authorization).toBe('Bearer from-file-token');
  });
});
