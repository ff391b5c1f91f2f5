import type { ConnectionOptions } from 'bullmq';
import type { RedisClient } from '../redis/connect-redis.js';
import { Cluster, Redis } from 'ioredis';
import { ConfigError } from '../config.js';
import type { Logger } from 'pino';
import type { CommandReplier } from '../core/ports.js';
import type { ReleaseEngine } from '../engine/api.js';
import type { GitLabApi } from '../gitlab/gitlab-api.js';
import type { Metrics } from '../metrics.js';
import type { RouteModule } from '../server/app.js';
import { mattermostRoute } from '../server/routes/mattermost.js';
import { slackRoute } from '../server/routes/slack.js';
import { createQueuedChatIntake } from './chat-intake.js';
import { createChatCommandHandler, type ChatCommandHandlerOptions } from './handle-chat-command.js';
import { createIdentityResolver, loadChatUsers } from './identity.js';
import { createSlackEmailLookup } from './slack-email-lookup.js';

export interface ChatCommandsOptions {
  engine: Pick<ReleaseEngine, 'list' | 'command'>;
  /** Release trains (`/canary train start`). */
  trains?: ChatCommandHandlerOptions['trains'];
  /** Records the intake's own refusals for GET /api/audit. */
  audit?: ChatCommandHandlerOptions['audit'];
  gitlab: Pick<GitLabApi, 'userByUsername' | 'usersByEmail' | 'memberAccessLevel' | 'groupMemberAccessLevel' | 'getMergeRequest'>;
  /** The engine's Redis (BullMQ needs `maxRetriesPerRequest: null` on an ioredis instance). */
  connection: ConnectionOptions;
  /** Where commands are queued: made with CHAT_SUBMIT_REDIS_OPTIONS, so a refused command never runs later. */
  submitConnection?: RedisClient;
  /** BullMQ prefix, e.g. the engine's. */
  prefix?: string;
  /** SLACK_SIGNING_SECRET; unset → no Slack route. */
  slackSigningSecret?: string;
  /** MATTERMOST_TOKEN; unset → no Mattermost route. */
  mattermostToken?: string;
  /** MATTERMOST_URL: required with mattermostToken; a command whose response_url is elsewhere is refused. */
  mattermostUrl?: string;
  /** CHAT_USERS_FILE */
  chatUsersFile?: string;
  /** CHAT_LOOKUP_BY_EMAIL */
  chatLookupByEmail?: boolean;
  /** A Slack bot token with `users:read.email`, for e-mail lookup of Slack users. */
  slackBotToken?: string;
  /** Slack's Web API base (default https://slack.com/api). */
  slackApiUrl?: string;
  /** Answers read commands and refusals: the ChatReplier (the same one the engine's ports use). */
  replier: CommandReplier;
  /** false on replicas that should only receive; default true (runs the chat-intake worker). */
  runWorker?: boolean;
  logger?: Logger;
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
}

export interface ChatCommands {
  /** `POST /chatops/slack` and/or `POST /chatops/mattermost`, for `buildApp({ routes })`. */
  routes: RouteModule[];
  close(): Promise<void>;
}

/** Wires the chat slash commands for `canarybot serve`: identity, handler, the chat-intake queue and the routes. */
export async function createChatCommands(options: ChatCommandsOptions): Promise<ChatCommands> {
  if (options.mattermostToken && !options.mattermostUrl) {
    throw new ConfigError('MATTERMOST_URL', 'is required with MATTERMOST_TOKEN (or set MATTERMOST_WEBHOOK_URL): slash command replies are posted only to that server');
  }
  const mapping = options.chatUsersFile ? await loadChatUsers(options.chatUsersFile) : undefined;
  if (options.chatLookupByEmail && options.slackSigningSecret && !options.slackBotToken) {
    options.logger?.warn('CHAT_LOOKUP_BY_EMAIL is on but SLACK_BOT_TOKEN is not set: Slack users can only be mapped through CHAT_USERS_FILE');
  }
  const identity = createIdentityResolver({
    gitlab: options.gitlab,
    ...(mapping ? { mapping } : {}),
    ...(options.chatLookupByEmail ? { lookupByEmail: true } : {}),
    ...(options.chatLookupByEmail && options.slackBotToken ? { emailOf: createSlackEmailLookup({ token: options.slackBotToken, ...(options.slackApiUrl ? { apiUrl: options.slackApiUrl } : {}) }) } : {}),
  });
  const handler = createChatCommandHandler({
    engine: options.engine,
    identity,
    gitlab: options.gitlab,
    replier: options.replier,
    ...(options.trains ? { trains: options.trains } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const intake = createQueuedChatIntake({
    connection: options.connection,
    ...(options.submitConnection ? { submitConnection: options.submitConnection } : {}),
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.runWorker === false ? {} : { handler }),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const shared = { intake, ...(options.metrics ? { metrics: options.metrics } : {}), ...(options.audit ? { audit: options.audit } : {}) };
  const routes: RouteModule[] = [];
  const nonceRedis = options.submitConnection ?? (options.connection instanceof Redis || options.connection instanceof Cluster ? options.connection : null);
  const prefix = options.prefix ?? 'bull';
  // Beside the chat-intake queue's keys (same prefix), so a Cluster hash tag in the prefix covers it.
  const nonces = nonceRedis
    ? { claim: async (key: string, ttlSeconds: number) => (await nonceRedis.set(`${prefix}:chat-intake:nonce:slack:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK' }
    : undefined;
  if (options.slackSigningSecret) routes.push(slackRoute({ ...shared, signingSecret: options.slackSigningSecret, ...(nonces ? { nonces } : {}) }));
  if (options.mattermostToken) routes.push(mattermostRoute({ ...shared, token: options.mattermostToken, responseOrigins: [new URL(options.mattermostUrl!).origin] }));
  return { routes, close: () => intake.close() };
}
