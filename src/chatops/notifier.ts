import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import type { ReleaseEventKind } from '../core/effect.js';
import type { Notifier } from '../core/ports.js';
import type { Definition } from '../core/definition.js';
import type { Release } from '../core/release.js';
import { announcedEvent, notificationText } from './notification-text.js';
import { hostOf, postWithRetries, sleep, type FetchLike } from './post-json.js';
import { createRedisTokenBucket, type RateLimit } from './token-bucket.js';

export interface ChatNotifierOptions {
  /** Shared by every replica: deduplication keys and the rate-limit buckets live here. */
  redis: RedisClient;
  /** Key prefix (the engine's BullMQ prefix is fine). */
  prefix: string;
  /** SLACK_WEBHOOK_URL: an incoming webhook; definitions with `notify.slack` post through it. */
  slackWebhookUrl?: string;
  /** MATTERMOST_WEBHOOK_URL: an incoming webhook; definitions with `notify.mattermost` post through it. */
  mattermostWebhookUrl?: string;
  publicUrl?: string;
  /** Per webhook, across replicas. Default: bursts of 5, then 1 message/s (Slack's incoming-webhook limit). */
  rateLimit?: RateLimit;
  /** A message still without a token after this long is dropped (logged). Default 5 min. */
  maxRateWaitMs?: number;
  /** Default 4 attempts, 1 s base backoff (1, 2, 4 s), 5 s per attempt. */
  retry?: { attempts: number; baseDelayMs: number; timeoutMs: number };
  /** How long "this event was announced" is remembered. Default 7 days. */
  dedupeTtlSeconds?: number;
  fetch?: FetchLike;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  now?: () => number;
}

export interface ChatNotifier extends Notifier {
  /**
   * A message that is not about one release (a release train's progress), to the channels of
   * `notify`; announced once per `key` across replicas, in order per `chain`.
   */
  announce(key: string, chain: string, notify: Definition['notify'], text: { slack: string; mattermost: string }): void;
  /** Resolves when every message handed over so far was sent or given up on (tests, shutdown). */
  idle(): Promise<void>;
}

type Flavor = 'slack' | 'mattermost';

/**
 * Chat notifications for the `Notifier` port. `notify` only hands the message to a background
 * sender and returns: it never throws and never waits for the chat service, so a chat outage cannot
 * slow or fail a release. Each (release, attempt, step, event, platform) is announced once across
 * replicas (RedisClient SET NX, claimed before sending: at most once, a crash between claim and send loses
 * that message), messages of one release go out in order within a process, and a Redis token bucket
 * per webhook keeps every replica together under the platform's rate limit.
 */
export function createChatNotifier(options: ChatNotifierOptions): ChatNotifier {
  const fetchFn = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const now = options.now ?? Date.now;
  const bucket = createRedisTokenBucket(options.redis, options.rateLimit ?? { capacity: 5, perSecond: 1 });
  const retry = options.retry ?? { attempts: 4, baseDelayMs: 1_000, timeoutMs: 5_000 };
  const maxRateWaitMs = options.maxRateWaitMs ?? 5 * 60_000;
  const ttl = options.dedupeTtlSeconds ?? 7 * 24 * 3600;
  const urls: Record<Flavor, string | undefined> = { slack: options.slackWebhookUrl, mattermost: options.mattermostWebhookUrl };
  const chains = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();

  /** Renders now (the engine may reuse the release object), sends later. */
  const prepare = (release: Release, event: ReleaseEventKind, flavor: Flavor, channel: string): (() => Promise<void>) | null => {
    const text = notificationText(release, event, { flavor, ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) });
    if (!text) return null;
    const key = `${options.prefix}:chat-notify:${release.id}:${release.attempt}:${release.stepIndex}:${event}:${flavor}`;
    return sender(key, flavor, channel, text, { releaseId: release.id, event, flavor });
  };

  /** Claims `key` once across replicas, waits for the rate limit, posts with retries. */
  const sender = (key: string, flavor: Flavor, channel: string, text: string, fields: Record<string, string>): (() => Promise<void>) | null => {
    const url = urls[flavor];
    if (!url) return null;
    const body = flavor === 'slack' ? { channel, text } : { channel: channel.replace(/^[#~]/, ''), text, username: 'canarybot' };
    return async () => {
      const claimed = await options.redis.set(key, String(now()), 'EX', ttl, 'NX');
      if (claimed !== 'OK') return;
      const started = now();
      for (;;) {
        const wait = await bucket.take(`${options.prefix}:chat-rate:${flavor}`);
        if (wait === 0) break;
        if (now() - started + wait > maxRateWaitMs) {
          options.logger?.warn(fields, 'chat notification dropped: rate limit');
          return;
        }
        await sleep(wait);
      }
      const result = await postWithRetries(fetchFn, url, body, retry);
      if (!result.ok) options.logger?.warn({ ...fields, host: hostOf(url), status: result.status }, 'chat notification not delivered');
    };
  };

  const enqueue = (releaseId: string, task: () => Promise<void>): void => {
    const previous = chains.get(releaseId) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      options.logger?.warn({ releaseId, err: error }, 'chat notification failed');
    });
    chains.set(releaseId, next);
    pending.add(next);
    void next.finally(() => {
      pending.delete(next);
      if (chains.get(releaseId) === next) chains.delete(releaseId);
    });
  };

  return {
    announce(key, chain, notify, text) {
      try {
        const tasks = [
          notify?.slack && sender(`${options.prefix}:chat-notify:${key}:slack`, 'slack', notify.slack.channel, text.slack, { key, flavor: 'slack' }),
          notify?.mattermost && sender(`${options.prefix}:chat-notify:${key}:mattermost`, 'mattermost', notify.mattermost.channel, text.mattermost, { key, flavor: 'mattermost' }),
        ];
        for (const task of tasks) if (task) enqueue(chain, task);
      } catch (error) {
        options.logger?.warn({ key, err: error }, 'chat notification failed');
      }
    },
    async notify(release, event) {
      try {
        const announced = announcedEvent(release, event);
        if (!announced) return;
        const { slack, mattermost } = release.definition.notify ?? {};
        const tasks = [slack && prepare(release, announced, 'slack', slack.channel), mattermost && prepare(release, announced, 'mattermost', mattermost.channel)];
        for (const task of tasks) if (task) enqueue(release.id, task);
      } catch (error) {
        options.logger?.warn({ releaseId: release?.id, event, err: error }, 'chat notification failed');
      }
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
