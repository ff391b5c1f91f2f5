import type { Release } from '../core/release.js';
import { formatPromDuration } from './prometheus-duration.js';

/** Values for `{{ … }}` placeholders in PromQL templates. */
export type QueryVariables = Readonly<Record<string, string>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;

export class UnknownTemplateVariableError extends Error {
  constructor(readonly variable: string) {
    super(`unknown template variable {{ ${variable} }}`);
    this.name = 'UnknownTemplateVariableError';
  }
}

/** Replace every `{{ name }}`; an unknown name throws so a typo never reaches Prometheus. */
export function renderQuery(template: string, variables: QueryVariables): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new UnknownTemplateVariableError(name);
    return value;
  });
}

/**
 * The variables of a release's queries. `{{ interval }}` is an alias of `{{ window }}` and
 * `{{ target }}` of `{{ canary.deployment }}`, so queries written for Flagger work unchanged.
 */
export function queryVariables(release: Release, windowMs: number): QueryVariables {
  const target = release.definition.target;
  const window = formatPromDuration(windowMs);
  return {
    namespace: target.namespace,
    service: release.service,
    host: target.host,
    'canary.deployment': target.canary.deployment,
    // Flagger's name for the canary workload.
    target: target.canary.deployment,
    'canary.subset': target.canary.subset,
    'stable.deployment': target.stable.deployment,
    'stable.subset': target.stable.subset,
    window,
    interval: window,
  };
}

/**
 * The same variables with `canary.*` pointing at the stable workload: a metric's query rendered
 * with these measures stable in the same window, for relative thresholds.
 */
export function stableQueryVariables(variables: QueryVariables): QueryVariables {
  return {
    ...variables,
    'canary.deployment': variables['stable.deployment'] ?? '',
    target: variables['stable.deployment'] ?? '',
    'canary.subset': variables['stable.subset'] ?? '',
  };
}
