import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: RedisServer | null = null;

/** One real redis-server per test run unless REDIS_URL is given; tests isolate by key prefix. */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    redis = await startRedisServer();
    url = redis.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
