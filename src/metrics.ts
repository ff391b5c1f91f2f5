import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The bot's own metrics. One instance per process (or per test), passed to whoever records; the
 * registry is served on GET /metrics.
 */
export interface Metrics {
  registry: Registry;
  releasesTotal: Counter<'outcome'>;
  releaseDuration: Histogram<'outcome'>;
  stepDuration: Histogram<'kind'>;
  gateVerdicts: Counter<'verdict'>;
  canaryWeight: Gauge<'service' | 'namespace' | 'cluster'>;
  webhookDeliveries: Counter<'source' | 'event' | 'outcome'>;
  queueDepth: Gauge<'queue' | 'state'>;
  /** Live releases whose rollback cannot land yet (traffic may still reach the canary); read from the store at scrape. */
  rollbackBlocked: Gauge;
  /** Live releases waiting on a retried effect or any other `wait`, by the wait's kind (set by the core, never by input). */
  releasesWaiting: Gauge<'kind'>;
  /** 1 while jobs have been due with no worker running any for a minute (workers silently idle). */
  workerIdleWithBacklog: Gauge;
  /** 1 when a Kubernetes cluster of the definitions answers, 0 when not (cluster names come from definitions). */
  clusterUp: Gauge<'cluster'>;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry, prefix: 'canarybot_' });
  const registers = [registry];
  return {
    registry,
    releasesTotal: new Counter({ name: 'canarybot_releases_total', help: 'Releases that ended, by outcome (state).', labelNames: ['outcome'], registers }),
    releaseDuration: new Histogram({
      name: 'canarybot_release_duration_seconds',
      help: 'Time from trigger to the end of a release.',
      labelNames: ['outcome'],
      buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers,
    }),
    stepDuration: new Histogram({
      name: 'canarybot_step_duration_seconds',
      help: 'Time spent in one release step, by step kind.',
      labelNames: ['kind'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    gateVerdicts: new Counter({ name: 'canarybot_gate_verdicts_total', help: 'Gate checks by verdict.', labelNames: ['verdict'], registers }),
    canaryWeight: new Gauge({ name: 'canarybot_canary_weight_percent', help: 'Current canary weight per service.', labelNames: ['service', 'namespace', 'cluster'], registers }),
    webhookDeliveries: new Counter({
      name: 'canarybot_webhook_deliveries_total',
      help: 'Webhook and chat deliveries received, by source, event and outcome (accepted, ignored, duplicate, refused, invalid).',
      labelNames: ['source', 'event', 'outcome'],
      registers,
    }),
    rollbackBlocked: new Gauge({
      name: 'canarybot_rollback_blocked',
      help: 'Live releases whose rollback is blocked (a retried traffic write, image restore or scale-down that has not landed yet).',
      registers,
    }),
    releasesWaiting: new Gauge({ name: 'canarybot_releases_waiting', help: 'Live releases that stand still, by the kind of their wait.', labelNames: ['kind'], registers }),
    queueDepth: new Gauge({ name: 'canarybot_queue_jobs', help: 'Jobs in the engine and intake queues by state (state inbox: accepted webhooks not yet queued).', labelNames: ['queue', 'state'], registers }),
    workerIdleWithBacklog: new Gauge({
      name: 'canarybot_worker_idle_with_backlog',
      help: '1 while engine jobs have been due with none running for a minute: workers are silently idle (restart them, check Redis failover).',
      registers,
    }),
    clusterUp: new Gauge({ name: 'canarybot_cluster_up', help: 'Whether a Kubernetes cluster named by the definitions answers (1) or not (0).', labelNames: ['cluster'], registers }),
  };
}
