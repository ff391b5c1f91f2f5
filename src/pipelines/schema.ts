// The release pipeline definition as written in pipelines/*.yaml (DESIGN §4), validated and
// normalized into the Definition the rest of the bot uses.

import { z } from 'zod';
import { environmentNameProblems, isGitLabEnvironmentName, renderEnvironmentName } from '../core/environment-name.js';
import { cronProblem, type ReleaseWindow } from '../core/windows.js';
import type {
  AlertSourceSpec,
  AnalysisSpec,
  Definition,
  LabelMatcher,
  Strategy,
  StringMatch,
  TagSource,
  TrafficMatch,
} from '../core/definition.js';
import { DEFAULT_ON_FAILURE, ENVIRONMENT_TIERS, ON_FAILURE, type EnvironmentSpec } from '../core/definition.js';
import { parseLabelMatcher } from '../core/label-matchers.js';
import { duration, kubernetesName, shown, text, wholeNumber } from './fields.js';
import { gitopsClusterProblems, gitopsSchema } from './gitops-schema.js';
import { analysisJudgeSchema, groupProblems, providerOverridesSchema } from './judge.js';
import { metricListSchema } from './metrics.js';
import { endProblem, stepsSchema } from './steps.js';

const tagSchema = z.unknown().transform((value, ctx): TagSource => {
  if (value === 'short-sha' || value === 'sha' || value === 'ref') return { kind: value };
  const variable = typeof value === 'string' ? /^variable:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value) : null;
  if (variable?.[1]) return { kind: 'variable', name: variable[1] };
  ctx.addIssue({ code: 'custom', message: `must be short-sha, sha, ref or variable:<NAME> (got ${shown(value)})` });
  return z.NEVER;
});

const projectSchema = z.unknown().transform((value, ctx): string | number => {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^[\w.-]+(\/[\w.-]+)+$/.test(value)) return value;
  ctx.addIssue({ code: 'custom', message: `must be a GitLab project path such as group/name, or a numeric id (got ${shown(value)})` });
  return z.NEVER;
});

const imageSchema = text.refine((image) => !image.includes('@') && !/:[^/]*$/.test(image), {
  error: (issue) => `must be the image repository without a tag or digest; the tag comes from trigger.tag (got ${shown(issue.input)})`,
});

const triggerSchema = z.strictObject({
  project: projectSchema,
  branch: text.default('main'),
  image: imageSchema,
  tag: tagSchema.default({ kind: 'short-sha' }),
});

const clustersSchema = z.unknown().transform((value, ctx): string[] => {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item.length > 0)) {
    ctx.addIssue({ code: 'custom', message: `must be a kubeconfig context name or a list of them (got ${shown(value)})` });
    return z.NEVER;
  }
  const duplicate = list.find((item, index) => list.indexOf(item) !== index);
  if (duplicate !== undefined) {
    ctx.addIssue({ code: 'custom', message: `lists cluster "${duplicate}" twice` });
    return z.NEVER;
  }
  return list as string[];
});

const targetSchema = z
  .strictObject({
    cluster: clustersSchema.default(['default']),
    namespace: kubernetesName,
    virtualService: kubernetesName,
    route: text.optional(),
    host: text,
    stable: z.strictObject({ subset: text, deployment: kubernetesName, container: text.optional() }),
    canary: z.strictObject({ subset: text, deployment: kubernetesName, container: text, replicas: wholeNumber(1).optional() }),
    baseline: z.strictObject({ subset: text, deployment: kubernetesName }).optional(),
    settle: duration(0).default(5_000),
    gateways: z.array(text).min(1).optional(),
    readinessDeadline: duration().default(600_000),
  })
  .superRefine((target, ctx) => {
    if (target.stable.subset === target.canary.subset) {
      ctx.addIssue({ code: 'custom', path: ['canary', 'subset'], message: `must differ from stable.subset (both are "${target.canary.subset}")` });
    }
    if (target.stable.deployment === target.canary.deployment) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'deployment'],
        message: `must differ from stable.deployment (both are "${target.canary.deployment}")`,
      });
    }
    const baseline = target.baseline;
    if (baseline) {
      for (const side of ['stable', 'canary'] as const) {
        if (baseline.subset === target[side].subset) {
          ctx.addIssue({ code: 'custom', path: ['baseline', 'subset'], message: `must differ from ${side}.subset (both are "${baseline.subset}")` });
        }
        if (baseline.deployment === target[side].deployment) {
          ctx.addIssue({ code: 'custom', path: ['baseline', 'deployment'], message: `must differ from ${side}.deployment (both are "${baseline.deployment}")` });
        }
      }
    }
  })
  .transform((target): Definition['target'] => {
    const out: Definition['target'] = {
      clusters: target.cluster,
      namespace: target.namespace,
      virtualService: target.virtualService,
      host: target.host,
      stable: { ...target.stable, container: target.stable.container ?? target.canary.container },
      canary: { ...target.canary },
      settleMs: target.settle,
      readinessDeadlineMs: target.readinessDeadline,
    };
    if (target.route !== undefined) out.route = target.route;
    if (target.baseline !== undefined) out.baseline = { ...target.baseline };
    if (target.gateways !== undefined) out.gateways = [...target.gateways];
    if (target.canary.replicas === undefined) delete out.canary.replicas;
    return out;
  });

const stringMatchSchema = z
  .preprocess(
    (value) => (typeof value === 'string' ? { exact: value } : value),
    z.strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() }),
  )
  .superRefine((match, ctx) => {
    const kinds = Object.entries(match).filter(([, value]) => value !== undefined);
    if (kinds.length !== 1) ctx.addIssue({ code: 'custom', message: 'needs exactly one of exact, prefix or regex' });
    if (match.regex !== undefined) {
      try {
        new RegExp(match.regex);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `is not a valid regular expression (got ${shown(match.regex)})` });
      }
    }
  })
  .transform((match): StringMatch => {
    if (match.exact !== undefined) return { exact: match.exact };
    if (match.prefix !== undefined) return { prefix: match.prefix };
    return { regex: match.regex ?? '' };
  });

export const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export const matchSchema = z
  .strictObject({
    headers: z.record(z.string(), stringMatchSchema).optional(),
    cookies: z.record(z.string(), z.string().regex(/^[^;,\s"\\]*$/, 'must be a cookie value without ; , spaces or quotes')).optional(),
    queryParams: z.record(z.string(), stringMatchSchema).optional(),
  })
  .superRefine((match, ctx) => {
    const count = Object.keys(match.headers ?? {}).length + Object.keys(match.cookies ?? {}).length + Object.keys(match.queryParams ?? {}).length;
    if (count === 0) ctx.addIssue({ code: 'custom', message: 'a match needs at least one header, cookie or query parameter' });
    for (const name of Object.keys(match.headers ?? {})) {
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: `header names must be lowercase tokens (Istio matches lowercase) (got "${name}")` });
      }
    }
    const cookies = Object.keys(match.cookies ?? {});
    if (cookies.length > 4) ctx.addIssue({ code: 'custom', path: ['cookies'], message: `at most 4 cookies per match block (got ${cookies.length})` });
    if (cookies.length > 0 && Object.keys(match.headers ?? {}).includes('cookie')) {
      ctx.addIssue({ code: 'custom', path: ['headers', 'cookie'], message: 'a match block may not set both cookies and a cookie header' });
    }
    for (const name of cookies) {
      if (!COOKIE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['cookies', name], message: `is not a valid cookie name` });
    }
  })
  .transform((match): TrafficMatch => {
    const out: TrafficMatch = {};
    if (match.headers && Object.keys(match.headers).length > 0) out.headers = match.headers;
    if (match.cookies && Object.keys(match.cookies).length > 0) out.cookies = match.cookies;
    if (match.queryParams && Object.keys(match.queryParams).length > 0) out.queryParams = match.queryParams;
    return out;
  });

const STRATEGIES = ['canary', 'abTest', 'mirror', 'blueGreen'] as const;

const strategySchema = z
  .strictObject({
    canary: z.strictObject({ steps: stepsSchema('canary') }).optional(),
    abTest: z
      .strictObject({ match: z.array(matchSchema).min(1, 'an abTest needs at least one match'), steps: stepsSchema('abTest') })
      .optional(),
    mirror: z.strictObject({ steps: stepsSchema('mirror') }).optional(),
    blueGreen: z
      .strictObject({
        preview: z
          .strictObject({
            header: z.string().regex(HEADER_NAME, 'must be a lowercase header name').default('x-canarybot-preview'),
            value: text.default('true'),
          })
          .prefault({}),
        steps: stepsSchema('blueGreen'),
      })
      .optional(),
  })
  .superRefine((strategy, ctx) => {
    const present = STRATEGIES.filter((kind) => strategy[kind] !== undefined);
    if (present.length !== 1) {
      const found = present.length === 0 ? 'none' : present.join(' and ');
      ctx.addIssue({ code: 'custom', message: `needs exactly one of ${STRATEGIES.join(', ')} (found ${found})` });
    }
  })
  .transform((strategy): Strategy => {
    if (strategy.abTest) return { kind: 'abTest', match: strategy.abTest.match, steps: strategy.abTest.steps };
    if (strategy.mirror) return { kind: 'mirror', steps: strategy.mirror.steps };
    if (strategy.blueGreen) return { kind: 'blueGreen', preview: strategy.blueGreen.preview, steps: strategy.blueGreen.steps };
    return { kind: 'canary', steps: strategy.canary?.steps ?? [] };
  });

const analysisSchema = z
  .strictObject({
    interval: duration().default(30_000),
    window: duration().default(60_000),
    count: wholeNumber(1).default(3),
    failureLimit: wholeNumber(0).default(0),
    inconclusiveLimit: wholeNumber(0).default(3),
    consecutiveErrorLimit: wholeNumber(0).default(4),
    minRequests: wholeNumber(0).default(20),
    metrics: metricListSchema.default([]),
    judge: analysisJudgeSchema.optional(),
    provider: providerOverridesSchema.optional(),
  })
  .prefault({})
  .transform((analysis): AnalysisSpec => {
    const out: AnalysisSpec = {
      intervalMs: analysis.interval,
      windowMs: analysis.window,
      count: analysis.count,
      failureLimit: analysis.failureLimit,
      inconclusiveLimit: analysis.inconclusiveLimit,
      consecutiveErrorLimit: analysis.consecutiveErrorLimit,
      minRequests: analysis.minRequests,
      metrics: analysis.metrics,
    };
    if (analysis.judge !== undefined) out.judge = analysis.judge;
    if (analysis.provider !== undefined) out.provider = analysis.provider;
    return out;
  });

const matcherSchema = z.string().transform((value, ctx): LabelMatcher => {
  const result = parseLabelMatcher(value);
  if (result.ok) return result.matcher;
  ctx.addIssue({ code: 'custom', message: `is not an Alertmanager matcher: ${result.message}` });
  return z.NEVER;
});

const alertSchema = z
  .strictObject({
    alertmanager: z.strictObject({ matchers: z.array(matcherSchema).min(1, 'needs at least one matcher') }),
    onFire: z.enum(['rollback', 'hold']).optional(),
  })
  .transform((alert): AlertSourceSpec => ({
    kind: 'alertmanager',
    matchers: alert.alertmanager.matchers,
    ...(alert.onFire !== undefined ? { onFire: alert.onFire } : {}),
  }));

/** `windows[]`: exactly one of allow | deny (a cron), a duration, a time zone (default UTC). */
const windowSchema = z
  .strictObject({ allow: text.optional(), deny: text.optional(), duration: duration(60_000), timezone: text.default('UTC') })
  .superRefine((window, ctx) => {
    const crons = [window.allow, window.deny].filter((cron) => cron !== undefined);
    if (crons.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of allow or deny (a cron expression)' });
      return;
    }
    const problem = cronProblem(crons[0] as string, window.timezone);
    if (problem) ctx.addIssue({ code: 'custom', path: [window.allow !== undefined ? 'allow' : 'deny'], message: `is not a valid cron in ${window.timezone}: ${problem}` });
  })
  .transform((window): ReleaseWindow => ({
    kind: window.allow !== undefined ? 'allow' : 'deny',
    cron: (window.allow ?? window.deny) as string,
    durationMs: window.duration as number,
    timezone: window.timezone,
  }));

const approvalsSchema = z
  .strictObject({
    minAccessLevel: z.enum(['developer', 'maintainer', 'owner']).default('maintainer'),
    users: z.array(text).default([]),
    groups: z.array(text).default([]),
    allowAuthor: z.boolean().default(false),
  })
  .prefault({});

const channel = z.strictObject({ channel: text });
const notifySchema = z.strictObject({ slack: channel.optional(), mattermost: channel.optional() }).prefault({});

type SpecShape = { target: Definition['target']; strategy: Strategy; analysis: AnalysisSpec };

/**
 * How the steps end and how far they may go (a baseline takes as much as the canary, so 50 % is
 * full weight then), and the judge's group weights against the metrics that use them.
 */
function judgedAnalysisProblems(spec: SpecShape, ctx: z.RefinementCtx): void {
  const { strategy, target } = spec;
  const baseline = target.baseline !== undefined && strategy.kind !== 'blueGreen';
  const end = endProblem(strategy.kind, strategy.steps, baseline ? 50 : 100);
  if (end) ctx.addIssue({ code: 'custom', path: ['strategy', strategy.kind, 'steps'], message: end });
  if (baseline) {
    strategy.steps.forEach((step, index) => {
      if (step.kind === 'setWeight' && step.weight > 50) {
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', strategy.kind, 'steps', index, 'setWeight'],
          message: `with target.baseline the baseline gets as much traffic as the canary, so a weight is at most 50 (got ${step.weight})`,
        });
      }
    });
  }
  for (const message of groupProblems(spec.analysis.metrics, spec.analysis.judge)) ctx.addIssue({ code: 'custom', path: ['analysis', 'judge', 'groups'], message });
}

// GitLab's rule (src/core/environment-name.ts); `{{ cluster }}`, `{{ namespace }}`, `{{ service }}` are filled per release.
const environmentNameSchema = z
  .string()
  .refine((name) => isGitLabEnvironmentName(name), {
    error: (issue) => `must be a GitLab environment name: letters, digits, spaces, - _ / $ { } . and not starting or ending with / (got ${shown(issue.input)})`,
  })
  .superRefine((name, ctx) => {
    for (const message of environmentNameProblems(name)) ctx.addIssue({ code: 'custom', message });
  });

const environmentSchema = z
  .strictObject({
    name: environmentNameSchema.optional(),
    tier: z.enum(ENVIRONMENT_TIERS, { error: (issue) => `must be one of ${ENVIRONMENT_TIERS.join(', ')} (got ${shown(issue.input)})` }).optional(),
  })
  .transform((environment): EnvironmentSpec => ({
    ...(environment.name !== undefined ? { name: environment.name } : {}),
    ...(environment.tier !== undefined ? { tier: environment.tier } : {}),
  }));

const specSchema = z
  .strictObject({
    trigger: triggerSchema,
    target: targetSchema,
    strategy: strategySchema,
    analysis: analysisSchema,
    alerts: z.array(alertSchema).default([]),
    approvals: approvalsSchema,
    notify: notifySchema,
    gitops: gitopsSchema.optional(),
    onFailure: z.enum(ON_FAILURE, { error: (issue) => `must be one of ${ON_FAILURE.join(', ')} (got ${shown(issue.input)})` }).default(DEFAULT_ON_FAILURE),
    holdTimeout: duration(1000).default(3_600_000),
    windows: z.array(windowSchema).optional(),
    environment: environmentSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.environment?.name && Array.isArray(spec.target.clusters)) environmentNamePerCluster(spec.environment.name, spec.target.clusters, spec.target.namespace, ctx);
    if (spec.gitops && Array.isArray(spec.target.clusters)) {
      for (const problem of gitopsClusterProblems(spec.gitops, spec.target.clusters)) ctx.addIssue({ code: 'custom', path: ['gitops', ...problem.path], message: problem.message });
    }
    // Refinements also run after recoverable issues below; only look at parts that were normalized.
    const strategy = spec.strategy as Partial<Strategy>;
    if (!Array.isArray(strategy.steps) || typeof spec.analysis.intervalMs !== 'number') return;
    judgedAnalysisProblems(spec, ctx);
    spec.strategy.steps.forEach((step, index) => {
      if (step.kind !== 'analysis') return;
      const path = ['strategy', spec.strategy.kind, 'steps', index, 'analysis'];
      const metrics = step.metrics ?? spec.analysis.metrics;
      if (step.metrics) for (const message of groupProblems(step.metrics, spec.analysis.judge)) ctx.addIssue({ code: 'custom', path: [...path, 'metrics'], message });
      if (metrics.length === 0 && spec.alerts.length === 0) {
        ctx.addIssue({ code: 'custom', path, message: 'has nothing to check: add spec.analysis.metrics, metrics on the step, or spec.alerts' });
      }
      if (step.durationMs !== undefined && step.durationMs < spec.analysis.intervalMs) {
        ctx.addIssue({ code: 'custom', path: [...path, 'duration'], message: 'is shorter than spec.analysis.interval, so no check would run' });
      }
    });
  });

/** The name each cluster would get must still be one GitLab accepts (a cluster name may hold ':' or '@'). */
function environmentNamePerCluster(template: string, clusters: readonly string[], namespace: string, ctx: z.RefinementCtx): void {
  for (const cluster of clusters) {
    // The service is the definition's name, a Kubernetes name: always valid in a GitLab name.
    const rendered = renderEnvironmentName(template, { cluster, namespace, service: 'service' });
    if (!isGitLabEnvironmentName(rendered)) {
      ctx.addIssue({ code: 'custom', path: ['environment', 'name'], message: `on cluster ${cluster} becomes ${shown(rendered)}, which is not a GitLab environment name (letters, digits, spaces, - _ / $ { } . only)` });
    }
  }
}

export const definitionSchema = z
  .strictObject({
    apiVersion: z.literal('canarybot/v1', { error: (issue) => `must be canarybot/v1 (got ${shown(issue.input)})` }),
    kind: z.literal('ReleasePipeline', { error: (issue) => `must be ReleasePipeline or ReleaseTrain (got ${shown(issue.input)})` }),
    metadata: z.strictObject({
      name: kubernetesName,
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
    spec: specSchema,
  })
  .transform(
    ({ metadata, spec }): Definition => ({
      name: metadata.name,
      trigger: spec.trigger,
      target: spec.target,
      strategy: spec.strategy,
      analysis: spec.analysis,
      alerts: spec.alerts,
      approvals: spec.approvals,
      notify: spec.notify,
      ...(spec.gitops ? { gitops: spec.gitops } : {}),
      onFailure: spec.onFailure,
      holdTimeoutMs: spec.holdTimeout,
      ...(spec.windows ? { windows: spec.windows } : {}),
      ...(spec.environment ? { environment: spec.environment } : {}),
    }),
  );

// The schema's output must stay assignable to the contract type.
type AssertAssignable<T extends U, U> = T;
export type ParsedDefinition = AssertAssignable<z.output<typeof definitionSchema>, Definition>;
