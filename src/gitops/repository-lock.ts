// Writes to one config repository and branch are serialised across replicas: a Redis lock per
// (repository, branch) — SET NX PX with a random token, released only by its holder (compare and
// delete in one script), with a lease so a dead replica cannot hold it for ever.

import { randomBytes } from 'node:crypto';
import { CanarybotError } from '../core/errors.js';
import type { RedisClient } from '../redis/connect-redis.js';

export interface RepositoryLock {
  /** Runs `work` while holding the lock of (repository, branch). */
  withLock<T>(repository: string | number, branch: string, work: () => Promise<T>): Promise<T>;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function redisRepositoryLock(redis: RedisClient, options: { prefix: string; leaseMs?: number; waitMs?: number }): RepositoryLock {
  const leaseMs = options.leaseMs ?? 60_000;
  const waitMs = options.waitMs ?? 30_000;
  return {
    async withLock(repository, branch, work) {
      const key = `${options.prefix}:gitops:lock:${String(repository)}:${branch}`;
      const token = randomBytes(12).toString('hex');
      const until = Date.now() + waitMs;
      while ((await redis.set(key, token, 'PX', leaseMs, 'NX')) !== 'OK') {
        if (Date.now() >= until) throw new CanarybotError('GITOPS_RACE', `another canarybot replica held the write lock of ${String(repository)}@${branch} for ${waitMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
      }
      try {
        return await work();
      } finally {
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      }
    },
  };
}

/** For a single process (tests, the demo): one promise chain per (repository, branch). */
export function inProcessRepositoryLock(): RepositoryLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async withLock(repository, branch, work) {
      const key = `${String(repository)}@${branch}`;
      const previous = tails.get(key) ?? Promise.resolve();
      const run = previous.catch(() => undefined).then(work);
      tails.set(key, run);
      return run;
    },
  };
}
