import { DEFAULT_JUDGE_STEP_MS } from '../core/judge/judge-spec.js';
import type { Release } from '../core/release.js';
import type { TemplateVariable } from '../core/template-variables.js';
import { formatPromDuration } from './prometheus-duration.js';

/** Values for `{{ … }}` placeholders in PromQL templates: one for every name `validate` accepts. */
export type QueryVariables = Readonly<Record<TemplateVariable, string>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

export class UnknownTemplateVariableError extends Error {
  constructor(readonly variable: string) {
    super(`unknown template variable {{ ${variable} }}`);
    this.name = 'UnknownTemplateVariableError';
  }
}

/** Replace every `{{ name }}`; an unknown name throws so a typo never reaches Prometheus. */
export function renderQuery(template: string, variables: Readonly<Partial<Record<string, string>>>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new UnknownTemplateVariableError(name);
    return value;
  });
}

/**
 * The variables of a release's queries. `{{ interval }}` is an alias of `{{ window }}` and
 * `{{ target }}` of `{{ canary.deployment }}`, so queries written for Flagger work unchanged.
 * Without `target.baseline`, `baseline.*` name the stable workload (the judge's baseline then).
 */
export function queryVariables(release: Release, windowMs: number, stepMs = release.definition.analysis.judge?.stepMs ?? DEFAULT_JUDGE_STEP_MS): QueryVariables {
  const target = release.definition.target;
  const window = formatPromDuration(windowMs);
  const baseline = target.baseline ?? target.stable;
  return {
    namespace: target.namespace,
    service: release.service,
    host: target.host,
    'canary.deployment': target.canary.deployment,
    target: target.canary.deployment,
    'canary.subset': target.canary.subset,
    'stable.deployment': target.stable.deployment,
    'stable.subset': target.stable.subset,
    'baseline.deployment': baseline.deployment,
    'baseline.subset': baseline.subset,
    window,
    interval: window,
    step: formatPromDuration(stepMs),
  };
}

/**
 * The same variables with `canary.*` pointing at the stable workload: a metric's query rendered
 * with these measures stable in the same window, for relative thresholds.
 */
export function stableQueryVariables(variables: QueryVariables): QueryVariables {
  return { ...variables, 'canary.deployment': variables['stable.deployment'], target: variables['stable.deployment'], 'canary.subset': variables['stable.subset'] };
}

/** The same variables with `canary.*` pointing at the baseline: the judge's control sample. */
export function baselineQueryVariables(variables: QueryVariables): QueryVariables {
  return { ...variables, 'canary.deployment': variables['baseline.deployment'], target: variables['baseline.deployment'], 'canary.subset': variables['baseline.subset'] };
}
