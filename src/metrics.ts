import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { buildInfo, type BuildInfo } from './build-info.js';

/** Labels of a release target. Only names from definitions and the core's own states ever become label values. */
type TargetLabels = 'service' | 'namespace' | 'cluster';

/**
 * The bot's own metrics. One instance per process (or per test), passed to whoever records; the
 * registry is served on GET /metrics.
 */
export interface Metrics {
  registry: Registry;
  releasesTotal: Counter<TargetLabels | 'outcome'>;
  releaseDuration: Histogram<'outcome'>;
  stepDuration: Histogram<'kind'>;
  gateVerdicts: Counter<TargetLabels | 'verdict'>;
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
  /** 1 for the state of each service's newest release, 0 for every other state (one series per service and state). */
  releaseStatus: Gauge<TargetLabels | 'state'>;
  /** The last analysed value of each metric of each service's newest release. */
  analysisMetricValue: Gauge<TargetLabels | 'metric'>;
  /** The absolute thresholds of those metrics (`bound`: min or max). */
  analysisMetricThreshold: Gauge<TargetLabels | 'metric' | 'bound'>;
  buildInfo: Gauge<'version' | 'revision' | 'nodejs_version'>;
}

const TARGET: TargetLabels[] = ['service', 'namespace', 'cluster'];

/**
 * `defaults`: Node's process metrics under their standard names (process_cpu_seconds_total,
 * nodejs_heap_size_used_bytes, …), as every Node.js dashboard expects; the bot's own keep `canarybot_`.
 */
export function createMetrics(options: { defaults?: boolean; build?: BuildInfo } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const build = options.build ?? buildInfo();
  const buildGauge = new Gauge({
    name: 'canarybot_build_info',
    help: 'Always 1; the labels say which canarybot build runs (version, source revision, Node.js version).',
    labelNames: ['version', 'revision', 'nodejs_version'],
    registers,
  });
  buildGauge.set({ version: build.version, revision: build.revision, nodejs_version: build.nodejsVersion }, 1);
  return {
    registry,
    buildInfo: buildGauge,
    releasesTotal: new Counter({ name: 'canarybot_releases_total', help: 'Releases that ended, by service and outcome (state).', labelNames: [...TARGET, 'outcome'], registers }),
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
    gateVerdicts: new Counter({ name: 'canarybot_gate_verdicts_total', help: 'Gate checks by service and verdict.', labelNames: [...TARGET, 'verdict'], registers }),
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
    releaseStatus: new Gauge({
      name: 'canarybot_release_status',
      help: "1 for the state of each service's newest release, 0 for the other states (read from the store at scrape).",
      labelNames: [...TARGET, 'state'],
      registers,
    }),
    analysisMetricValue: new Gauge({
      name: 'canarybot_analysis_metric_value',
      help: "The last analysed value of each metric of each service's newest release (canary side).",
      labelNames: [...TARGET, 'metric'],
      registers,
    }),
    analysisMetricThreshold: new Gauge({
      name: 'canarybot_analysis_metric_threshold',
      help: "The absolute threshold of each analysed metric of each service's newest release; bound is min (value must be at least) or max (at most).",
      labelNames: [...TARGET, 'metric', 'bound'],
      registers,
    }),
  };
}
