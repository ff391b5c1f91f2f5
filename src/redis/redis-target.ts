// Where Redis is and how to reach it: exactly one of three modes, read from the environment by
// config.ts and turned into connections by connect-redis.ts. Pure: no I/O beyond what the caller
// already read (the CA file's content).

/** One `host:port` of a Sentinel or Cluster seed list. */
export interface HostPort {
  host: string;
  port: number;
}

/** What every mode shares: credentials and TLS for the Redis data nodes. */
export interface RedisAuth {
  username?: string;
  password?: string;
  /** TLS to the data nodes (`rediss://`, or REDIS_TLS=true for Sentinel and Cluster). */
  tls: boolean;
  /** PEM of a private CA to trust (REDIS_CA_FILE), TLS only. */
  ca?: string;
}

export type RedisTarget =
  | ({ mode: 'standalone'; host: string; port: number; db: number } & RedisAuth)
  | ({ mode: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string; db: number } & RedisAuth)
  | ({ mode: 'cluster'; nodes: HostPort[] } & RedisAuth);

/** The default key and BullMQ prefix: hash-tagged, so every key lands in one Cluster slot. */
export const DEFAULT_REDIS_PREFIX = '{canarybot}';

/** `host:port,host:port` → list; null when an item is malformed. */
export function parseHostList(text: string): HostPort[] | null {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) return null;
  const list: HostPort[] = [];
  for (const item of items) {
    const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) return null;
    list.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return list;
}

/** The `{tag}` of a key or prefix as Redis Cluster hashes it, or null when it has none. */
export function hashTagOf(text: string): string | null {
  const open = text.indexOf('{');
  if (open < 0) return null;
  const close = text.indexOf('}', open + 1);
  return close > open + 1 ? text.slice(open + 1, close) : null;
}

/** A one-line description without credentials, for logs and `--help`-style output. */
export function describeRedisTarget(target: RedisTarget): string {
  const tls = target.tls ? ' over TLS' : '';
  const list = (nodes: HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (target.mode) {
    case 'standalone':
      return `redis ${target.host}:${target.port}/${target.db}${tls}`;
    case 'sentinel':
      return `sentinel master "${target.name}" via ${list(target.sentinels)}${tls}`;
    case 'cluster':
      return `cluster via ${list(target.nodes)}${tls}`;
  }
}

/** A `redis://` or `rediss://` URL (`[user[:password]@]host[:port][/db]`) as a standalone target. */
export function parseRedisUrl(url: string): Extract<RedisTarget, { mode: 'standalone' }> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error('must be a redis:// or rediss:// URL');
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error('the path must be a database number, e.g. redis://host:6379/0');
  return {
    mode: 'standalone',
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
    tls: parsed.protocol === 'rediss:',
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}
