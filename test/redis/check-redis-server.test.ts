// The start-up checks against a real redis-server: eviction refused, no persistence warned about,
// a CONFIG forbidden by ACL (as on managed Redis) warned about once, a good server silent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisServer } from '../../src/redis/check-redis-server.js';
import { closeRedis, redisConnectionsForUrl, type RedisClient } from '../../src/redis/connect-redis.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

let server: RedisServer;
const opened: RedisClient[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  for (const client of opened) await closeRedis(client);
  await server?.stop();
});

function connect(url = server.url): RedisClient {
  const client = redisConnectionsForUrl(url).open({ maxRetriesPerRequest: 1 });
  opened.push(client);
  return client;
}

describe('checkRedisServer', () => {
  it('refuses an evicting Redis with one line, and warns when nothing is persisted', async () => {
    const admin = connect();
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const findings = await checkRedisServer(admin);

      expect(findings.refusal).toBe(
        'Redis maxmemory-policy is allkeys-lru; BullMQ and the release store need noeviction (CONFIG SET maxmemory-policy noeviction, or your service\'s parameter group)',
      );
      expect(findings.warnings).toEqual(['Redis has neither AOF nor RDB persistence: a Redis restart loses every release in flight (enable appendonly yes)']);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('is silent on noeviction with AOF on', async () => {
    const admin = connect();
    await admin.config('SET', 'appendonly', 'yes');
    try {
      expect(await checkRedisServer(admin)).toEqual({ refusal: null, warnings: [] });
    } finally {
      await admin.config('SET', 'appendonly', 'no');
    }
  });

  it('warns once and goes on when CONFIG is forbidden (a managed service)', async () => {
    const admin = connect();
    await admin.call('ACL', 'SETUSER', 'managed', 'on', '>managed-pw', '~*', '&*', '+@all', '-config');
    const managed = connect(server.url.replace('redis://', 'redis://managed:managed-pw@'));

    const findings = await checkRedisServer(managed);

    expect(findings.refusal).toBeNull();
    expect(findings.warnings).toHaveLength(1);
    expect(findings.warnings[0]).toMatch(/^cannot read the Redis configuration \(CONFIG GET: NOPERM.*\); make sure maxmemory-policy is noeviction and persistence is on$/);
  });
});
