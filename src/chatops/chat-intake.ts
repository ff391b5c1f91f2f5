import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { RedisClient } from '../redis/connect-redis.js';
import type { Logger } from 'pino';
import type { ChatRequest } from './chat-request.js';
import type { ChatCommandHandler } from './handle-chat-command.js';

/** Between the chat routes (which only verify, parse and acknowledge) and the command handler. */
export interface ChatIntake {
  /** Hands the command over; resolves once it is safely queued. */
  submit(request: ChatRequest): Promise<void>;
  /** Stops taking work; waits for commands in progress. */
  close(): Promise<void>;
}

export const CHAT_INTAKE_QUEUE = 'chat-intake';

/**
 * The connection chat commands are queued through. No offline queue and no retries: while Redis is
 * away an add fails at once instead of waiting in ioredis' queue and running after the user was told
 * "nothing was changed".
 */
export const CHAT_SUBMIT_REDIS_OPTIONS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000 };

export interface QueuedChatIntakeOptions {
  connection: ConnectionOptions;
  /**
   * Where `submit` adds jobs: an ioredis instance made with CHAT_SUBMIT_REDIS_OPTIONS. Without it
   * `connection` is used, whose offline queue may run a command after its acknowledgement timed out.
   */
  submitConnection?: RedisClient;
  /** BullMQ key prefix (default `bull`); the same Redis as the engine. */
  prefix?: string;
  /** Runs the commands; omit on replicas that only receive (then another replica must run a worker). */
  handler?: ChatCommandHandler;
  concurrency?: number;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * A BullMQ queue `chat-intake`: any replica may answer Slack, any replica may run the command.
 * One attempt: the handler never throws (it always replies), and a command replayed after a
 * crash could act twice on what a person asked once.
 */
export function createQueuedChatIntake(options: QueuedChatIntakeOptions): ChatIntake {
  const prefix = options.prefix ? { prefix: options.prefix } : {};
  const submitConnection = options.submitConnection;
  const queue = new Queue<ChatRequest>(CHAT_INTAKE_QUEUE, {
    connection: submitConnection ?? options.connection,
    ...prefix,
    defaultJobOptions: { attempts: 1, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
  });
  const handler = options.handler;
  const worker = handler
    ? new Worker<ChatRequest>(CHAT_INTAKE_QUEUE, (job) => handler(job.data), {
        connection: options.connection,
        ...prefix,
        concurrency: options.concurrency ?? 8,
        // An accepted chat command survives its worker dying (BullMQ's default fails it the second time).
        maxStalledCount: 1_000,
      })
    : null;
  worker?.on('error', (error) => options.logger?.warn({ err: error }, 'chat intake worker error'));
  queue.on('error', (error) => options.logger?.warn({ err: error }, 'chat intake queue error'));
  return {
    async submit(request) {
      // Not connected: refuse now. BullMQ would otherwise wait for the connection and add later.
      if (submitConnection && submitConnection.status !== 'ready') throw new Error(`chat intake: redis is ${submitConnection.status}`);
      await queue.add('command', request);
    },
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

/** Runs the handler in this process after answering (no Redis): for tests and single-process setups. */
export function createInlineChatIntake(handler: ChatCommandHandler): ChatIntake {
  const running = new Set<Promise<void>>();
  return {
    async submit(request) {
      const task = new Promise<void>((resolve) => setImmediate(resolve)).then(() => handler(request)).catch(() => undefined);
      running.add(task);
      void task.finally(() => running.delete(task));
    },
    async close() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
