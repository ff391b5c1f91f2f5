import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, exitOnConfigError, loadConfig, loadServeConfig, secretValues, type Config } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'canarybot-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const serveEnv = { GITLAB_URL: 'https://gitlab.example.com', GITLAB_TOKEN: 'glpat-x', GITLAB_WEBHOOK_SECRET: 'hook' };

describe('loadConfig defaults', () => {
  it('fills every default from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      redis: { mode: 'standalone', host: '127.0.0.1', port: 6379, db: 0, tls: false },
      redisPrefix: '{canarybot}',
      pipelinesDir: './pipelines',
      prometheusTimeoutMs: 5000,
      chatLookupByEmail: false,
      logLevel: 'info',
      webhookBodyLimit: 1048576,
      gitlabWritesPerMinute: 60,
      workerConcurrency: 16,
      freezeRefreshMs: 300_000,
      apiReadAnonymous: false,
      apiTokenCacheMs: 60_000,
    });
  });
});

describe('loadConfig values', () => {
  it.each<[string, Record<string, string>, Partial<Config>]>([
    ['port', { PORT: '3000' }, { port: 3000 }],
    ['host', { HOST: '127.0.0.1' }, { host: '127.0.0.1' }],
    ['redis', { REDIS_URL: 'rediss://r:6380/2' }, { redisUrl: 'rediss://r:6380/2', redis: { mode: 'standalone', host: 'r', port: 6380, db: 2, tls: true } }],
    ['gitlab', serveEnv, { gitlabUrl: 'https://gitlab.example.com', gitlabToken: 'glpat-x', gitlabWebhookSecret: 'hook' }],
    ['signing secret', { GITLAB_WEBHOOK_SIGNING_SECRET: 's' }, { gitlabWebhookSigningSecret: 's' }],
    ['kubeconfig', { KUBECONFIG: '/etc/kube' }, { kubeconfig: '/etc/kube' }],
    ['pipelines', { PIPELINES_DIR: '/srv/p' }, { pipelinesDir: '/srv/p' }],
    ['prometheus', { PROMETHEUS_URL: 'http://prom:9090', PROMETHEUS_TIMEOUT: '1m30s' }, { prometheusUrl: 'http://prom:9090', prometheusTimeoutMs: 90_000 }],
    ['alertmanager', { ALERTMANAGER_URL: 'http://am:9093', ALERT_WEBHOOK_SECRET: 'a', ALERT_PRESETS_FILE: 'p.yaml' }, { alertmanagerUrl: 'http://am:9093', alertWebhookSecret: 'a', alertPresetsFile: 'p.yaml' }],
    ['slack', { SLACK_SIGNING_SECRET: 's', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x' }, { slackSigningSecret: 's', slackWebhookUrl: 'https://hooks.slack.com/x' }],
    ['mattermost', { MATTERMOST_TOKEN: 't', MATTERMOST_WEBHOOK_URL: 'http://mm/hooks/x' }, { mattermostToken: 't', mattermostWebhookUrl: 'http://mm/hooks/x' }],
    ['chat users', { CHAT_USERS_FILE: 'u.yaml', CHAT_LOOKUP_BY_EMAIL: 'true' }, { chatUsersFile: 'u.yaml', chatLookupByEmail: true }],
    ['bool no', { CHAT_LOOKUP_BY_EMAIL: 'No' }, { chatLookupByEmail: false }],
    ['tenants', { TENANTS_FILE: 't.yaml' }, { tenantsFile: 't.yaml' }],
    ['links', { PUBLIC_URL: 'https://bot.example.com', GRAFANA_URL: 'https://g', JAEGER_URL: 'https://j' }, { publicUrl: 'https://bot.example.com', grafanaUrl: 'https://g', jaegerUrl: 'https://j' }],
    ['log level', { LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    ['api', { API_READ_ANONYMOUS: 'true', API_TOKEN_CACHE: '30s', METRICS_TOKEN: 'scrape' }, { apiReadAnonymous: true, apiTokenCacheMs: 30_000, metricsToken: 'scrape' }],
    ['limits', { WEBHOOK_BODY_LIMIT: '2048', GITLAB_WRITES_PER_MINUTE: '10', WORKER_CONCURRENCY: '2' }, { webhookBodyLimit: 2048, gitlabWritesPerMinute: 10, workerConcurrency: 2 }],
  ])('%s', (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });
});

describe('empty values', () => {
  it('treats an empty string as unset', () => {
    const config = loadConfig({ PORT: '', PROMETHEUS_URL: '' });

    expect(config.port).toBe(8080);
    expect(config).not.toHaveProperty('prometheusUrl');
  });
});

describe('loadConfig errors', () => {
  it.each<[string, Record<string, string>, string]>([
    ['port not a number', { PORT: 'http' }, 'PORT: must be a whole number between 0 and 65535 (got "http")'],
    ['port too big', { PORT: '70000' }, 'PORT: must be between 0 and 65535 (got "70000")'],
    ['redis scheme', { REDIS_URL: 'http://r:6379' }, 'REDIS_URL: must be a redis:// or rediss:// URL'],
    ['gitlab url', { GITLAB_URL: 'gitlab.example.com' }, 'GITLAB_URL: must be an http(s) URL (got "gitlab.example.com")'],
    ['log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    ['duration', { PROMETHEUS_TIMEOUT: '5 seconds' }, 'PROMETHEUS_TIMEOUT: must be a duration such as 500ms, 5s or 1m (got "5 seconds")'],
    ['bool', { CHAT_LOOKUP_BY_EMAIL: 'maybe' }, 'CHAT_LOOKUP_BY_EMAIL: must be true or false (got "maybe")'],
    ['body limit zero', { WEBHOOK_BODY_LIMIT: '0' }, 'WEBHOOK_BODY_LIMIT: must be between 1 and 1073741824 (got "0")'],
    ['concurrency', { WORKER_CONCURRENCY: '-1' }, 'WORKER_CONCURRENCY: must be a whole number between 1 and 1024 (got "-1")'],
    ['newline stays on one line', { LOG_LEVEL: 'a\nb' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "a\\nb")'],
  ])('%s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).toBe(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('secrets from files', () => {
  it('reads <NAME>_FILE trimmed', () => {
    const token = file('token', '  glpat-from-file\n');

    expect(loadConfig({ GITLAB_TOKEN_FILE: token }).gitlabToken).toBe('glpat-from-file');
  });

  it.each(['GITLAB_TOKEN', 'GITLAB_WEBHOOK_SECRET', 'GITLAB_WEBHOOK_SIGNING_SECRET', 'ALERT_WEBHOOK_SECRET', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'MATTERMOST_TOKEN'])(
    '%s_FILE works and both set is an error',
    (name) => {
      const path = file(name, `value-of-${name}\n`);

      expect(secretValues(loadConfig({ [`${name}_FILE`]: path }))).toEqual([`value-of-${name}`]);
      expect(() => loadConfig({ [name]: 'x', [`${name}_FILE`]: path })).toThrow(`${name}: set either ${name} or ${name}_FILE, not both`);
    },
  );

  it('names the _FILE variable when the file is missing', () => {
    expect(() => loadConfig({ GITLAB_TOKEN_FILE: join(dir, 'nope') })).toThrow(/^GITLAB_TOKEN_FILE: cannot read .*nope \(ENOENT\)$/);
  });

  it('rejects an empty secret file', () => {
    const empty = file('empty', '\n');

    expect(() => loadConfig({ MATTERMOST_TOKEN_FILE: empty })).toThrow('MATTERMOST_TOKEN_FILE: ' + empty + ' is empty');
  });

  it('does not echo a secret in an error', () => {
    expect(() => loadConfig({ GITLAB_TOKEN: '' , GITLAB_WEBHOOK_SECRET: 'ok', GITLAB_URL: 'nope' })).toThrow('GITLAB_URL');
  });
});

describe('loadServeConfig', () => {
  it('accepts the three required variables', () => {
    expect(loadServeConfig(serveEnv).gitlabToken).toBe('glpat-x');
  });

  it.each(['GITLAB_URL', 'GITLAB_TOKEN', 'GITLAB_WEBHOOK_SECRET'])('requires %s', (name) => {
    const env: Record<string, string> = { ...serveEnv };
    delete env[name];

    expect(() => loadServeConfig(env)).toThrow(new RegExp(`^${name}: is required.* to run canarybot serve$`));
  });
});

describe('secretValues', () => {
  it('lists every secret and nothing else', () => {
    const config = loadConfig({
      ...serveEnv,
      GITLAB_WEBHOOK_SIGNING_SECRET: 'sign',
      ALERT_WEBHOOK_SECRET: 'alert',
      SLACK_SIGNING_SECRET: 'slack',
      SLACK_BOT_TOKEN: 'xoxb',
      MATTERMOST_TOKEN: 'mm',
      PUBLIC_URL: 'https://canarybot.example.com',
    });

    expect(secretValues(config).sort()).toEqual(['alert', 'glpat-x', 'hook', 'mm', 'sign', 'slack', 'xoxb']);
  });
});

describe('chat incoming-webhook URLs (they carry their token)', () => {
  it.each(['SLACK_WEBHOOK_URL', 'MATTERMOST_WEBHOOK_URL'])('%s is a secret: masked in logs, never echoed in an error, readable from its _FILE', (name) => {
    const url = 'https://chat.example.com/services/T0/B0/tok3n-in-the-path';
    const path = file(name, `${url}\n`);
    let message = '';
    try {
      loadConfig({ [name]: 'chat.example.com/services/T0/B0/tok3n-in-the-path' });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(secretValues(loadConfig({ [name]: url }))).toContain(url);
    expect(message).toMatch(new RegExp(`^${name}: `));
    expect(message).not.toContain('tok3n');
    expect(secretValues(loadConfig({ [`${name}_FILE`]: path }))).toContain(url);
  });
});

describe('exitOnConfigError', () => {
  it('prints one line and exits 2 for a ConfigError', () => {
    const written: string[] = [];
    let code: number | undefined;
    const io = {
      stderr: { write: (text: string) => written.push(text) },
      exit: (c: number): never => {
        code = c;
        throw new Error('exited');
      },
    };

    expect(() => exitOnConfigError(new ConfigError('PORT', 'must be a number'), io)).toThrow('exited');
    expect(code).toBe(2);
    expect(written).toEqual(['canarybot: configuration error: PORT: must be a number\n']);
  });

  it('rethrows anything else', () => {
    const boom = new Error('boom');
    const io = { stderr: { write: () => true }, exit: (): never => { throw new Error('should not exit'); } };

    expect(() => exitOnConfigError(boom, io)).toThrow('boom');
  });
});

describe('README', () => {
  it('documents every variable with its default', () => {
    const readme = readFileSync('README.md', 'utf8');

    for (const variable of CONFIG_VARIABLES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${variable.name}\` |`));
      expect(row, variable.name).toBeDefined();
      if (variable.default !== undefined) expect(row).toContain(`\`${variable.default}\``);
      if (variable.secret) expect(row).toContain('secret');
    }
  });
});

describe('a real process with a bad environment', () => {
  it('prints one line and exits 2', () => {
    const script = "import { loadServeConfig, exitOnConfigError } from './src/config.ts'; try { loadServeConfig(); } catch (e) { exitOnConfigError(e); }";

    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, PORT: 'eighty' },
      encoding: 'utf8',
    });

    expect(result.status).toBe(2);
    expect(result.stderr).toBe('canarybot: configuration error: PORT: must be a whole number between 0 and 65535 (got "eighty")\n');
  });
});

describe('Prometheus and Alertmanager as deployed', () => {
  it('reads tokens, basic auth, headers and CA files', () => {
    const config = loadConfig({
      PROMETHEUS_BEARER_TOKEN: 'prom-token',
      PROMETHEUS_HEADERS: 'X-Scope-OrgID=team-a, X-Extra = 1',
      PROMETHEUS_CA_FILE: '/etc/ca.pem',
      ALERTMANAGER_BASIC_AUTH: 'bot:s3cr:et',
      ALERTMANAGER_HEADERS: 'X-Scope-OrgID=team-a',
    });

    expect(config).toMatchObject({
      prometheusBearerToken: 'prom-token',
      prometheusHeaders: { 'X-Scope-OrgID': 'team-a', 'X-Extra': '1' },
      prometheusCaFile: '/etc/ca.pem',
      alertmanagerBasicAuth: 'bot:s3cr:et',
      alertmanagerHeaders: { 'X-Scope-OrgID': 'team-a' },
    });
    expect(secretValues(config).sort()).toEqual(['Ym90OnMzY3I6ZXQ=', 'bot:s3cr:et', 'prom-token', 's3cr:et']);
  });

  it.each([
    [{ PROMETHEUS_BASIC_AUTH: 'no-colon' }, 'PROMETHEUS_BASIC_AUTH: must be user:password'],
    [{ PROMETHEUS_HEADERS: 'X-Scope-OrgID' }, 'PROMETHEUS_HEADERS: must be Name=value pairs separated by commas, e.g. X-Scope-OrgID=team-a (got "X-Scope-OrgID")'],
    [{ ALERTMANAGER_HEADERS: 'Authorization=Bearer x' }, /ALERTMANAGER_HEADERS: must not set Authorization/],
    [{ PROMETHEUS_BEARER_TOKEN: 't', PROMETHEUS_BASIC_AUTH: 'u:p' }, 'PROMETHEUS_BASIC_AUTH: set PROMETHEUS_BEARER_TOKEN or PROMETHEUS_BASIC_AUTH, not both'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a malformed secret', () => {
    expect(() => loadConfig({ PROMETHEUS_BASIC_AUTH: 'not-a-pair-but-secret' })).toThrow(/^PROMETHEUS_BASIC_AUTH: must be user:password$/);
  });
});

describe('Redis: exactly one mode', () => {
  it.each<[string, Record<string, string>, Partial<Config>]>([
    ['a password in the URL', { REDIS_URL: 'redis://bot:p%40ss@redis.internal:6380/1' }, { redis: { mode: 'standalone', host: 'redis.internal', port: 6380, db: 1, tls: false, username: 'bot', password: 'p@ss' } }],
    ['a URL and REDIS_PASSWORD', { REDIS_URL: 'rediss://redis.internal', REDIS_PASSWORD: 'pw' }, { redis: { mode: 'standalone', host: 'redis.internal', port: 6379, db: 0, tls: true, password: 'pw' } }],
    [
      'Sentinel',
      { REDIS_SENTINELS: 's1:26379, s2:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_PASSWORD: 'mp' },
      { redis: { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: '::1', port: 26380 }], name: 'mymaster', sentinelPassword: 'sp', password: 'mp', db: 0, tls: false } },
    ],
    ['Cluster over TLS', { REDIS_CLUSTER_NODES: 'r1:6379,r2:6379', REDIS_TLS: 'true', REDIS_USERNAME: 'bot' }, { redis: { mode: 'cluster', nodes: [{ host: 'r1', port: 6379 }, { host: 'r2', port: 6379 }], tls: true, username: 'bot' }, redisPrefix: '{canarybot}' }],
    ['a prefix of its own', { REDIS_PREFIX: '{team-a}' }, { redisPrefix: '{team-a}' }],
  ])('%s', (_name, env, expected) => {
    const config = loadConfig(env);
    expect(config).toMatchObject(expected);
    if (expected.redis && expected.redis.mode !== 'standalone') expect(config.redisUrl).toBeUndefined();
  });

  it('reads REDIS_URL_FILE and keeps the password out of errors and in the masked values', () => {
    const path = file('redis-url', 'rediss://:hunter2-secret@redis.internal:6380\n');
    const config = loadConfig({ REDIS_URL_FILE: path });

    expect(config.redis).toMatchObject({ host: 'redis.internal', port: 6380, tls: true, password: 'hunter2-secret' });
    expect(secretValues(config)).toContain('hunter2-secret');
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2-secret@r' })).toThrow(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/);
  });

  it('reads the CA of a rediss:// URL', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

    expect(loadConfig({ REDIS_URL: 'rediss://r:6380', REDIS_CA_FILE: ca }).redis.ca).toContain('BEGIN CERTIFICATE');
  });

  it.each<[string, Record<string, string>, string]>([
    ['URL and Sentinel', { REDIS_URL: 'redis://r', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: set exactly one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (got REDIS_URL and REDIS_SENTINELS)'],
    ['Sentinel and Cluster', { REDIS_SENTINELS: 's:26379', REDIS_CLUSTER_NODES: 'r:6379' }, 'REDIS_CLUSTER_NODES: set exactly one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (got REDIS_SENTINELS and REDIS_CLUSTER_NODES)'],
    ['Sentinel without a name', { REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name, e.g. mymaster)'],
    ['a name without Sentinel', { REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME: is only used with REDIS_SENTINELS'],
    ['a malformed node list', { REDIS_CLUSTER_NODES: 'r1:6379,r2' }, 'REDIS_CLUSTER_NODES: must be host:port pairs separated by commas (got "r1:6379,r2")'],
    ['a Cluster prefix without hash tag', { REDIS_CLUSTER_NODES: 'r:6379', REDIS_PREFIX: 'canarybot' }, 'REDIS_PREFIX: must contain a {hash tag} on a Redis Cluster, e.g. {canarybot} (got "canarybot")'],
    ['REDIS_TLS with a URL', { REDIS_URL: 'redis://r', REDIS_TLS: 'true' }, 'REDIS_TLS: is for Sentinel and Cluster; with REDIS_URL use a rediss:// URL'],
    ['a CA without TLS', { REDIS_URL: 'redis://r', REDIS_CA_FILE: '/etc/hosts' }, 'REDIS_CA_FILE: needs TLS: a rediss:// REDIS_URL, or REDIS_TLS=true'],
    ['a missing CA file', { REDIS_URL: 'rediss://r', REDIS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
    ['two passwords', { REDIS_URL: 'redis://:a@r', REDIS_PASSWORD: 'b' }, 'REDIS_PASSWORD: REDIS_URL already carries a password: set one or the other'],
  ])('refuses %s with one line', (_name, env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe('credentials in PROMETHEUS_URL and ALERTMANAGER_URL', () => {
  it('moves them out of the URL into basic auth, a masked secret', () => {
    const config = loadConfig({ PROMETHEUS_URL: 'https://reader:s3cr%40t@prom.example.com:9090/prefix', ALERTMANAGER_URL: 'http://am:hunter2@am.example.com:9093' });

    expect(config.prometheusUrl).toBe('https://prom.example.com:9090/prefix');
    expect(config.prometheusBasicAuth).toBe('reader:s3cr@t');
    expect(config.alertmanagerUrl).toBe('http://am.example.com:9093');
    expect(config.alertmanagerBasicAuth).toBe('am:hunter2');
    expect(secretValues(config)).toEqual(expect.arrayContaining(['s3cr@t', 'hunter2']));
    expect(JSON.stringify({ ...config, prometheusBasicAuth: undefined, alertmanagerBasicAuth: undefined })).not.toMatch(/s3cr|hunter2/);
  });

  it('refuses credentials in the URL next to another credential, and never echoes them', () => {
    expect(() => loadConfig({ PROMETHEUS_URL: 'http://u:p@prom:9090', PROMETHEUS_BEARER_TOKEN: 't' })).toThrow(/PROMETHEUS_URL: carries credentials/);
    const error = (() => {
      try {
        loadConfig({ ALERTMANAGER_URL: 'ftp://u:hunter2@am:9093' });
      } catch (caught) {
        return caught as Error;
      }
      return null;
    })();
    expect(error?.message).toMatch(/ALERTMANAGER_URL/);
    expect(error?.message).not.toContain('hunter2');
  });
});
