// Environment → typed configuration, in one place (DESIGN §7). A missing or malformed value becomes a
// ConfigError with one line naming the variable; the CLI prints it and exits 2.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration } from './core/duration.js';
import { DEFAULT_REDIS_PREFIX, hashTagOf, parseHostList, parseRedisUrl, type RedisTarget } from './redis/redis-target.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** REDIS_URL in standalone mode (the default); unset under Sentinel or Cluster. */
  redisUrl?: string;
  /** Where Redis is: exactly one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
  redis: RedisTarget;
  /** Key and BullMQ prefix; hash-tagged (`{canarybot}`) so a Redis Cluster keeps each script in one slot. */
  redisPrefix: string;
  gitlabUrl?: string;
  gitlabToken?: string;
  gitlabWebhookSecret?: string;
  /** GitLab signing token for `webhook-signature` (HMAC) verification, when configured. */
  gitlabWebhookSigningSecret?: string;
  /** Path of a kubeconfig file; unset means in-cluster configuration. */
  kubeconfig?: string;
  pipelinesDir: string;
  prometheusUrl?: string;
  /** Upper bound of one Prometheus query. */
  prometheusTimeoutMs: number;
  /** Bearer token sent to Prometheus (secret). */
  prometheusBearerToken?: string;
  /** `user:password` for Prometheus basic auth (secret). */
  prometheusBasicAuth?: string;
  /** Extra headers on every Prometheus request, e.g. X-Scope-OrgID for Mimir, Cortex, Thanos. */
  prometheusHeaders?: Record<string, string>;
  /** PEM file of a CA to trust for Prometheus over https. */
  prometheusCaFile?: string;
  alertmanagerUrl?: string;
  alertmanagerBearerToken?: string;
  alertmanagerBasicAuth?: string;
  alertmanagerHeaders?: Record<string, string>;
  alertmanagerCaFile?: string;
  alertWebhookSecret?: string;
  /** Field mappings for `POST /webhooks/alerts/:preset` beyond the built-in presets. */
  alertPresetsFile?: string;
  slackSigningSecret?: string;
  /** Slack bot token (scope `users:read.email`): Slack users' e-mails for CHAT_LOOKUP_BY_EMAIL. */
  slackBotToken?: string;
  slackWebhookUrl?: string;
  mattermostToken?: string;
  mattermostWebhookUrl?: string;
  /** The Mattermost server: slash command replies go only to its origin (default: MATTERMOST_WEBHOOK_URL's). */
  mattermostUrl?: string;
  /** Map of chat users to GitLab usernames. */
  chatUsersFile?: string;
  /** Map chat users to GitLab users by e-mail when not in CHAT_USERS_FILE. */
  chatLookupByEmail: boolean;
  /** Which GitLab projects may release to which namespaces. */
  tenantsFile?: string;
  publicUrl?: string;
  /** Application ID of the GitLab OAuth application the dashboard signs in with. */
  gitlabOAuthClientId?: string;
  /** Its secret. */
  gitlabOAuthClientSecret?: string;
  grafanaUrl?: string;
  jaegerUrl?: string;
  logLevel: LogLevel;
  /** Largest accepted webhook body in bytes. */
  webhookBodyLimit: number;
  /** Budget of GitLab write calls (notes, statuses) per minute. */
  gitlabWritesPerMinute: number;
  workerConcurrency: number;
  /** How long GitLab deploy freeze periods are cached before they are read again (FREEZE_REFRESH). */
  freezeRefreshMs: number;
  /** Reads of /api/* without a token (read-only dashboards on trusted networks). */
  apiReadAnonymous: boolean;
  /** How long GitLab's answer to "whose token is this" is kept. */
  apiTokenCacheMs: number;
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` (secret). */
  metricsToken?: string;
}

/** What `canarybot serve` cannot run without. */
export type ServeConfig = Config & Required<Pick<Config, 'gitlabUrl' | 'gitlabToken' | 'gitlabWebhookSecret'>>;

/** Variables that hold secrets; each may instead be read from the file named by `<NAME>_FILE`. */
export const SECRET_VARIABLES = [
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'GITLAB_TOKEN',
  'GITLAB_WEBHOOK_SECRET',
  'GITLAB_WEBHOOK_SIGNING_SECRET',
  'ALERT_WEBHOOK_SECRET',
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'MATTERMOST_TOKEN',
  // An incoming-webhook URL carries its token in the path: whoever has it posts to the channel.
  'SLACK_WEBHOOK_URL',
  'MATTERMOST_WEBHOOK_URL',
  'PROMETHEUS_BEARER_TOKEN',
  'PROMETHEUS_BASIC_AUTH',
  'ALERTMANAGER_BEARER_TOKEN',
  'ALERTMANAGER_BASIC_AUTH',
  'GITLAB_OAUTH_CLIENT_SECRET',
  'METRICS_TOKEN',
] as const;

export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`));

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 5s or 1m' });
    return z.NEVER;
  }
  return ms;
});

const boolean = z
  .string()
  .transform((text) => text.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
  .transform((text) => text === 'true' || text === '1' || text === 'yes');

const nonEmpty = z.string().min(1, 'must not be empty');

const basicAuth = z.string().regex(/^[^:]+:.+$/s, 'must be user:password');

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `Name=value` pairs separated by commas or newlines, e.g. `X-Scope-OrgID=team-a`. */
const headerList = z.string().transform((text, ctx) => {
  const headers: Record<string, string> = {};
  for (const item of text.split(/[,\n]/).map((part) => part.trim()).filter(Boolean)) {
    const at = item.indexOf('=');
    const name = at > 0 ? item.slice(0, at).trim() : '';
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: 'must be Name=value pairs separated by commas, e.g. X-Scope-OrgID=team-a' });
      return z.NEVER;
    }
    if (name.toLowerCase() === 'authorization') {
      ctx.addIssue({ code: 'custom', message: 'must not set Authorization: use the _BEARER_TOKEN or _BASIC_AUTH variable, which are kept secret' });
      return z.NEVER;
    }
    headers[name] = item.slice(at + 1).trim();
  }
  return headers;
});
// One entry per variable: name, schema, and the Config field it fills.
const VARIABLES: Array<[string, z.ZodType, keyof Config, string?]> = [
  ['PORT', integer(0, 65535), 'port', '8080'],
  ['HOST', nonEmpty, 'host', '0.0.0.0'],
  ['REDIS_URL', z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }), 'redisUrl', 'redis://127.0.0.1:6379'],
  ['REDIS_SENTINELS', nonEmpty, 'redisSentinels' as keyof Config],
  ['REDIS_SENTINEL_NAME', nonEmpty, 'redisSentinelName' as keyof Config],
  ['REDIS_SENTINEL_PASSWORD', nonEmpty, 'redisSentinelPassword' as keyof Config],
  ['REDIS_CLUSTER_NODES', nonEmpty, 'redisClusterNodes' as keyof Config],
  ['REDIS_USERNAME', nonEmpty, 'redisUsername' as keyof Config],
  ['REDIS_PASSWORD', nonEmpty, 'redisPassword' as keyof Config],
  ['REDIS_TLS', boolean, 'redisTls' as keyof Config, 'false'],
  ['REDIS_CA_FILE', nonEmpty, 'redisCaFile' as keyof Config],
  ['REDIS_PREFIX', z.string().regex(/^[^\s:]+$/, 'must be a key prefix without spaces or ":"'), 'redisPrefix', DEFAULT_REDIS_PREFIX],
  ['GITLAB_URL', httpUrl, 'gitlabUrl'],
  ['GITLAB_TOKEN', nonEmpty, 'gitlabToken'],
  ['GITLAB_WEBHOOK_SECRET', nonEmpty, 'gitlabWebhookSecret'],
  ['GITLAB_WEBHOOK_SIGNING_SECRET', nonEmpty, 'gitlabWebhookSigningSecret'],
  ['KUBECONFIG', nonEmpty, 'kubeconfig'],
  ['PIPELINES_DIR', nonEmpty, 'pipelinesDir', './pipelines'],
  ['PROMETHEUS_URL', httpUrl, 'prometheusUrl'],
  ['PROMETHEUS_TIMEOUT', duration, 'prometheusTimeoutMs', '5s'],
  ['PROMETHEUS_BEARER_TOKEN', nonEmpty, 'prometheusBearerToken'],
  ['PROMETHEUS_BASIC_AUTH', basicAuth, 'prometheusBasicAuth'],
  ['PROMETHEUS_HEADERS', headerList, 'prometheusHeaders'],
  ['PROMETHEUS_CA_FILE', nonEmpty, 'prometheusCaFile'],
  ['ALERTMANAGER_URL', httpUrl, 'alertmanagerUrl'],
  ['ALERTMANAGER_BEARER_TOKEN', nonEmpty, 'alertmanagerBearerToken'],
  ['ALERTMANAGER_BASIC_AUTH', basicAuth, 'alertmanagerBasicAuth'],
  ['ALERTMANAGER_HEADERS', headerList, 'alertmanagerHeaders'],
  ['ALERTMANAGER_CA_FILE', nonEmpty, 'alertmanagerCaFile'],
  ['ALERT_WEBHOOK_SECRET', nonEmpty, 'alertWebhookSecret'],
  ['ALERT_PRESETS_FILE', nonEmpty, 'alertPresetsFile'],
  ['SLACK_SIGNING_SECRET', nonEmpty, 'slackSigningSecret'],
  ['SLACK_BOT_TOKEN', nonEmpty, 'slackBotToken'],
  ['SLACK_WEBHOOK_URL', httpUrl, 'slackWebhookUrl'],
  ['MATTERMOST_TOKEN', nonEmpty, 'mattermostToken'],
  ['MATTERMOST_WEBHOOK_URL', httpUrl, 'mattermostWebhookUrl'],
  ['MATTERMOST_URL', httpUrl, 'mattermostUrl'],
  ['CHAT_USERS_FILE', nonEmpty, 'chatUsersFile'],
  ['CHAT_LOOKUP_BY_EMAIL', boolean, 'chatLookupByEmail', 'false'],
  ['TENANTS_FILE', nonEmpty, 'tenantsFile'],
  ['PUBLIC_URL', httpUrl, 'publicUrl'],
  ['GITLAB_OAUTH_CLIENT_ID', nonEmpty, 'gitlabOAuthClientId'],
  ['GITLAB_OAUTH_CLIENT_SECRET', nonEmpty, 'gitlabOAuthClientSecret'],
  ['GRAFANA_URL', httpUrl, 'grafanaUrl'],
  ['JAEGER_URL', httpUrl, 'jaegerUrl'],
  ['LOG_LEVEL', z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), 'logLevel', 'info'],
  ['WEBHOOK_BODY_LIMIT', integer(1, 1024 * 1024 * 1024), 'webhookBodyLimit', '1048576'],
  ['GITLAB_WRITES_PER_MINUTE', integer(1, 100_000), 'gitlabWritesPerMinute', '60'],
  ['WORKER_CONCURRENCY', integer(1, 1024), 'workerConcurrency', '16'],
  ['FREEZE_REFRESH', duration, 'freezeRefreshMs', '5m'],
  ['API_READ_ANONYMOUS', boolean, 'apiReadAnonymous', 'false'],
  ['API_TOKEN_CACHE', duration, 'apiTokenCacheMs', '60s'],
  ['METRICS_TOKEN', nonEmpty, 'metricsToken'],
];

/** Every variable canarybot reads, with its default (for docs and `--help`). */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default?: string; secret: boolean }> = VARIABLES.map(
  ([name, , , fallback]) => ({
    name,
    ...(fallback === undefined ? {} : { default: fallback }),
    secret: (SECRET_VARIABLES as readonly string[]).includes(name),
  }),
);

/** `NAME` or the trimmed content of the file named by `NAME_FILE`; both set is an error. */
function rawValue(env: Env, name: string): string | undefined {
  const direct = env[name];
  if (!(SECRET_VARIABLES as readonly string[]).includes(name)) return direct === '' ? undefined : direct;
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  }
  if (file === undefined || file === '') return direct === '' ? undefined : direct;
  let content: string;
  try {
    content = readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE`, `cannot read ${file} (${code})`);
  }
  if (content === '') throw new ConfigError(`${name}_FILE`, `${file} is empty`);
  return content;
}

/** Parse the environment; throws ConfigError (one line) on the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const [name, schema, field, fallback] of VARIABLES) {
    const value = rawValue(env, name) ?? fallback;
    if (value === undefined) continue;
    const result = schema.safeParse(value);
    if (!result.success) {
      const problem = result.error.issues[0]?.message ?? 'is malformed';
      // Never echo secrets back.
      const shown = (SECRET_VARIABLES as readonly string[]).includes(name) ? '' : ` (got ${JSON.stringify(value.replace(/\/\/[^/@\s]*@/, '//***@'))})`;
      throw new ConfigError(name, `${problem}${shown}`);
    }
    config[field] = result.data;
  }
  if (config.gitlabOAuthClientId !== undefined) {
    // The dashboard's sign-in needs all of them; half a configuration fails here, not at the first sign-in.
    if (config.gitlabOAuthClientSecret === undefined) throw new ConfigError('GITLAB_OAUTH_CLIENT_SECRET', 'is required (or GITLAB_OAUTH_CLIENT_SECRET_FILE) with GITLAB_OAUTH_CLIENT_ID');
    if (config.publicUrl === undefined) throw new ConfigError('PUBLIC_URL', 'is required with GITLAB_OAUTH_CLIENT_ID (GitLab sends users back to PUBLIC_URL/auth/gitlab/callback)');
  } else if (config.gitlabOAuthClientSecret !== undefined) {
    throw new ConfigError('GITLAB_OAUTH_CLIENT_ID', 'is required with GITLAB_OAUTH_CLIENT_SECRET');
  }
  for (const service of ['PROMETHEUS', 'ALERTMANAGER']) {
    if (rawValue(env, `${service}_BEARER_TOKEN`) && rawValue(env, `${service}_BASIC_AUTH`)) {
      throw new ConfigError(`${service}_BASIC_AUTH`, `set ${service}_BEARER_TOKEN or ${service}_BASIC_AUTH, not both`);
    }
  }
  moveUrlCredentials(config, 'PROMETHEUS', 'prometheusUrl', 'prometheusBasicAuth', 'prometheusBearerToken');
  moveUrlCredentials(config, 'ALERTMANAGER', 'alertmanagerUrl', 'alertmanagerBasicAuth', 'alertmanagerBearerToken');
  return withRedisTarget(env, config);
}

/** The Redis variables as read by the table, before they become a RedisTarget. */
interface RawRedis {
  redisUrl?: string;
  redisSentinels?: string;
  redisSentinelName?: string;
  redisSentinelPassword?: string;
  redisClusterNodes?: string;
  redisUsername?: string;
  redisPassword?: string;
  redisTls: boolean;
  redisCaFile?: string;
  redisPrefix: string;
}

const REDIS_RAW_FIELDS = ['redisSentinels', 'redisSentinelName', 'redisSentinelPassword', 'redisClusterNodes', 'redisUsername', 'redisPassword', 'redisTls', 'redisCaFile'] as const;

/** Exactly one Redis mode; a wrong mix is one line naming the variable to remove. */
function withRedisTarget(env: Env, parsed: Record<string, unknown>): Config {
  const raw = parsed as unknown as RawRedis;
  const urlGiven = rawValue(env, 'REDIS_URL') !== undefined;
  const modes = [urlGiven && 'REDIS_URL', raw.redisSentinels && 'REDIS_SENTINELS', raw.redisClusterNodes && 'REDIS_CLUSTER_NODES'].filter(Boolean) as string[];
  if (modes.length > 1) throw new ConfigError(modes[1]!, `set exactly one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (got ${modes.join(' and ')})`);
  if (!raw.redisSentinels) {
    if (raw.redisSentinelName) throw new ConfigError('REDIS_SENTINEL_NAME', 'is only used with REDIS_SENTINELS');
    if (raw.redisSentinelPassword) throw new ConfigError('REDIS_SENTINEL_PASSWORD', 'is only used with REDIS_SENTINELS');
  }
  const auth = { ...(raw.redisUsername ? { username: raw.redisUsername } : {}), ...(raw.redisPassword ? { password: raw.redisPassword } : {}) };
  let target: RedisTarget;
  if (raw.redisSentinels) {
    const sentinels = hostList('REDIS_SENTINELS', raw.redisSentinels);
    if (!raw.redisSentinelName) throw new ConfigError('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the master group name, e.g. mymaster)');
    target = { mode: 'sentinel', sentinels, name: raw.redisSentinelName, db: 0, tls: raw.redisTls, ...auth, ...(raw.redisSentinelPassword ? { sentinelPassword: raw.redisSentinelPassword } : {}) };
  } else if (raw.redisClusterNodes) {
    target = { mode: 'cluster', nodes: hostList('REDIS_CLUSTER_NODES', raw.redisClusterNodes), tls: raw.redisTls, ...auth };
    if (hashTagOf(raw.redisPrefix) === null) {
      throw new ConfigError('REDIS_PREFIX', `must contain a {hash tag} on a Redis Cluster, e.g. {${raw.redisPrefix}} (got "${raw.redisPrefix}")`);
    }
  } else {
    if (raw.redisTls) throw new ConfigError('REDIS_TLS', 'is for Sentinel and Cluster; with REDIS_URL use a rediss:// URL');
    target = standaloneTarget(raw.redisUrl ?? 'redis://127.0.0.1:6379', auth);
  }
  if (raw.redisCaFile !== undefined) {
    if (!target.tls) throw new ConfigError('REDIS_CA_FILE', 'needs TLS: a rediss:// REDIS_URL, or REDIS_TLS=true');
    target.ca = readCaFile(raw.redisCaFile);
  }
  const config: Record<string, unknown> = { ...parsed, redis: target };
  for (const field of REDIS_RAW_FIELDS) delete config[field];
  if (target.mode !== 'standalone') delete config.redisUrl;
  return config as unknown as Config;
}

function standaloneTarget(url: string, auth: { username?: string; password?: string }): RedisTarget {
  let target: ReturnType<typeof parseRedisUrl>;
  try {
    target = parseRedisUrl(url);
  } catch (error) {
    throw new ConfigError('REDIS_URL', (error as Error).message);
  }
  if (target.password !== undefined && auth.password !== undefined) throw new ConfigError('REDIS_PASSWORD', 'REDIS_URL already carries a password: set one or the other');
  return target.password === undefined ? { ...target, ...auth } : target;
}

function hostList(variable: string, text: string): ReturnType<typeof parseHostList> & object {
  const list = parseHostList(text);
  if (list === null) throw new ConfigError(variable, `must be host:port pairs separated by commas (got ${JSON.stringify(text)})`);
  return list;
}

function readCaFile(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('REDIS_CA_FILE', `${file} holds no PEM certificate`);
    return pem;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('REDIS_CA_FILE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/**
 * `http://user:password@prometheus:9090` → the URL without its credentials, which become basic auth
 * (a secret: masked in logs, sent only in the Authorization header). The URL itself then never carries
 * them into an error message, a gate result, an MR note or the API.
 */
function moveUrlCredentials(config: Record<string, unknown>, service: string, urlField: keyof Config, authField: keyof Config, tokenField: keyof Config): void {
  const raw = config[urlField];
  if (typeof raw !== 'string') return;
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return;
  if (config[authField] !== undefined || config[tokenField] !== undefined) {
    throw new ConfigError(`${service}_URL`, `carries credentials and ${service}_BASIC_AUTH or ${service}_BEARER_TOKEN is set too: use one`);
  }
  config[authField] = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  config[urlField] = url.toString().replace(/\/$/, raw.endsWith('/') ? '/' : '');
}

/** `loadConfig` plus what `serve` needs to run: GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET. */
export function loadServeConfig(env: Env = process.env): ServeConfig {
  const config = loadConfig(env);
  const required: Array<[string, keyof Config]> = [
    ['GITLAB_URL', 'gitlabUrl'],
    ['GITLAB_TOKEN', 'gitlabToken'],
    ['GITLAB_WEBHOOK_SECRET', 'gitlabWebhookSecret'],
  ];
  for (const [name, field] of required) {
    if (config[field] === undefined) {
      const hint = (SECRET_VARIABLES as readonly string[]).includes(name) ? ` (or ${name}_FILE)` : '';
      throw new ConfigError(name, `is required${hint} to run canarybot serve`);
    }
  }
  return config as ServeConfig;
}

/** The values of every secret variable that is set, for masking in logs (derived, so none is forgotten). */
export function secretValues(config: Config): string[] {
  // REDIS_URL is a secret only for the password it may carry (the default URL holds none).
  const values = VARIABLES.filter(([name]) => (SECRET_VARIABLES as readonly string[]).includes(name) && name !== 'REDIS_URL')
    .map(([, , key]) => config[key])
    .filter((value): value is string => typeof value === 'string' && value.length > 0);
  if (config.redis?.password) values.push(config.redis.password, ...(config.redisUrl ? [config.redisUrl] : []));
  if (config.redis?.mode === 'sentinel' && config.redis.sentinelPassword) values.push(config.redis.sentinelPassword);
  // Basic auth travels base64-encoded, and its password may show up alone.
  for (const auth of [config.prometheusBasicAuth, config.alertmanagerBasicAuth]) {
    if (auth) values.push(Buffer.from(auth).toString('base64'), auth.slice(auth.indexOf(':') + 1));
  }
  return values;
}

export interface ExitIo {
  stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/**
 * For the CLI: a ConfigError is printed as one line on stderr and the process exits 2, with no stack
 * trace. Anything else is rethrown.
 */
export function exitOnConfigError(error: unknown, io: ExitIo = { stderr: process.stderr, exit: (code) => process.exit(code) }): never {
  if (error instanceof ConfigError) {
    io.stderr.write(`canarybot: configuration error: ${error.message}\n`);
    return io.exit(2);
  }
  throw error;
}
