// The one place that opens Redis connections. Every caller — the release store, BullMQ queues and
// workers, the webhook inbox, the write-back outbox, the chat rate limiter, `canarybot status`, the
// demo — asks this factory, so TLS, Sentinel and Cluster work everywhere or nowhere.

import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-target.js';

/** A connection as callers use it: a single node (standalone or via Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Per-caller behaviour, mode-independent: how long a command may wait for a lost connection.
 * (ioredis spreads these over `Cluster` and its `redisOptions`; the factory does that mapping.)
 */
export type ConnectionBehaviour = Pick<
  RedisOptions,
  'maxRetriesPerRequest' | 'enableOfflineQueue' | 'commandTimeout' | 'retryStrategy' | 'lazyConnect' | 'connectTimeout' | 'connectionName'
>;

export interface RedisConnections {
  readonly target: RedisTarget;
  /** A new connection with the caller's behaviour on top of the target's address, auth and TLS. */
  open(behaviour?: ConnectionBehaviour): RedisClient;
}

/** Connections to a single Redis at `url` (tests, tools and callers that only know a URL). */
export function redisConnectionsForUrl(url: string): RedisConnections {
  return redisConnections(parseRedisUrl(url));
}

/** Reconnect quickly (≤ 2 s) so workers resume soon after a restart or failover. */
const RECONNECT = (times: number): number => Math.min(times * 100, 2_000);

export function redisConnections(target: RedisTarget): RedisConnections {
  return {
    target,
    open(behaviour = {}) {
      const tls = target.tls ? { tls: target.ca ? { ca: target.ca } : {} } : {};
      const auth = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
      const node: RedisOptions = { retryStrategy: RECONNECT, ...behaviour, ...auth, ...tls };
      switch (target.mode) {
        case 'standalone':
          return new Redis({ ...node, host: target.host, port: target.port, db: target.db });
        case 'sentinel':
          return new Redis({
            ...node,
            db: target.db,
            name: target.name,
            sentinels: target.sentinels,
            ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
            // Sentinels and the master share the TLS setting (managed services terminate both).
            ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: node.tls ?? {} } : {}),
            sentinelRetryStrategy: RECONNECT,
            // After a failover, the old master may answer READONLY as a replica: reconnect to the new one.
            reconnectOnError: (error) => error.message.startsWith('READONLY'),
          });
        case 'cluster':
          return new Cluster(target.nodes, clusterOptions(node, behaviour));
      }
    },
  };
}

function clusterOptions(node: RedisOptions, behaviour: ConnectionBehaviour): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = node;
  return {
    redisOptions: { ...perNode, ...(behaviour.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: behaviour.enableOfflineQueue }) },
    clusterRetryStrategy: (times) => (retryStrategy ? retryStrategy(times) : RECONNECT(times)),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect ? { lazyConnect } : {}),
    // Certificates name the host names; keep them instead of resolving to addresses (TLS SNI).
    ...(node.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
    // A restarted master: retry moved/failed commands while the cluster settles.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2_000,
  };
}

/** Every master of the client (one for a single node), for checks that must see each of them. */
export function mastersOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Close without waiting for a connection that may never come back. */
export async function closeRedis(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
