// What BullMQ and the release store need from the Redis server, checked once at start-up:
// `maxmemory-policy noeviction` (an evicted job or lock silently loses a release) and some
// persistence (without AOF or RDB, a Redis restart forgets every release in flight). Managed
// services often forbid CONFIG: then we say so once and go on.

import type { Redis } from 'ioredis';
import { mastersOf, type RedisClient } from './connect-redis.js';

export interface RedisServerFindings {
  /** Why canarybot must not start on this Redis (one line), or null. */
  refusal: string | null;
  /** Worth one warning each at start-up. */
  warnings: string[];
}

export class RedisRequirementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisRequirementError';
  }
}

export async function checkRedisServer(client: RedisClient): Promise<RedisServerFindings> {
  await client.ping();
  const warnings: string[] = [];
  const refusals: string[] = [];
  let configForbidden: string | null = null;
  for (const node of mastersOf(client)) {
    const where = mastersOf(client).length > 1 ? ` on ${node.options.host}:${node.options.port}` : '';
    const settings = await readSettings(node);
    if (settings === null || typeof settings === 'string') {
      configForbidden ??= settings ?? 'no answer';
      continue;
    }
    if (settings.policy !== 'noeviction') {
      refusals.push(`Redis maxmemory-policy is ${settings.policy}${where}; BullMQ and the release store need noeviction (CONFIG SET maxmemory-policy noeviction, or your service's parameter group)`);
    }
    if (settings.appendonly !== 'yes' && settings.save.trim() === '') {
      warnings.push(`Redis has neither AOF nor RDB persistence${where}: a Redis restart loses every release in flight (enable appendonly yes)`);
    }
  }
  if (configForbidden !== null) {
    warnings.push(`cannot read the Redis configuration (CONFIG GET: ${configForbidden}); make sure maxmemory-policy is noeviction and persistence is on`);
  }
  return { refusal: refusals[0] ?? null, warnings };
}

/** The three settings, or the server's refusal (managed Redis: unknown command, NOPERM). */
async function readSettings(node: Redis): Promise<{ policy: string; appendonly: string; save: string } | string | null> {
  try {
    const read = async (name: string): Promise<string> => {
      const pair = (await node.config('GET', name)) as string[];
      return pair[1] ?? '';
    };
    return { policy: await read('maxmemory-policy'), appendonly: await read('appendonly'), save: await read('save') };
  } catch (error) {
    return firstLine((error as Error).message);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
