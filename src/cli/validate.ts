// `canarybot validate [dir]`: every error in every definition, one line each, or a summary.

import { parseArgs } from 'node:util';
import type { Definition } from '../core/definition.js';
import { DEFAULT_ANALYSIS_JUDGE } from '../core/judge/judge-spec.js';
import { formatDefinitionError } from '../pipelines/definition-error.js';
import { definitionsMissingAlertmanager, missingAlertmanagerProblem } from '../gates/gate-providers.js';
import { describeJudge } from '../pipelines/render-plan.js';
import { loadDefinitions } from '../pipelines/load-definitions.js';
import { pipelinesDir, processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot validate [dir]

Checks every release pipeline definition (*.yaml, *.yml) in dir and prints each error as
file:line:column: field.path: what is wrong. Exit code 1 when there is any error, else 0 with a
summary of the definitions.

  dir   directory of definitions (default: $PIPELINES_DIR, else ./pipelines)
`;

export async function runValidate(args: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
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
  const dir = pipelinesDir(io, parsed.positionals[0]);
  const { definitions, trains, errors } = await loadDefinitions(dir);
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
  const unpolled = definitionsMissingAlertmanager(io.env.ALERTMANAGER_URL, definitions);
  if (unpolled.length > 0) io.stderr.write(`warning: ALERTMANAGER_URL ${missingAlertmanagerProblem(unpolled)} (canarybot serve refuses to start so)\n`);
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
