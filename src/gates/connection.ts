// How canarybot reaches a Prometheus or Alertmanager as it is deployed: behind a bearer token or
// basic auth, with tenant headers (Mimir, Thanos, Cortex: X-Scope-OrgID), with a private CA, and
// per definition where tenants differ. Credentials go into request headers only: never into a URL,
// a message or a log line.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.js';
import type { ProviderOverride } from '../core/definition.js';
import { fetchTrusting } from './http-fetch.js';

export interface Connection {
  url: string;
  /** Extra request headers (tenant ids); credentials never go here from the environment. */
  headers: Readonly<Record<string, string>>;
  bearerToken?: string;
  /** `user:password`. */
  basicAuth?: string;
  /** PEM of an extra CA to trust. */
  ca?: string;
}

/** The headers every request of a connection carries (Authorization included). */
export function connectionHeaders(connection: Omit<Connection, 'url'>): Record<string, string> {
  const headers: Record<string, string> = { ...connection.headers };
  if (connection.bearerToken) headers.authorization = `Bearer ${connection.bearerToken}`;
  else if (connection.basicAuth) headers.authorization = `Basic ${Buffer.from(connection.basicAuth).toString('base64')}`;
  return headers;
}

/** The fetch for a connection: the global one, or one that trusts the connection's CA. */
export function connectionFetch(connection: Pick<Connection, 'ca'>): typeof fetch | undefined {
  return connection.ca ? fetchTrusting(connection.ca) : undefined;
}

/** The content of a CA file named by an environment variable; a bad file is a ConfigError naming it. */
export function readCaFile(variable: string, path: string | undefined): string | undefined {
  if (!path) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(variable, `${path} holds no PEM certificate`);
  return pem;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `NAME`, or the trimmed content of the file named by `NAME_FILE`. */
function secretFromEnv(env: Env, name: string, owner: string): string {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct) return direct;
  if (file) {
    try {
      const content = readFileSync(file, 'utf8').trim();
      if (content) return content;
    } catch (error) {
      throw new ConfigError(`${name}_FILE`, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}), needed by ${owner}`);
    }
    throw new ConfigError(`${name}_FILE`, `${file} is empty, needed by ${owner}`);
  }
  throw new ConfigError(name, `is required (or ${name}_FILE) by ${owner}`);
}

/**
 * A definition's connection: the bot-wide one with the definition's overrides (its URL, its headers
 * over the bot-wide ones, its own credentials instead of the bot-wide ones). Undefined when there is
 * no URL at all.
 */
export function overriddenConnection(base: Connection | undefined, override: ProviderOverride | undefined, env: Env, owner: string): Connection | undefined {
  if (!override) return base;
  const given = override.url ?? base?.url;
  if (!given) return undefined;
  // Credentials written into a definition's URL become basic auth: masked, never in a message.
  const { url, basicAuth: urlAuth } = splitUrlCredentials(given);
  const out: Connection = { url, headers: { ...base?.headers, ...override.headers } };
  if (base?.ca) out.ca = base.ca;
  if (override.bearerTokenEnv) out.bearerToken = secretFromEnv(env, override.bearerTokenEnv, owner);
  else if (override.basicAuthEnv) out.basicAuth = secretFromEnv(env, override.basicAuthEnv, owner);
  else if (urlAuth) out.basicAuth = urlAuth;
  else {
    if (base?.bearerToken) out.bearerToken = base.bearerToken;
    if (base?.basicAuth) out.basicAuth = base.basicAuth;
  }
  return out;
}

/** Every credential of a connection, and the forms it takes on the wire, for the logger to mask. */
export function connectionSecrets(connection: Connection | undefined): string[] {
  if (!connection) return [];
  const secrets: string[] = [];
  if (connection.bearerToken) secrets.push(connection.bearerToken);
  if (connection.basicAuth) secrets.push(connection.basicAuth, Buffer.from(connection.basicAuth).toString('base64'));
  const password = connection.basicAuth?.split(':').slice(1).join(':');
  if (password) secrets.push(password);
  return secrets;
}

/** `http://user:pass@host/` → the URL without credentials and `user:pass`. */
export function splitUrlCredentials(raw: string): { url: string; basicAuth?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { url: raw };
  }
  if (url.username === '' && url.password === '') return { url: raw };
  const basicAuth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), basicAuth };
}
