// The normalized release pipeline definition: what src/pipelines produces from a YAML file after
// validation and defaults. The core, engine and adapters only ever see this shape.

import type { GitOpsSpec } from './gitops-spec.js';
import type { AnalysisJudgeSpec, MetricJudgeSpec } from './judge/judge-spec.js';
import type { ReleaseWindow } from './windows.js';

export type TagSource =
  | { kind: 'short-sha' }
  | { kind: 'sha' }
  | { kind: 'ref' }
  | { kind: 'variable'; name: string };

export interface TriggerSpec {
  /** GitLab project path (`group/name`) or numeric id. */
  project: string | number;
  branch: string;
  /** Image repository without tag. */
  image: string;
  tag: TagSource;
}

export interface WorkloadRef {
  subset: string;
  deployment: string;
  /** Container whose image is set; the stable side defaults to the canary's container name. */
  container: string;
}

export interface BaselineRef {
  subset: string;
  deployment: string;
}

export interface CanaryWorkloadRef extends WorkloadRef {
  /** Replica count for the canary; unset means "as many as the stable Deployment". */
  replicas?: number;
}

export interface TargetSpec {
  /** kubeconfig context names, released in order; `default` means the current context. */
  clusters: string[];
  namespace: string;
  virtualService: string;
  /** Name of the managed http route; unset means the first route pointing at `host`. */
  route?: string;
  host: string;
  stable: WorkloadRef;
  canary: CanaryWorkloadRef;
  /**
   * A fresh baseline (Kayenta's advice): the stable image on this Deployment, at the canary's size,
   * for the length of the release, with the canary's weight; the judge compares canary with it.
   * Unset: the stable workload is the baseline.
   */
  baseline?: BaselineRef;
  settleMs: number;
  /**
   * Gateways whose traffic the release shifts (`mesh` = the sidecars, `name` or `namespace/name` =
   * an Istio Gateway); the VirtualService must be bound to each. Unset: `[mesh]`.
   */
  gateways?: string[];
  /** Deadline for a Deployment rollout to become ready (default 10 min). */
  readinessDeadlineMs: number;
}

/** Istio StringMatch: exactly one of exact, prefix, regex. */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** One A/B match block; all conditions inside it must hold (Istio HTTPMatchRequest semantics). */
export interface TrafficMatch {
  headers?: Record<string, StringMatch>;
  /** Cookie name → exact value; rendered as a regex on the `cookie` header. */
  cookies?: Record<string, string>;
  queryParams?: Record<string, StringMatch>;
}

export interface MetricCheck {
  /** Built-in name (request-success-rate, request-duration-p99, request-count) or a custom name with `query`. */
  name: string;
  query?: string;
  min?: number;
  max?: number;
  /**
   * Relative threshold against the stable workload in the same window: for a `min` metric, the
   * canary may be at most this many units below stable; for a `max` metric, at most this many
   * percent above stable.
   */
  maxDegradation?: number;
  /**
   * Judge this metric statistically: its samples over the analysis so far, canary against baseline
   * (Kayenta's Mann-Whitney judge). Fixed thresholds above still apply when given.
   */
  judge?: MetricJudgeSpec;
}

/** Overrides of the bot-wide Prometheus or Alertmanager connection for one definition (tenants). */
export interface ProviderOverride {
  url?: string;
  /** Merged over the bot-wide headers, e.g. X-Scope-OrgID. */
  headers?: Record<string, string>;
  /** Environment variable holding a bearer token (or `<NAME>_FILE` a file with it). */
  bearerTokenEnv?: string;
  /** Environment variable holding `user:password` (or `<NAME>_FILE`). */
  basicAuthEnv?: string;
}

export interface ProviderOverrides {
  prometheus?: ProviderOverride;
  alertmanager?: ProviderOverride;
}

export interface AnalysisSpec {
  intervalMs: number;
  windowMs: number;
  count: number;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  minRequests: number;
  metrics: MetricCheck[];
  /** Scoring of judged metrics; unset: the judge's defaults (step 10s, pass 95, marginal 75). */
  judge?: AnalysisJudgeSpec;
  /** Where this definition's metrics and alerts are read, when not the bot-wide settings. */
  provider?: ProviderOverrides;
}

export type MatcherOp = '=' | '!=' | '=~' | '!~';
export interface LabelMatcher {
  name: string;
  op: MatcherOp;
  value: string;
}

export interface AlertSourceSpec {
  kind: 'alertmanager';
  /** Every matcher must match an alert's labels for the alert to concern this release. */
  matchers: LabelMatcher[];
  /** What a firing alert of this source does: roll back (default) or hold the traffic where it is. */
  onFire?: 'rollback' | 'hold';
}

/**
 * What a failed gate does (one enum, pinned): `rollback` (default) rolls this cluster back and, with
 * several clusters, the clusters already promoted, newest first, traffic before image; `keepPromoted`
 * rolls back this cluster only; `hold` keeps the traffic where it is and waits for `/canary abort` or
 * `/canary resume` (until `holdTimeoutMs`, then a rollback, which unwinds promoted clusters as
 * `rollback` does). The schema and validate read this list.
 */
export const ON_FAILURE = ['rollback', 'keepPromoted', 'hold'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];
export const DEFAULT_ON_FAILURE: OnFailure = 'rollback';

/** GitLab's deployment tiers of an environment (DORA metrics count `production`). */
export const ENVIRONMENT_TIERS = ['production', 'staging', 'testing', 'development', 'other'] as const;
export type EnvironmentTier = (typeof ENVIRONMENT_TIERS)[number];

/** spec.environment: the GitLab environment the deployments are written to. */
export interface EnvironmentSpec {
  /** Unset: `<cluster>/<namespace>/<service>`. */
  name?: string;
  /** Unset: `production` for a production-looking namespace, else GitLab's own guess from the name. */
  tier?: EnvironmentTier;
}

export type AccessLevelName = 'developer' | 'maintainer' | 'owner';

export interface ApprovalPolicy {
  minAccessLevel: AccessLevelName;
  users: string[];
  groups: string[];
  allowAuthor: boolean;
}

export interface NotifySpec {
  slack?: { channel: string };
  mattermost?: { channel: string };
}

export type Step =
  | { kind: 'setWeight'; weight: number }
  | { kind: 'setMirror'; percent: number }
  /** Without a duration the release waits for `/canary resume` (or promote). */
  | { kind: 'pause'; durationMs?: number }
  /** Overrides of spec.analysis for this step; `durationMs` sets the needed checks to duration / interval. */
  | { kind: 'analysis'; durationMs?: number; count?: number; metrics?: MetricCheck[] }
  | { kind: 'approval' }
  | { kind: 'webhook'; name: string; url: string; timeoutMs: number; bearerEnv?: string };

export type Strategy =
  | { kind: 'canary'; steps: Step[] }
  /** Requests matching any block go to the canary; the rest stay on stable. */
  | { kind: 'abTest'; match: TrafficMatch[]; steps: Step[] }
  | { kind: 'mirror'; steps: Step[] }
  /** A preview route (requests carrying the header) reaches the new version before the 0 → 100 switch. */
  | { kind: 'blueGreen'; preview: { header: string; value: string }; steps: Step[] };

export interface Definition {
  /** metadata.name; also the service name used in commands, statuses and locks. */
  name: string;
  /** File the definition was loaded from, when any (for messages). */
  file?: string;
  trigger: TriggerSpec;
  target: TargetSpec;
  strategy: Strategy;
  analysis: AnalysisSpec;
  alerts: AlertSourceSpec[];
  approvals: ApprovalPolicy;
  notify: NotifySpec;
  /** Desired state in a config repository: promotion writes Git first (issue 14). */
  gitops?: GitOpsSpec;
  /** Unset: `rollback`. */
  onFailure?: OnFailure;
  /** GitLab environment name and tier of the deployments (issue 17). */
  environment?: EnvironmentSpec;
  /** How long a held release waits for a decision before it is rolled back (unset: 1 h). */
  holdTimeoutMs?: number;
  /** When releases may start and move traffic up (Argo CD sync-window semantics; deny wins). */
  windows?: ReleaseWindow[];
}
