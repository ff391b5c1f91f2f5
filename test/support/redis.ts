import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** The run's Redis and a prefix unique to the calling test file, so tests never see each other's keys. */
export function testRedis(): { url: string; prefix: string } {
  return { url: inject('redisUrl'), prefix: `cbtest-${randomUUID().slice(0, 8)}` };
}
