// The GitLab environment a release deploys to may name its cluster, namespace and service with
// `{{ cluster }}`, `{{ namespace }}`, `{{ service }}` (the PromQL templates' syntax), so one
// definition on several clusters gets one environment per cluster. GitLab's rule for a name: letters,
// digits, spaces and - _ / $ { } . only, not starting or ending with '/', at most 255 characters.

export const ENVIRONMENT_NAME_VARIABLES = ['cluster', 'namespace', 'service'] as const;

export type EnvironmentNameValues = Readonly<Record<(typeof ENVIRONMENT_NAME_VARIABLES)[number], string>>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function isGitLabEnvironmentName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && /^[A-Za-z0-9 _/${}.-]+$/.test(name) && !name.startsWith('/') && !name.endsWith('/');
}

/** Unknown or unclosed placeholders, one sentence each. */
export function environmentNameProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!(ENVIRONMENT_NAME_VARIABLES as readonly string[]).includes(name ?? '')) {
      problems.push(`unknown placeholder {{ ${name} }} (known: ${ENVIRONMENT_NAME_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')})`);
    }
  }
  if (template.replace(PLACEHOLDER, '').includes('{{')) problems.push('a "{{" is never closed with "}}"');
  return problems;
}

/** The name with every placeholder filled. */
export function renderEnvironmentName(template: string, values: EnvironmentNameValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => ((ENVIRONMENT_NAME_VARIABLES as readonly string[]).includes(name) ? values[name as keyof EnvironmentNameValues] : whole));
}
