// The judge's fields of a definition (DESIGN §10): per-metric `judge:` resolved over the metric's
// built-in defaults, `analysis.judge:` (step, thresholds, group weights), `analysis.provider:`
// overrides, and the cross-field rules they bring (weighted groups need metrics, weights ≤ 100).

import { z } from 'zod';
import type { MetricCheck, ProviderOverride, ProviderOverrides } from '../core/definition.js';
import {
  DEFAULT_ANALYSIS_JUDGE,
  DEFAULT_METRIC_JUDGE,
  defaultEffectSize,
  type AnalysisJudgeSpec,
  type EffectSizeSpec,
  type MetricJudgeSpec,
} from '../core/judge/judge-spec.js';
import { duration, httpUrl, shown, text } from './fields.js';

/** `- judge:` with nothing after it is YAML null: the defaults. */
const emptyIsObject = (value: unknown) => (value === null ? {} : value);

const positive = z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a number above 0');
const share = (what: string) => z.number().refine((v) => Number.isFinite(v) && v >= 0 && v <= 100, `${what} must be between 0 and 100`);
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const effectSizeInput = z.strictObject({
  measure: z.enum(['meanRatio', 'cles'], { error: (issue) => `must be meanRatio or cles (got ${shown(issue.input)})` }).optional(),
  allowedIncrease: positive.optional(),
  allowedDecrease: positive.optional(),
  criticalIncrease: positive.optional(),
  criticalDecrease: positive.optional(),
});

/** The judge fields a metric (and `canarybot judge`) may set; unset fields come from the defaults. */
export const judgeFields = {
  direction: z.enum(['increase', 'decrease', 'either'], { error: (issue) => `must be increase, decrease or either (got ${shown(issue.input)})` }).optional(),
  tolerance: z.number().refine((v) => Number.isFinite(v) && v >= 0, 'must be a number of at least 0').optional(),
  confidence: z.number().refine((v) => Number.isFinite(v) && v > 0 && v < 1, 'must be between 0 and 1, e.g. 0.98').optional(),
  effectSize: effectSizeInput.optional(),
  critical: z.boolean().optional(),
  mustHaveData: z.boolean().optional(),
  nanStrategy: z.enum(['remove', 'replace'], { error: (issue) => `must be remove or replace (got ${shown(issue.input)})` }).optional(),
  outliers: z.enum(['keep', 'remove'], { error: (issue) => `must be keep or remove (got ${shown(issue.input)})` }).optional(),
  group: z.string().regex(GROUP_NAME, 'must be a group name: letters, digits, ".", "_" or "-"').optional(),
};

export type JudgeInput = Partial<Omit<MetricJudgeSpec, 'effectSize'>> & { effectSize?: Partial<EffectSizeSpec> };

/** Effect-size thresholds must sit on the right side of "no effect" (ratio 1, CLES 0.5). */
export function effectSizeProblems(effect: Partial<EffectSizeSpec> | undefined): { path: string[]; message: string }[] {
  if (!effect) return [];
  const measure = effect.measure ?? 'meanRatio';
  const neutral = defaultEffectSize(measure).allowedIncrease;
  const problems: { path: string[]; message: string }[] = [];
  for (const key of ['allowedIncrease', 'criticalIncrease'] as const) {
    const value = effect[key];
    if (value !== undefined && value < neutral) problems.push({ path: ['effectSize', key], message: `must be at least ${neutral} for ${measure} (got ${value})` });
  }
  for (const key of ['allowedDecrease', 'criticalDecrease'] as const) {
    const value = effect[key];
    if (value !== undefined && value > neutral) problems.push({ path: ['effectSize', key], message: `must be at most ${neutral} for ${measure} (got ${value})` });
  }
  if (measure === 'cles') {
    for (const key of ['allowedIncrease', 'criticalIncrease'] as const) {
      const value = effect[key];
      if (value !== undefined && value > 1) problems.push({ path: ['effectSize', key], message: `a CLES is a probability: at most 1 (got ${value})` });
    }
  }
  return problems;
}

export const metricJudgeInput = z.preprocess(emptyIsObject, z.strictObject(judgeFields)).superRefine((judge, ctx) => {
  for (const problem of effectSizeProblems(judge.effectSize)) ctx.addIssue({ code: 'custom', ...problem });
});

/** Judge defaults of the built-in metrics: a falling success rate is bad (and critical), a rising p99 is bad. */
export const BUILTIN_JUDGE_DEFAULTS: Readonly<Record<string, Partial<MetricJudgeSpec>>> = {
  'request-success-rate': { direction: 'decrease', critical: true },
  'request-duration-p99': { direction: 'increase' },
};

/** A metric's judge: its own fields over its built-in defaults over the judge's defaults. */
export function resolveMetricJudge(metricName: string, input: JudgeInput): MetricJudgeSpec {
  const builtin = BUILTIN_JUDGE_DEFAULTS[metricName] ?? {};
  const measure = input.effectSize?.measure ?? 'meanRatio';
  const { effectSize, ...rest } = input;
  return {
    ...DEFAULT_METRIC_JUDGE,
    ...builtin,
    ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
    effectSize: { ...defaultEffectSize(measure), ...Object.fromEntries(Object.entries(effectSize ?? {}).filter(([, value]) => value !== undefined)) },
  };
}

export const analysisJudgeSchema = z
  .strictObject({
    step: duration(1000).default(DEFAULT_ANALYSIS_JUDGE.stepMs),
    thresholds: z
      .strictObject({
        pass: share('pass').default(DEFAULT_ANALYSIS_JUDGE.thresholds.pass),
        marginal: share('marginal').default(DEFAULT_ANALYSIS_JUDGE.thresholds.marginal),
      })
      .prefault({})
      .superRefine((thresholds, ctx) => {
        if (thresholds.marginal > thresholds.pass) {
          ctx.addIssue({ code: 'custom', path: ['marginal'], message: `must not be above pass (${thresholds.marginal} > ${thresholds.pass})` });
        }
      }),
    groups: z
      .record(z.string().regex(GROUP_NAME, 'must be a group name: letters, digits, ".", "_" or "-"'), share('a group weight'))
      .default({})
      .superRefine((groups, ctx) => {
        const total = Object.values(groups).reduce((sum, weight) => sum + weight, 0);
        if (total > 100) ctx.addIssue({ code: 'custom', message: `group weights add up to ${total}; at most 100` });
      }),
  })
  .transform((judge): AnalysisJudgeSpec => ({ stepMs: judge.step, thresholds: judge.thresholds, groups: judge.groups }));

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const providerOverrideSchema = z
  .strictObject({
    url: httpUrl.optional(),
    headers: z.record(z.string().regex(HEADER, 'must be an HTTP header name'), z.string()).optional(),
    bearerTokenEnv: z.string().regex(ENV_NAME, 'must be an environment variable name such as MIMIR_TEAM_A_TOKEN').optional(),
    basicAuthEnv: z.string().regex(ENV_NAME, 'must be an environment variable name such as MIMIR_TEAM_A_AUTH').optional(),
  })
  .superRefine((override, ctx) => {
    if (override.bearerTokenEnv && override.basicAuthEnv) ctx.addIssue({ code: 'custom', path: ['basicAuthEnv'], message: 'set bearerTokenEnv or basicAuthEnv, not both' });
    for (const name of Object.keys(override.headers ?? {})) {
      if (name.toLowerCase() === 'authorization') {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'credentials do not belong in a reviewed file: use bearerTokenEnv or basicAuthEnv' });
      }
    }
  })
  .transform((override): ProviderOverride => Object.fromEntries(Object.entries(override).filter(([, value]) => value !== undefined)));

export const providerOverridesSchema = z
  .strictObject({ prometheus: providerOverrideSchema.optional(), alertmanager: providerOverrideSchema.optional() })
  .transform((overrides): ProviderOverrides => Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)));

export const groupNameSchema = text.regex(GROUP_NAME);

/**
 * Weighted groups that no judged metric of a metric list belongs to, or unweighted groups left with
 * no weight (the configured weights already give 100): either would make a score that can never pass
 * or a metric that never counts.
 */
export function groupProblems(metrics: readonly MetricCheck[], judge: AnalysisJudgeSpec | undefined): string[] {
  const judged = metrics.filter((metric) => metric.judge !== undefined);
  if (judged.length === 0) return [];
  const groups = judge?.groups ?? {};
  const used = new Set(judged.map((metric) => metric.judge!.group));
  const problems: string[] = [];
  for (const group of Object.keys(groups)) {
    if (!used.has(group)) problems.push(`analysis.judge.groups weights group "${group}", but no judged metric belongs to it`);
  }
  const total = Object.values(groups).reduce((sum, weight) => sum + weight, 0);
  const unweighted = [...used].filter((group) => groups[group] === undefined);
  if (unweighted.length > 0 && total >= 100) {
    problems.push(`group "${unweighted[0]}" has no weight and the weights of analysis.judge.groups already add up to ${total}`);
  }
  return problems;
}
