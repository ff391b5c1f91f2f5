import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusProvider } from '../../src/gates/prometheus.js';
import { freePort } from '../support/free-port.js';
import { startHttpStub, type HttpStub } from './http-stub.js';

// The provider's edge cases over real HTTP: what Prometheus (or a proxy in front of it) can answer.

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub();
});
afterAll(async () => {
  await stub.close();
});

const vector = (...values: string[]): string =>
  JSON.stringify({ status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000.1, v] })) } });

describe('createPrometheusProvider', () => {
  it('POSTs the query to /api/v1/query and parses string sample values', async () => {
    stub.handle(() => ({ status: 200, body: vector('99.25') }));
    const provider = createPrometheusProvider({ url: `${stub.url}/prom/` });

    const outcome = await provider.query('up{job="x"}');

    expect(outcome).toEqual({ kind: 'value', value: 99.25, series: 1 });
    const request = stub.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', url: '/prom/api/v1/query' });
    expect(new URLSearchParams(request.body).get('query')).toBe('up{job="x"}');
  });

  it.each([
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
  ])('parses %s', async (text, value) => {
    stub.handle(() => ({ status: 200, body: vector(text) }));

    const outcome = await createPrometheusProvider({ url: stub.url }).query('q');

    expect(outcome).toEqual({ kind: 'value', value, series: 1 });
  });

  it('reads scalar results and reports empty vectors', async () => {
    stub.handle(() => ({ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '7'] } }) }));
    expect(await createPrometheusProvider({ url: stub.url }).query('q')).toEqual({ kind: 'value', value: 7, series: 1 });

    stub.handle(() => ({ status: 200, body: vector() }));
    expect(await createPrometheusProvider({ url: stub.url }).query('q')).toEqual({ kind: 'empty' });
  });

  it.each([
    ['a 503 from a proxy', { status: 503, body: '<html>upstream unavailable</html>', contentType: 'text/html' }, /HTTP 503 with a non-JSON body/],
    ['a refused query', { status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }) }, /refused the query \(HTTP 400\) bad_data: parse error/],
    ['an unexpected shape', { status: 200, body: JSON.stringify({ status: 'success', data: { result: 'x' } }) }, /unexpected body/],
    ['a non-number sample', { status: 200, body: vector('lots') }, /not a number/],
    ['a matrix', { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }) }, /matrix/],
  ])('turns %s into an error outcome', async (_name, answer, message) => {
    stub.handle(() => answer);

    const outcome = await createPrometheusProvider({ url: stub.url }).query('q');

    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && outcome.message).toMatch(message);
  });

  it('gives up after the timeout with an error outcome', async () => {
    stub.handle(() => ({ status: 200, body: vector('1'), delayMs: 2_000 }));

    const outcome = await createPrometheusProvider({ url: stub.url, timeoutMs: 100 }).query('q');

    expect(outcome).toEqual({ kind: 'error', message: 'Prometheus unreachable: no answer within 100 ms' });
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();

    const outcome = await createPrometheusProvider({ url: `http://127.0.0.1:${port}` }).query('q');

    expect(outcome.kind === 'error' && outcome.message).toMatch(/Prometheus unreachable: .*ECONNREFUSED/);
  });
});
