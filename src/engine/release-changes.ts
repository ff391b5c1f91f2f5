// Change notifications of the release store over Redis pub/sub: every replica's writes reach every
// replica's listeners (the dashboard's event stream), so a browser connected to any replica sees
// every release move. Pub/sub is fire-and-forget: a listener that was disconnected gets `resync`
// when its connection is back and reads the store again instead of trusting what it missed.

import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import type { ReleaseState } from '../core/release.js';

export interface ReleaseChange {
  id: string;
  version: number;
  state: ReleaseState;
}

export type ReleaseChangeEvent = { kind: 'change'; change: ReleaseChange } | { kind: 'resync' };

export type ReleaseChangeListener = (event: ReleaseChangeEvent) => void;

export interface ReleaseChanges {
  /** Listen to every release write; returns the function that stops listening. */
  subscribe(listener: ReleaseChangeListener): () => void;
  close(): Promise<void>;
}

export function releaseChangesChannel(prefix: string): string {
  return `${prefix}:store:changes`;
}

/** Tell the listeners of every replica that a release was written. A lost notice is not an error: the write stands. */
export async function publishReleaseChange(redis: RedisClient, channel: string, change: ReleaseChange): Promise<void> {
  await redis.publish(channel, JSON.stringify(change)).catch(() => undefined);
}

export interface ReleaseChangesOptions {
  /** A connection to duplicate: a subscribed connection can do nothing else. */
  redis: RedisClient;
  prefix: string;
  logger?: Logger;
}

/** One subscribed connection per process, opened with the first listener, shared by all of them. */
export function createReleaseChanges(options: ReleaseChangesOptions): ReleaseChanges {
  const channel = releaseChangesChannel(options.prefix);
  const listeners = new Set<ReleaseChangeListener>();
  let subscriber: RedisClient | null = null;
  let readyOnce = false;

  const emit = (event: ReleaseChangeEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        options.logger?.warn({ err: (error as Error).message }, 'release change listener failed');
      }
    }
  };

  const open = (): RedisClient => {
    // Same options as the given connection (from the one factory; Cluster or single node alike).
    const connection = options.redis.duplicate();
    connection.on('error', (error: Error) => options.logger?.debug({ err: error.message }, 'release changes: redis connection error'));
    // ioredis re-subscribes by itself after a reconnect; what was published meanwhile is lost.
    connection.on('ready', () => {
      if (readyOnce) emit({ kind: 'resync' });
      readyOnce = true;
    });
    connection.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const change = parseChange(message);
      if (change) emit({ kind: 'change', change });
    });
    void connection.subscribe(channel).catch((error: Error) => options.logger?.warn({ err: error.message }, 'release changes: cannot subscribe'));
    return connection;
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      subscriber ??= open();
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      const connection = subscriber;
      subscriber = null;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}

function parseChange(message: string): ReleaseChange | null {
  try {
    const value = JSON.parse(message) as Partial<ReleaseChange>;
    if (typeof value.id !== 'string' || typeof value.version !== 'number' || typeof value.state !== 'string') return null;
    return { id: value.id, version: value.version, state: value.state };
  } catch {
    return null;
  }
}
