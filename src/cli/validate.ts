// `canarybot validate [dir]`: every error in every definition, one line each, or a summary.

import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Definition } from '../core/definition.js';
import { DEFAULT_ANALYSIS_JUDGE } from '../core/judge/judge-spec.js';
import { formatDefinitionError, type DefinitionError } from '../pipelines/definition-error.js';
import { definitionsMissingAlertmanager, missingAlertmanagerProblem } from '../gates/gate-providers.js';
import { describeJudge } from '../pipelines/render-plan.js';
import { loadDefinitions } from '../pipelines/load-definitions.js';
import { pipelinesDir, processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot validate [dir] [--format text|json|codequality]

Checks every release pipeline definition (*.yaml, *.yml) in dir and prints each error as
file:line:column: field.path: what is wrong. Exit code 1 when there is any error, else 0 with a
summary of the definitions.

  dir       directory of definitions (default: $PIPELINES_DIR, else ./pipelines)
  --format  text (default); json ({valid, definitions, errors, warnings}); codequality (GitLab's
            Code Quality report, so errors show inline in merge requests: publish it as
            artifacts:reports:codequality, see pipelines/templates/validate.gitlab-ci.yml)
`;

const FORMATS = ['text', 'json', 'codequality'] as const;
type Format = (typeof FORMATS)[number];

/** One entry of GitLab's Code Quality report (the CodeClimate subset GitLab reads). */
export interface CodeQualityIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker';
  location: { path: string; lines: { begin: number } };
}

export function codeQualityIssue(error: DefinitionError, severity: CodeQualityIssue['severity'] = 'major'): CodeQualityIssue {
  const field = error.path ? `${error.path}: ` : '';
  return {
    description: `${field}${error.message}`,
    check_name: error.path ? 'canarybot-definition' : 'canarybot-yaml',
    // Stable while lines move: the file, the field and the problem.
    fingerprint: createHash('sha256').update(`${error.file}\0${error.path}\0${error.message}`).digest('hex'),
    severity,
    location: { path: error.file, lines: { begin: error.line } },
  };
}

export async function runValidate(args: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, format: { type: 'string' } } });
  } catch (error) {
    io.stderr.write(`canarybot validate: ${(error as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    io.stderr.write(`canarybot validate: expected at most one directory\n\n${HELP}`);
    return 1;
  }
  const format = (parsed.values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) {
    io.stderr.write(`canarybot validate: --format must be text, json or codequality\n\n${HELP}`);
    return 2;
  }
  const dir = pipelinesDir(io, parsed.positionals[0]);
  const { definitions, trains, errors } = await loadDefinitions(dir);
  const unpolledNames = definitionsMissingAlertmanager(io.env.ALERTMANAGER_URL, definitions);
  if (format !== 'text') {
    // Paths relative to the working directory, as GitLab matches them against the repository.
    const located = errors.map((error) => ({ ...error, file: relative(process.cwd(), error.file) || error.file }));
    const warnings = unpolledNames.length > 0 ? [`ALERTMANAGER_URL ${missingAlertmanagerProblem(unpolledNames)} (canarybot serve refuses to start so)`] : [];
    if (format === 'json') {
      const summary = definitions.map((d) => ({ name: d.name, strategy: d.strategy.kind, steps: d.strategy.steps.length }));
      io.stdout.write(`${JSON.stringify({ valid: errors.length === 0, definitions: summary, trains: trains.map((t) => t.name), errors: located, warnings }, null, 2)}\n`);
    } else {
      io.stdout.write(`${JSON.stringify(located.map((error) => codeQualityIssue(error)), null, 2)}\n`);
    }
    return errors.length > 0 ? 1 : 0;
  }
  if (errors.length > 0) {
    for (const error of errors) io.stdout.write(`${formatDefinitionError(error)}\n`);
    const files = new Set(errors.map((error) => error.file)).size;
    io.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}\n`);
    return 1;
  }
  if (definitions.length === 0) {
    io.stdout.write(`no definitions in ${dir} (looked for *.yaml and *.yml)\n`);
    return 0;
  }
  io.stdout.write(`${definitions.length} valid definition${definitions.length === 1 ? '' : 's'} in ${dir}:\n`);
  const width = Math.max(...definitions.map((definition) => definition.name.length));
  for (const definition of definitions) {
    const steps = definition.strategy.steps.length;
    const judge = judgeSummary(definition);
    io.stdout.write(`  ${definition.name.padEnd(width)}  ${definition.strategy.kind}, ${steps} step${steps === 1 ? '' : 's'}${judge}\n`);
  }
  if (trains.length > 0) io.stdout.write(`${trains.length} release train${trains.length === 1 ? '' : 's'}:\n`);
  for (const train of trains) {
    const entry = train.entry.kind === 'cohort' ? `cohort of ${train.entry.cohort.length} match block${train.entry.cohort.length === 1 ? '' : 's'}` : `${train.entry.weight}%`;
    io.stdout.write(`  ${train.name}  ${train.members.join(' → ')}, lane ${train.lane.header}: ${train.lane.value}, entry ${train.entry.member} (${entry}), ${train.steps.length} step${train.steps.length === 1 ? '' : 's'}, promote ${train.promote}\n`);
  }
  if (unpolledNames.length > 0) io.stderr.write(`warning: ALERTMANAGER_URL ${missingAlertmanagerProblem(unpolledNames)} (canarybot serve refuses to start so)\n`);
  return 0;
}

/** `, judged: 2 metrics (pass >= 95, marginal >= 75) against baseline reviews-baseline` when the judge is used. */
function judgeSummary(definition: Definition): string {
  const lines = describeJudge(definition);
  if (lines.length === 0) return '';
  const metrics = lines.length - 2;
  const judge = definition.analysis.judge ?? DEFAULT_ANALYSIS_JUDGE;
  const against = definition.target.baseline ? `baseline ${definition.target.baseline.deployment}` : `stable ${definition.target.stable.deployment}`;
  return `, judged: ${metrics} metric${metrics === 1 ? '' : 's'} (pass >= ${judge.thresholds.pass}, marginal >= ${judge.thresholds.marginal}) against ${against}`;
}

export const validateCommand: CliCommand = {
  summary: 'check release pipeline definitions',
  run: (args) => runValidate(args),
};
