// A Redis-backed outbox for GitLab writes. Callers store what they want GitLab to show (elsewhere
// in Redis) and `schedule(id)` it; a poll loop claims due ids one at a time (a lease plus a lock,
// so replicas sharing one Redis never sync the same id at once and a crashed replica's work comes
// due again), runs the handler, and reschedules with exponential backoff when GitLab is down.
// Scheduling an id that is already due is a no-op: many reports between two syncs coalesce into
// one sync of the newest state. Writes draw from one budget per window shared by all replicas.

import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';

export type SyncOutcome =
  | { kind: 'done' }
  /** GitLab unavailable: try again after backoff. */
  | { kind: 'transient' }
  /** Out of write budget: try again after this long. */
  | { kind: 'wait'; ms: number };

export interface SyncTools {
  /** Take one write from the shared budget: 0 when granted, else ms until the budget refills. */
  takeWrite(): Promise<number>;
}

export type SyncHandler = (id: string, tools: SyncTools) => Promise<SyncOutcome>;

export interface WritebackOutboxOptions {
  redis: RedisClient;
  /** Key prefix (shared with the reporter's keys). */
  prefix: string;
  /** Write budget per window (GITLAB_WRITES_PER_MINUTE, default 60). */
  writesPerWindow?: number;
  windowMs?: number;
  pollMs?: number;
  leaseMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  now?: () => number;
}

export const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 20)
for _, id in ipairs(ids) do
  if redis.call('SET', ARGV[4] .. id, ARGV[2], 'NX', 'PX', ARGV[3]) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    return {id, tostring(tonumber(ARGV[1]) + tonumber(ARGV[3]))}
  end
end
return false
`;

// ARGV: id, token, leaseScore, nextDue (-1: remove unless rescheduled meanwhile), lockPrefix
export const FINISH = `
local lock = ARGV[5] .. ARGV[1]
if redis.call('GET', lock) == ARGV[2] then redis.call('DEL', lock) end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[3]) then
  if tonumber(ARGV[4]) < 0 then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  end
end
return 1
`;

export const TAKE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 1 end
return 0
`;

export class WritebackOutbox {
  private readonly o: Required<Omit<WritebackOutboxOptions, 'logger'>> & Pick<WritebackOutboxOptions, 'logger'>;
  private readonly due: string;
  private readonly attempts: string;
  private readonly lockPrefix: string;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    options: WritebackOutboxOptions,
    private readonly handler: SyncHandler,
  ) {
    this.o = {
      writesPerWindow: 60,
      windowMs: 60_000,
      pollMs: 500,
      leaseMs: 60_000,
      backoffBaseMs: 1000,
      backoffMaxMs: 60_000,
      now: Date.now,
      ...options,
    };
    this.due = `${options.prefix}:wb:due`;
    this.attempts = `${options.prefix}:wb:attempts`;
    this.lockPrefix = `${options.prefix}:wb:lock:`;
  }

  /** Make `id` due now (or at `at`); an earlier due time is kept. */
  async schedule(id: string, at?: number): Promise<void> {
    await this.o.redis.zadd(this.due, 'LT', at ?? this.o.now(), id);
    this.kick();
  }

  /** Start polling (replicas pick up each other's due work and work that outlived a crash). */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), this.o.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Drain due work now, in the background; never throws. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.o.logger?.warn({ err: error }, 'gitlab write-back loop failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stop polling and wait for the sync in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let i = 0; i < 1000 && !this.closed; i += 1) {
      const token = randomUUID();
      const claimed = (await this.o.redis.eval(
        CLAIM,
        1,
        this.due,
        String(this.o.now()),
        token,
        String(this.o.leaseMs),
        this.lockPrefix,
      )) as [string, string] | null;
      if (!claimed) return;
      const [id, leaseScore] = claimed;
      const nextDue = await this.run(id);
      await this.o.redis.eval(FINISH, 2, this.due, this.attempts, id, token, leaseScore, String(nextDue), this.lockPrefix);
    }
  }

  /** -1 when done, else when to try again. */
  private async run(id: string): Promise<number> {
    let outcome: SyncOutcome;
    try {
      outcome = await this.handler(id, { takeWrite: () => this.takeWrite() });
    } catch (error) {
      // A bug or a Redis hiccup in the handler: back off like an outage rather than spin.
      this.o.logger?.warn({ id, err: error }, 'gitlab write-back sync threw');
      outcome = { kind: 'transient' };
    }
    if (outcome.kind === 'done') return -1;
    if (outcome.kind === 'wait') return this.o.now() + Math.max(1, outcome.ms);
    const attempt = await this.o.redis.hincrby(this.attempts, id, 1);
    const delay = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.min(20, attempt - 1));
    this.o.logger?.debug({ id, attempt, delay }, 'gitlab write-back retry scheduled');
    return this.o.now() + delay;
  }

  private async takeWrite(): Promise<number> {
    const now = this.o.now();
    const window = Math.floor(now / this.o.windowMs);
    const over = (await this.o.redis.eval(
      TAKE,
      1,
      `${this.o.prefix}:wb:rate:${window}`,
      String(this.o.writesPerWindow),
      String(this.o.windowMs * 2),
    )) as number;
    return over === 1 ? (window + 1) * this.o.windowMs - now : 0;
  }
}
