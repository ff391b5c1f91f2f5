// The `{{ name }}` placeholders a PromQL template may use: one list, so that `canarybot validate`
// accepts exactly what the query renderer fills (src/gates/render-query.ts builds a value for each).

export const TEMPLATE_VARIABLES = [
  'namespace',
  'service',
  'host',
  'canary.deployment',
  'canary.subset',
  'stable.deployment',
  'stable.subset',
  'baseline.deployment',
  'baseline.subset',
  /** Flagger's name for the canary workload (an alias of canary.deployment). */
  'target',
  'window',
  /** Flagger's name for the range (an alias of window). */
  'interval',
  /** The judge's sample resolution (analysis.judge.step). */
  'step',
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function isTemplateVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

/** Problems with a query's template variables, one sentence each. */
export function templateProblems(query: string): string[] {
  const problems: string[] = [];
  for (const [, name] of query.matchAll(PLACEHOLDER)) {
    if (!isTemplateVariable(name ?? '')) problems.push(`unknown template variable {{ ${name} }} (known: ${TEMPLATE_VARIABLES.join(', ')})`);
  }
  if (query.replace(PLACEHOLDER, '').includes('{{')) problems.push('a "{{" is never closed with "}}"');
  return problems;
}
