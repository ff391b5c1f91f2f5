// Metric checks of an analysis: built-in names or custom PromQL with known template variables.

import { z } from 'zod';
import type { MetricCheck } from '../core/definition.js';
import { templateProblems } from '../core/template-variables.js';
import { text } from './fields.js';
import { metricJudgeInput, resolveMetricJudge } from './judge.js';

/** Metrics the Prometheus provider knows by name (Istio standard metrics). */
export const BUILTIN_METRICS = ['request-success-rate', 'request-duration-p99', 'request-count'] as const;

export { TEMPLATE_VARIABLES, templateProblems } from '../core/template-variables.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const metricSchema = z
  .strictObject({
    name: text,
    query: text.optional(),
    min: finite.optional(),
    max: finite.optional(),
    maxDegradation: finite.min(0, 'must not be negative').optional(),
    judge: metricJudgeInput.optional(),
  })
  .superRefine((metric, ctx) => {
    const builtin = (BUILTIN_METRICS as readonly string[]).includes(metric.name);
    if (!builtin && metric.query === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `unknown metric "${metric.name}": use a built-in (${BUILTIN_METRICS.join(', ')}) or give a query`,
      });
    }
    if (metric.min === undefined && metric.max === undefined && metric.judge === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: `metric "${metric.name}" needs a min or a max threshold, or a judge` });
    }
    if (metric.maxDegradation !== undefined && metric.min === undefined && metric.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['maxDegradation'], message: 'needs a min or a max threshold to say which way is worse' });
    }
    if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min ${metric.min} is above max ${metric.max}` });
    }
    for (const message of metric.query ? templateProblems(metric.query) : []) {
      ctx.addIssue({ code: 'custom', path: ['query'], message });
    }
  })
  .transform((metric): MetricCheck => {
    const out: MetricCheck = { name: metric.name };
    if (metric.query !== undefined) out.query = metric.query;
    if (metric.min !== undefined) out.min = metric.min;
    if (metric.max !== undefined) out.max = metric.max;
    if (metric.maxDegradation !== undefined) out.maxDegradation = metric.maxDegradation;
    if (metric.judge !== undefined) out.judge = resolveMetricJudge(metric.name, metric.judge);
    return out;
  });

export const metricListSchema = z.array(metricSchema).superRefine((metrics, ctx) => {
  const seen = new Set<string>();
  metrics.forEach((metric, index) => {
    if (seen.has(metric.name)) {
      ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `metric "${metric.name}" is listed twice` });
    }
    seen.add(metric.name);
  });
});
