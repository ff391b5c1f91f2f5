import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Definition } from '../../src/core/definition.js';
import { createGateProviders, definitionsMissingAlertmanager } from '../../src/gates/gate-providers.js';
import { reviewsAnalysis, reviewsDefinition } from '../support/release-fixture.js';
import { startHttpStub, type HttpStub } from './http-stub.js';

// Which Prometheus and Alertmanager each definition talks to, with which credentials and tenant
// headers: resolved at start-up, every credential handed to the logger's mask.

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub();
  stub.handle(() => ({ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '1'] }] } }) }));
});
afterAll(async () => {
  await stub.close();
});

const tenant = (name: string, provider: Definition['analysis']['provider']): Definition => reviewsDefinition({ name, analysis: { ...reviewsAnalysis(), ...(provider ? { provider } : {}) } });

describe('createGateProviders', () => {
  it('sends the bot-wide token and headers, and a definition\'s own where it overrides them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canarybot-providers-'));
    writeFileSync(join(dir, 'token'), 'team-b-token\n');
    const config = loadConfig({ PROMETHEUS_URL: stub.url, PROMETHEUS_BEARER_TOKEN: 'bot-token', PROMETHEUS_HEADERS: 'X-Scope-OrgID=platform,X-Trace=1' });
    const definitions = [
      tenant('plain', undefined),
      tenant('team-a', { prometheus: { headers: { 'X-Scope-OrgID': 'team-a' }, basicAuthEnv: 'TEAM_A_AUTH' } }),
      tenant('team-b', { prometheus: { url: `${stub.url}/b/`, headers: { 'X-Scope-OrgID': 'team-b' }, bearerTokenEnv: 'TEAM_B_TOKEN' } }),
    ];

    const providers = createGateProviders(config, definitions, { TEAM_A_AUTH: 'alice:pa:ss', TEAM_B_TOKEN_FILE: join(dir, 'token') });
    for (const definition of definitions) await providers.metricsFor(definition)!.query('up');

    const [plain, teamA, teamB] = stub.requests.slice(-3);
    expect(plain).toMatchObject({ url: '/api/v1/query', headers: { authorization: 'Bearer bot-token', 'x-scope-orgid': 'platform', 'x-trace': '1' } });
    expect(teamA).toMatchObject({ url: '/api/v1/query', headers: { authorization: `Basic ${Buffer.from('alice:pa:ss').toString('base64')}`, 'x-scope-orgid': 'team-a', 'x-trace': '1' } });
    expect(teamB).toMatchObject({ url: '/b/api/v1/query', headers: { authorization: 'Bearer team-b-token', 'x-scope-orgid': 'team-b' } });
    expect(providers.secrets.sort()).toEqual(['YWxpY2U6cGE6c3M=', 'alice:pa:ss', 'bot-token', 'pa:ss', 'team-b-token'].sort());
  });

  it('asks a definition\'s Alertmanager with its tenant header', async () => {
    stub.handle(() => ({ status: 200, body: '[]' }));
    const config = loadConfig({ ALERTMANAGER_URL: stub.url, ALERTMANAGER_BEARER_TOKEN: 'am-token' });
    const definition = tenant('team-a', { alertmanager: { headers: { 'X-Scope-OrgID': 'team-a' } } });

    const result = await createGateProviders(config, [definition]).alertsFor(definition)!.check({ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: 'reviews' }] });

    expect(result).toMatchObject([{ verdict: 'pass' }]);
    expect(stub.requests.at(-1)!.headers).toMatchObject({ authorization: 'Bearer am-token', 'x-scope-orgid': 'team-a' });
  });

  it('stops start-up with one line naming a credential a definition needs but nobody set', () => {
    const config = loadConfig({ PROMETHEUS_URL: stub.url });
    const definitions = [tenant('team-c', { prometheus: { bearerTokenEnv: 'TEAM_C_TOKEN' } })];

    const failure = (() => {
      try {
        createGateProviders(config, definitions, {});
        return null;
      } catch (error) {
        return error;
      }
    })();

    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toBe('TEAM_C_TOKEN: is required (or TEAM_C_TOKEN_FILE) by pipeline team-c (spec.analysis.provider)');
  });

  it('has no provider where no URL is configured, and refuses a CA file that is not one', () => {
    expect(createGateProviders(loadConfig({}), [tenant('plain', undefined)]).metricsFor(tenant('plain', undefined))).toBeUndefined();
    expect(() => createGateProviders(loadConfig({ PROMETHEUS_URL: stub.url, PROMETHEUS_CA_FILE: '/nonexistent/ca.pem' }), [])).toThrow('PROMETHEUS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)');
  });
});

describe('definitionsMissingAlertmanager', () => {
  const watching = (name: string, provider?: Definition['analysis']['provider']): Definition => ({
    ...tenant(name, provider),
    strategy: { kind: 'canary', steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis' }] } as Definition['strategy'],
    alerts: [{ kind: 'alertmanager', matchers: [{ name: 'service', op: '=', value: name }] }],
  });

  it('names the definitions whose analysis polls Alertmanager when neither ALERTMANAGER_URL nor their own provider URL is set', () => {
    const definitions = [
      watching('bare'),
      watching('own-url', { alertmanager: { url: 'http://tenant-am:9093' } }),
      watching('own-headers-only', { alertmanager: { headers: { 'X-Scope-OrgID': 'x' } } }),
      tenant('no-alerts', undefined),
      { ...watching('no-analysis'), strategy: { ...watching('no-analysis').strategy, steps: [{ kind: 'setWeight', weight: 50 }] } } as Definition,
    ];

    expect(definitionsMissingAlertmanager(undefined, definitions).map((d) => d.name)).toEqual(['bare', 'own-headers-only']);
    expect(definitionsMissingAlertmanager('http://am:9093', definitions)).toEqual([]);
  });
});

describe('credentials in a definition\'s provider URL', () => {
  it('become basic auth and a masked secret, never part of the URL asked', async () => {
    stub.handle(() => ({ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }) }));
    const definition = tenant('team-url', { prometheus: { url: stub.url.replace('http://', 'http://tenant:pa55word@') } });

    const providers = createGateProviders(loadConfig({}), [definition]);
    await providers.metricsFor(definition)!.query('up');

    expect(stub.requests.at(-1)!.headers).toMatchObject({ authorization: `Basic ${Buffer.from('tenant:pa55word').toString('base64')}` });
    expect(providers.secrets).toEqual(expect.arrayContaining(['pa55word', 'tenant:pa55word']));
  });
});
