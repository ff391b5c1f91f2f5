// The one composition root: configuration → definitions → adapters → engine and intake workers →
// the HTTP app with every route. `canarybot serve`, the demo and the end-to-end tests all build the
// bot here; `overrides` swaps single adapters (a simulated metric source, a fake clock) without
// duplicating any wiring.

import { prometheusChecks } from './prometheus-readiness.js';
import { recordWaits, releaseWaits, waitDetails } from './release-waits.js';
import { refreshReleaseGauges } from './release-gauges.js';
import { Queue, type Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, secretValues, type Config } from '../config.js';
import type { Definition } from '../core/definition.js';
import type { Ports } from '../core/ports.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { TrainRunner, type TrainRunnerTiming } from '../engine/train-runner.js';
import { createRedisTrainStore } from '../engine/train-store.js';
import { createGitLabConfigRepository } from '../gitops/gitlab-config-repository.js';
import { createGitOpsAdapter } from '../gitops/gitops-adapter.js';
import { redisRepositoryLock } from '../gitops/repository-lock.js';
import { createSyncController } from '../gitops/sync-controller.js';
import type { ClusterRegistry } from '../mesh/cluster-registry.js';
import type { Clock, ClusterEventRecorder, GitOpsPort, CommandReplier, GateEvaluator, Notifier, TrafficRouter, WorkloadController } from '../core/ports.js';
import { CHAT_SUBMIT_REDIS_OPTIONS } from '../chatops/chat-intake.js';
import { createChatCommands, type ChatCommands } from '../chatops/create-chat-commands.js';
import { createChatReplier } from '../chatops/chat-replier.js';
import { createChatNotifier, type ChatNotifier } from '../chatops/notifier.js';
import { trainNotification } from '../chatops/format-train.js';
import { createEngine, type Engine, type EngineOptions } from '../engine/create-engine.js';
import { createIntakeAudit } from '../engine/intake-audit.js';
import { QUEUE_NAME } from '../engine/jobs.js';
import { createReleaseChanges } from '../engine/release-changes.js';
import type { AlertGate } from '../gates/alertmanager.js';
import { loadAlertPresets } from '../gates/alert-presets.js';
import { createGateEvaluator } from '../gates/gate-evaluator.js';
import { createGateProviders, definitionsMissingAlertmanager, missingAlertmanagerProblem } from '../gates/gate-providers.js';
import type { MetricProvider } from '../gates/query-outcome.js';
import type { Backoff } from '../core/backoff.js';
import { createBotIdentity } from '../gitlab/bot-identity.js';
import { createApiAuth, type ApiAuth, type TokenSource } from '../api/api-auth.js';
import { createApiReplies } from '../api/api-replies.js';
import { createCallerIdentity } from '../api/caller-identity.js';
import { commandsRoute } from '../api/commands-route.js';
import { meRoute } from '../api/me-route.js';
import { createGitLabClient, gitlabUserOfToken } from '../gitlab/client.js';
import { FreezeCalendar } from '../gitlab/freeze-calendar.js';
import type { GitLabApi, GitLabUser } from '../gitlab/gitlab-api.js';
import { createGitLabWriteback, type GitLabWriteback } from '../gitlab/gitlab-writeback.js';
import { createIntakeForwarder, type IntakeForwarder } from '../gitlab/intake-forwarder.js';
import { createIntakeInbox, INBOX_REDIS_OPTIONS } from '../gitlab/intake-inbox.js';
import { createIntakeQueue } from '../gitlab/intake-queue.js';
import { createIntakeWorker } from '../gitlab/intake-worker.js';
import type { IntakeJob } from '../gitlab/intake-job.js';
import { createMesh } from '../mesh/create-mesh.js';
import { TenantPolicy } from '../mesh/tenants.js';
import type { AdmissionConfig } from '../engine/admission-queue.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { checkRedisServer, RedisRequirementError } from '../redis/check-redis-server.js';
import { closeRedis, redisConnections } from '../redis/connect-redis.js';
import { describeRedisTarget } from '../redis/redis-target.js';
import { createIdleWatch, IDLE_WITH_BACKLOG_WINDOW_MS } from '../engine/idle-watch.js';
import { formatDefinitionError } from '../pipelines/definition-error.js';
import { loadDefinitions } from '../pipelines/load-definitions.js';
import { buildApp, type RouteModule } from './app.js';
import { createCompositeReplier } from './composite-replier.js';
import { createLogger } from './create-logger.js';
import { withReleaseLogs } from './release-logs.js';
import { alertWebhookRoutes } from './routes/alert-webhook.js';
import { alertmanagerWebhookRoutes } from './routes/alertmanager-webhook.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { deliveryLogs } from './routes/delivery-logs.js';
import { eventsRoute } from './routes/events.js';
import { gitlabOAuthRoutes, type GitLabOAuthSettings } from './routes/gitlab-oauth.js';
import { gitlabWebhookRoute } from './routes/gitlab-webhook.js';
import { metricsRoute } from './routes/metrics.js';
import { readinessRoute, type ReadinessCheck } from './routes/readiness.js';
import { auditRoute } from './routes/audit.js';
import { releasesRoutes } from './routes/releases.js';
import { trainsRoutes } from './routes/trains.js';

/** The Kubernetes/Istio side: the two ports plus the readiness probe of a cluster. */
export interface BotMesh {
  router: TrafficRouter;
  workloads: WorkloadController;
  /** Kubernetes Events on the changed objects (optional). */
  events?: ClusterEventRecorder;
  /** spec.gitops.sync: the Argo CD / Flux objects live in these clusters (optional). */
  registry?: ClusterRegistry;
  /** Whether the cluster (kubeconfig context name, `default` included) answers, for /readyz. */
  reachable(cluster: string): Promise<boolean>;
}

/** Single adapters to swap; everything not given is built from the configuration. */
export interface BotOverrides {
  /** Default: pino JSON on stdout at LOG_LEVEL, secrets masked. */
  logger?: Logger;
  /** Default: a fresh registry with the default process metrics. */
  metrics?: Metrics;
  /** Default: loaded from PIPELINES_DIR (start-up fails with located errors if any is invalid). */
  definitions?: Definition[];
  /** `kind: ReleaseTrain`. Default: loaded from PIPELINES_DIR with the definitions (none when `definitions` is given). */
  trains?: TrainDefinition[];
  clock?: Clock;
  /** Default: Prometheus at PROMETHEUS_URL (none: every metric is an `error`). */
  metricProvider?: MetricProvider;
  /** Default: Alertmanager at ALERTMANAGER_URL. */
  alertGate?: AlertGate;
  /** Replaces the whole gate evaluator (metricProvider/alertGate are then unused). */
  gates?: GateEvaluator;
  /** Default: createMesh from KUBECONFIG (else in-cluster) and TENANTS_FILE. */
  mesh?: BotMesh;
  /** Default: @gitbeaker client for GITLAB_URL and GITLAB_TOKEN. */
  gitlab?: GitLabApi;
  /** spec.gitops. Default: the config repository over GITLAB_URL/GITLAB_TOKEN, a Redis write lock, Argo CD/Flux in the mesh's clusters. */
  gitops?: GitOpsPort;
  /** The bot's GitLab username (its own notes are ignored). Default: GET /user of the token, asked in the background. */
  botUsername?: string;
  /** Backoff of GET /user while GitLab does not answer (default 1 s doubling to 30 s, full jitter). */
  identityBackoff?: Backoff;
  /** Default: Slack/Mattermost incoming webhooks of the config. */
  notifier?: Notifier;
  /** Replies to chat commands. Default: through the request's response_url. */
  chatReplier?: CommandReplier;
  /** Redis key and BullMQ prefix (default REDIS_PREFIX, `{canarybot}`). */
  prefix?: string;
  /** Train runner tuning (lease of a live run, recovery interval). */
  trainTiming?: Partial<TrainRunnerTiming>;
  /** Engine tuning (timing, concurrency, inlineTicks). */
  engine?: Partial<Pick<EngineOptions, 'timing' | 'concurrency' | 'inlineTicks' | 'admission'>>;
  /** Poll interval of the GitLab write-back outbox (default 500 ms). */
  writebackPollMs?: number;
  /** How long due jobs may wait with no worker active before canarybot_worker_idle_with_backlog (default 1 min). */
  idleWithBacklogMs?: number;
  /** Who an API token belongs to. Default: GET /user of GITLAB_URL with that token. */
  tokenUser?: (token: string) => Promise<GitLabUser | null>;
  /** More places an API request's token may come from (after `Authorization: Bearer`), e.g. a dashboard session cookie. */
  apiTokenSources?: TokenSource[];
}

export interface Bot {
  app: FastifyInstance;
  engine: Engine;
  /** Runs the release trains started by `/canary train start`. */
  trains: TrainRunner;
  definitions: Definition[];
  metrics: Metrics;
  logger: Logger;
  /** Authentication of /api/*, for routes that need it elsewhere (e.g. an event stream). */
  apiAuth: ApiAuth;
  /** Start the engine's workers, the GitLab intake worker and the write-back loop. Idempotent. */
  start(): Promise<void>;
  /** `start()` must have run; listens on HOST:PORT and returns the address. */
  listen(): Promise<string>;
  /**
   * Graceful stop: no new requests, running jobs finish (or are handed back when their lock
   * lapses), pending write-backs and chat messages flushed, Redis closed. Idempotent.
   */
  close(): Promise<void>;
}

/** One or more pipeline definitions are invalid; `lines` are `file:line:column: path: message`. */
export class InvalidDefinitionsError extends Error {
  constructor(readonly lines: string[]) {
    super(`${lines.length} problem(s) in the pipeline definitions:\n${lines.join('\n')}`);
    this.name = 'InvalidDefinitionsError';
  }
}

const CLOSE_STEP_MS = 30_000;

export async function createBot(config: Config, overrides: BotOverrides = {}): Promise<Bot> {
  const loaded = overrides.definitions ? { definitions: overrides.definitions, trains: overrides.trains ?? [] } : await loadValidDefinitions(config.pipelinesDir);
  const definitions = loaded.definitions;
  // Every definition's Prometheus and Alertmanager, credentials included, before anything is logged.
  const providers = createGateProviders(config, definitions);
  if (!overrides.gates && !overrides.alertGate) {
    // An alert-only analysis with nothing to poll would pass unchecked: refuse before connecting to anything.
    const unpolled = definitionsMissingAlertmanager(config.alertmanagerUrl, definitions);
    if (unpolled.length > 0) throw new ConfigError('ALERTMANAGER_URL', missingAlertmanagerProblem(unpolled));
  }
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, secrets: [...secretValues(config), ...providers.secrets] });
  const metrics = overrides.metrics ?? createMetrics({ defaults: true });
  const prefix = overrides.prefix ?? config.redisPrefix;
  const clock: Clock = overrides.clock ?? { now: () => Date.now() };
  if (definitions.length === 0) logger.warn({ dir: config.pipelinesDir }, 'no pipeline definitions: nothing will be released');
  const webhookSecret = required(config.gitlabWebhookSecret, 'GITLAB_WEBHOOK_SECRET');

  const gitlab =
    overrides.gitlab ?? createGitLabClient({ url: required(config.gitlabUrl, 'GITLAB_URL'), token: required(config.gitlabToken, 'GITLAB_TOKEN') });
  // One cache of the app projects' deploy freezes: read at intake, re-read for live releases.
  const freezeCalendar = new FreezeCalendar(gitlab, config.freezeRefreshMs);
  // Asked in the background: a GitLab outage at start-up must not stop alert intake and rollbacks.
  const identity = createBotIdentity({
    gitlab,
    ...(overrides.botUsername ? { username: overrides.botUsername } : {}),
    ...(overrides.identityBackoff ? { backoff: overrides.identityBackoff } : {}),
    logger: logger.child({ component: 'gitlab-identity' }),
  });
  const mesh = overrides.mesh ?? meshFromConfig(config);

  // Every connection from the one factory (standalone, TLS, Sentinel or Cluster). Closed last.
  const connections = redisConnections(config.redis);
  const redis = connections.open({ maxRetriesPerRequest: null });
  redis.on('error', (error: Error) => logger.debug({ err: error.message }, 'redis connection error'));
  // Fails fast while Redis is away, so /readyz answers instead of queueing the PING.
  const probe = connections.open({ maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: (times) => Math.min(times * 100, 1_000) });
  probe.on('error', () => undefined);
  // BullMQ connection for the intake queues and workers (Workers duplicate it for their blocking
  // reads). A client rather than options: its reconnect backoff stays short (≤ 2 s), so workers
  // resume and close promptly after a Redis restart or failover.
  const connection = connections.open({ maxRetriesPerRequest: null });
  connection.on('error', () => undefined);

  const gitops =
    overrides.gitops ??
    (definitions.some((definition) => definition.gitops) && config.gitlabUrl && config.gitlabToken
      ? createGitOpsAdapter({
          repository: createGitLabConfigRepository({ url: config.gitlabUrl, token: config.gitlabToken }),
          lock: redisRepositoryLock(redis, { prefix }),
          ...(mesh.registry ? { controller: createSyncController(mesh.registry) } : {}),
        })
      : undefined);

  const writeback: GitLabWriteback = createGitLabWriteback({
    api: gitlab,
    redis,
    prefix,
    links: { publicUrl: config.publicUrl, grafanaUrl: config.grafanaUrl, jaegerUrl: config.jaegerUrl },
    writesPerMinute: config.gitlabWritesPerMinute,
    logger: logger.child({ component: 'gitlab-writeback' }),
    ...(overrides.writebackPollMs ? { outbox: { pollMs: overrides.writebackPollMs } } : {}),
  });
  const chatReplier = overrides.chatReplier ?? createChatReplier({ logger: logger.child({ component: 'chat-replier' }) });
  const apiReplies = createApiReplies({ redis, prefix });
  const replier = createCompositeReplier({ gitlab: writeback.replier, chat: chatReplier, api: apiReplies.replier, logger: logger.child({ component: 'replier' }) });
  const chatNotifier: ChatNotifier | null = overrides.notifier
    ? null
    : createChatNotifier({
        redis,
        prefix,
        slackWebhookUrl: config.slackWebhookUrl,
        mattermostWebhookUrl: config.mattermostWebhookUrl,
        publicUrl: config.publicUrl,
        logger: logger.child({ component: 'chat-notifier' }),
      });
  const notifier: Notifier = overrides.notifier ?? (chatNotifier as ChatNotifier);
  const gates =
    overrides.gates ??
    createGateEvaluator({
      providers: {
        metricsFor: (definition) => overrides.metricProvider ?? providers.metricsFor(definition),
        alertsFor: (definition) => overrides.alertGate ?? providers.alertsFor(definition),
      },
      webhook: { env: process.env },
      now: () => clock.now(),
    });

  const ports: Ports = {
    router: mesh.router,
    workloads: mesh.workloads,
    ...(mesh.events ? { events: mesh.events } : {}),
    ...(gitops ? { gitops } : {}),
    gates,
    reporter: withReleaseLogs(writeback.reporter, logger),
    notifier,
    replier,
    clock,
  };
  const engine = createEngine({
    redis: connections,
    prefix,
    ports,
    definitions,
    logger: logger.child({ component: 'engine' }),
    metrics,
    concurrency: config.workerConcurrency,
    admission: admissionFromTenants(config),
    freezes: freezeCalendar,
    ...overrides.engine,
  });

  // Train runs use the same ports (adapters) as single releases; kept in Redis, resumed after a restart.
  const trainRunner = new TrainRunner({
    store: createRedisTrainStore(redis, prefix),
    ...(overrides.trainTiming ? { timing: overrides.trainTiming } : {}),
    // Each member MR's progress note follows the run; the write-back outbox coalesces the edits.
    onEvent: async (run, event) => {
      await writeback.trainNotes.report(run);
      const text = trainNotification(run, event);
      const entry = run.members.find((member) => member.name === run.train.entry.member);
      if (text && entry) chatNotifier?.announce(`train:${run.id}:${run.stepIndex}:${event}`, run.id, entry.definition.notify, text);
    },
    ports,
    definitions,
    trains: loaded.trains,
    logger: logger.child({ component: 'trains' }),
    metrics,
    soloReleaseOf: async (service) => (await engine.list({ state: 'live', service }))[0]?.id ?? null,
  });
  const trains = { runner: trainRunner, logger: logger.child({ component: 'trains' }) };
  // Alerts reach the live releases (the engine) and the live trains of the members they match.
  const alertIntake = {
    async alertBatch(alerts: Parameters<Engine['alertBatch']>[0]) {
      const answer = await engine.alertBatch(alerts);
      const trainRuns = await trainRunner.alerts(alerts);
      return { releaseIds: [...answer.releaseIds, ...trainRuns] };
    },
    async alert(alert: Parameters<Engine['alert']>[0]) {
      return alertIntake.alertBatch([alert]);
    },
  };

  // Commands refused at intake before a release could record them, for GET /api/audit.
  const intakeAudit = createIntakeAudit({ redis, prefix });
  const intakeQueue = createIntakeQueue({ connection, prefix });
  const inboxRedis = connections.open(INBOX_REDIS_OPTIONS);
  inboxRedis.on('error', () => undefined);
  const inbox = createIntakeInbox({ redis: inboxRedis, prefix });
  // Chat commands are queued without an offline queue: one refused during an outage never runs later.
  const chatEnabled = Boolean(config.slackSigningSecret || config.mattermostToken);
  const chatSubmit = chatEnabled ? connections.open({ ...CHAT_SUBMIT_REDIS_OPTIONS, retryStrategy: (times) => Math.min(times * 100, 1_000) }) : null;
  chatSubmit?.on('error', () => undefined);
  const chat: ChatCommands | null =
    chatEnabled && chatSubmit
      ? await createChatCommands({
          engine,
          trains,
          audit: intakeAudit,
          gitlab,
          connection,
          submitConnection: chatSubmit,
          prefix,
          replier,
          slackSigningSecret: config.slackSigningSecret,
          mattermostToken: config.mattermostToken,
          ...mattermostServer(config),
          chatUsersFile: config.chatUsersFile,
          chatLookupByEmail: config.chatLookupByEmail,
          ...(config.slackBotToken ? { slackBotToken: config.slackBotToken } : {}),
          logger: logger.child({ component: 'chatops' }),
          metrics,
        })
      : null;

  // Every replica's store writes, for the dashboard's event stream.
  const releaseChanges = createReleaseChanges({ redis, prefix, logger: logger.child({ component: 'release-changes' }) });
  const links = { grafanaUrl: config.grafanaUrl, jaegerUrl: config.jaegerUrl };
  const gitlabUrl = config.gitlabUrl;
  const tokenUser =
    overrides.tokenUser ??
    ((token: string) => {
      if (!gitlabUrl) throw new ConfigError('GITLAB_URL', 'is required to identify API callers');
      return gitlabUserOfToken({ url: gitlabUrl }, token);
    });
  const apiAuth = createApiAuth({
    identity: createCallerIdentity({ lookup: tokenUser, ttlMs: config.apiTokenCacheMs }),
    readAnonymous: config.apiReadAnonymous,
    ...(overrides.apiTokenSources ? { tokenSources: overrides.apiTokenSources } : {}),
  });
  const routes: RouteModule[] = [
    deliveryLogs(),
    readinessRoute({
      checks: () => [{ name: 'redis', probe: async () => (await probe.ping()) === 'PONG' }],
      details: async () => ({ ...(await waitDetails(engine)), gitlabIdentity: identity.status() }),
      verboseChecks: () => [...clusterChecks(mesh, definitions, metrics), ...prometheusChecks(overrides.metricProvider ?? providers.botMetrics, definitions, (definition) => providers.metricsFor(definition)), idleWithBacklogCheck()],
      timeoutMs: READINESS_TIMEOUT_MS,
    }),
    apiAuth.routes,
    metricsRoute({
      metrics,
      refresh: async () => {
        await Promise.all([
          refreshQueueDepth(metrics, engineQueueCounts, intakeQueue, inbox),
          releaseWaits(engine).then((waits) => recordWaits(metrics, waits)),
          refreshReleaseGauges(metrics, engine, definitions.map((definition) => definition.name)),
          refreshClusterUp(metrics, clusterChecks(mesh, definitions, metrics)),
        ]);
      },
      ...(config.metricsToken ? { token: config.metricsToken } : {}),
    }),
    releasesRoutes({ reader: engine, history: engine.store, links, available: () => probe.status === 'ready' }),
    trainsRoutes({ runner: trainRunner, gitlab, logger: logger.child({ component: 'api' }) }),
    auditRoute({ reader: engine, intake: intakeAudit }),
    eventsRoute({ reader: engine, changes: releaseChanges, links }),
    dashboardRoutes(),
    gitlabOAuthRoutes({ oauth: dashboardOAuth(config), redis, prefix }),
    meRoute({ reader: engine, gitlab, now: () => clock.now(), logger: logger.child({ component: 'api' }) }),
    commandsRoute({ engine, gitlab, replies: apiReplies, now: () => clock.now(), logger: logger.child({ component: 'api' }) }),
    gitlabWebhookRoute({
      secret: webhookSecret,
      signingSecret: config.gitlabWebhookSigningSecret,
      definitions,
      botUsername: () => identity.username(),
      inbox,
      dedupePrefix: `${prefix}:gitlab-delivery:`,
      metrics,
    }),
  ];
  if (config.alertWebhookSecret) {
    routes.push(alertmanagerWebhookRoutes({ engine: alertIntake, secret: config.alertWebhookSecret, metrics }));
    routes.push(alertWebhookRoutes({ engine: alertIntake, secret: config.alertWebhookSecret, presets: loadAlertPresets(config.alertPresetsFile), metrics }));
  }
  if (chat) routes.push(...chat.routes);
  const app = await buildApp({ logger, bodyLimit: config.webhookBodyLimit, routes });

  // The engine's queue, read only for its depth on scrape.
  const engineQueue = new Queue(QUEUE_NAME, { connection, prefix });
  engineQueue.on('error', () => undefined);
  intakeQueue.on('error', () => undefined);
  async function engineQueueCounts(): Promise<Record<string, number>> {
    return engineQueue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
  }

  // Due engine jobs with no worker running any, for a minute: the workers are silently idle.
  const idleWatch = createIdleWatch(overrides.idleWithBacklogMs ?? IDLE_WITH_BACKLOG_WINDOW_MS);
  let idleWithBacklog = false;
  const sampleIdle = async (): Promise<void> => {
    const counts = await engineQueue.getJobCounts('waiting', 'prioritized', 'active');
    idleWithBacklog = idleWatch.observe({ due: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0 }, Date.now());
    metrics.workerIdleWithBacklog.set(idleWithBacklog ? 1 : 0);
  };
  const idleSampleMs = Math.max(250, Math.min(5_000, (overrides.idleWithBacklogMs ?? IDLE_WITH_BACKLOG_WINDOW_MS) / 4));
  let idleTimer: NodeJS.Timeout | null = null;
  function idleWithBacklogCheck(): ReadinessCheck {
    return {
      name: 'worker-idle-with-backlog',
      probe: async () => {
        if (idleWithBacklog) throw new Error(`jobs due since ${new Date(idleWatch.idleSince() ?? Date.now()).toISOString()} with no worker running any`);
        return true;
      },
    };
  }

  let intakeWorker: Worker<IntakeJob> | null = null;
  let intakeForwarder: IntakeForwarder | null = null;
  let started = false;
  let closing: Promise<void> | null = null;

  const close = async (): Promise<void> => {
    const step = async (what: string, run: () => Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CLOSE_STEP_MS);
      });
      try {
        const result = await Promise.race([run().then(() => 'ok' as const), timeout]);
        if (result === 'timeout') logger.warn({ what }, 'shutdown step timed out');
      } catch (error) {
        logger.warn({ what, err: (error as Error).message }, 'shutdown step failed');
      } finally {
        clearTimeout(timer);
      }
    };
    logger.info('shutting down');
    identity.stop();
    if (idleTimer) clearInterval(idleTimer);
    await step('http', () => app.close());
    await step('gitlab intake forwarder', async () => intakeForwarder?.close());
    await step('gitlab intake worker', async () => intakeWorker?.close());
    await step('chat intake', async () => chat?.close());
    await step('trains', () => trainRunner.close());
    await step('engine', () => engine.close());
    await step('gitlab write-back', () => writeback.close());
    await step('chat notifications', async () => chatNotifier?.idle());
    await step('queues', async () => {
      await intakeQueue.close();
      await engineQueue.close();
    });
    await step('release changes', () => releaseChanges.close());
    await step('redis', async () => {
      await closeRedis(inboxRedis);
      chatSubmit?.disconnect();
      await closeRedis(redis);
      await closeRedis(connection);
      probe.disconnect();
    });
    logger.info('stopped');
    logger.flush?.();
  };

  return {
    app,
    engine,
    trains: trainRunner,
    definitions,
    metrics,
    logger,
    apiAuth,
    async start() {
      if (started) return;
      started = true;
      identity.start();
      // What BullMQ needs from the server, before any job runs: noeviction, some persistence.
      const findings = await checkRedisServer(redis);
      if (findings.refusal) throw new RedisRequirementError(findings.refusal);
      for (const warning of findings.warnings) logger.warn({ redis: describeRedisTarget(config.redis) }, warning);
      writeback.start();
      await engine.start();
      await trainRunner.resume();
      intakeWorker = createIntakeWorker({
        connection,
        prefix,
        engine,
        gitlab,
        replier,
        definitions,
        trains,
        audit: intakeAudit,
        assembler: trainRunner,
        freezes: freezeCalendar,
        publicUrl: config.publicUrl,
        logger: logger.child({ component: 'gitlab-intake' }),
      });
      // Moves the webhook route's inbox into the intake queue.
      intakeForwarder = createIntakeForwarder({ redis: connection, queue: intakeQueue, prefix, logger: logger.child({ component: 'gitlab-intake-forwarder' }) });
      await intakeForwarder.start();
      idleTimer = setInterval(() => {
        sampleIdle().catch((error: Error) => logger.debug({ err: error.message }, 'idle-with-backlog sample failed'));
      }, idleSampleMs);
      idleTimer.unref();
      logger.info({ definitions: definitions.map((d) => d.name), prefix }, 'workers started');
    },
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      logger.info({ address }, 'listening');
      return address;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/** Sign-in with GitLab when GITLAB_OAUTH_CLIENT_ID is set (loadConfig checked its companions). */
function dashboardOAuth(config: Config): GitLabOAuthSettings | null {
  const { gitlabOAuthClientId: clientId, gitlabOAuthClientSecret: clientSecret, publicUrl, gitlabUrl } = config;
  if (!clientId || !clientSecret || !publicUrl || !gitlabUrl) return null;
  return { gitlabUrl, clientId, clientSecret, publicUrl };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new ConfigError(name, 'is required to run canarybot serve');
  return value;
}

async function loadValidDefinitions(dir: string): Promise<{ definitions: Definition[]; trains: TrainDefinition[] }> {
  const { definitions, trains, errors } = await loadDefinitions(dir);
  if (errors.length > 0) throw new InvalidDefinitionsError(errors.map(formatDefinitionError));
  return { definitions, trains };
}

/** maxConcurrentReleases from TENANTS_FILE (per namespace, per tenant), or none. */
function admissionFromTenants(config: Config): AdmissionConfig | null {
  const tenants = TenantPolicy.fromEnvironment({ TENANTS_FILE: config.tenantsFile });
  const limits = tenants.admissionLimits();
  if (!limits) return null;
  return { limits, tenantOf: (release) => tenants.tenantOf({ project: release.definition.trigger.project, namespace: release.namespace }) };
}

function meshFromConfig(config: Config): BotMesh {
  let mesh: ReturnType<typeof createMesh>;
  try {
    mesh = createMesh({ KUBECONFIG: config.kubeconfig, TENANTS_FILE: config.tenantsFile });
  } catch (error) {
    const where = config.kubeconfig ? `KUBECONFIG ${config.kubeconfig}` : 'the in-cluster service account (KUBECONFIG is not set)';
    throw new Error(`cannot load the Kubernetes configuration from ${where}: ${(error as Error).message}`, { cause: error });
  }
  return { router: mesh.router, workloads: mesh.workloads, events: mesh.events, registry: mesh.registry, reachable: (cluster) => mesh.registry.reachable(cluster) };
}

/** Upper bound of one readiness probe; the chart's probe timeoutSeconds is above it. */
export const READINESS_TIMEOUT_MS = 3_000;

/** One check per cluster of the definitions; each answer also sets canarybot_cluster_up. */
function clusterChecks(mesh: BotMesh, definitions: readonly Definition[], metrics: Metrics): ReadinessCheck[] {
  const clusters = [...new Set(definitions.flatMap((definition) => definition.target.clusters))].sort();
  return clusters.map((cluster) => ({
    name: `cluster:${cluster}`,
    probe: async () => {
      const up = await mesh.reachable(cluster).catch(() => false);
      metrics.clusterUp.set({ cluster }, up ? 1 : 0);
      return up;
    },
  }));
}

/** Probe every cluster for /metrics; one that does not answer in time counts as down. */
async function refreshClusterUp(metrics: Metrics, checks: ReadinessCheck[]): Promise<void> {
  await Promise.all(
    checks.map((check) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          metrics.clusterUp.set({ cluster: check.name.slice('cluster:'.length) }, 0);
          resolve();
        }, READINESS_TIMEOUT_MS);
      });
      return Promise.race([check.probe().then(() => undefined), timeout]).finally(() => clearTimeout(timer));
    }),
  );
}

async function refreshQueueDepth(
  metrics: Metrics,
  engineCounts: () => Promise<Record<string, number>>,
  intakeQueue: { name: string; getJobCounts(...states: string[]): Promise<Record<string, number>> },
  inbox: { depth(): Promise<number> },
): Promise<void> {
  const [engine, intake, inboxDepth] = await Promise.all([
    engineCounts(),
    intakeQueue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'),
    inbox.depth(),
  ]);
  for (const [state, count] of Object.entries(engine)) metrics.queueDepth.set({ queue: QUEUE_NAME, state }, count);
  for (const [state, count] of Object.entries(intake)) metrics.queueDepth.set({ queue: intakeQueue.name, state }, count);
  // Deliveries accepted by the webhook route and not yet moved into the intake queue.
  metrics.queueDepth.set({ queue: intakeQueue.name, state: 'inbox' }, inboxDepth);
}

/** MATTERMOST_URL, else the origin of MATTERMOST_WEBHOOK_URL (the same server). */
function mattermostServer(config: Config): { mattermostUrl?: string } {
  const url = config.mattermostUrl ?? (config.mattermostWebhookUrl ? new URL(config.mattermostWebhookUrl).origin : undefined);
  return url ? { mattermostUrl: url } : {};
}
