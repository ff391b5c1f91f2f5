// `canarybot judge <file> [-o json]`: judge exported samples offline, to answer "why did my canary
// fail?" — the same pure judge the analysis runs, on a file of control and experiment values.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { classifyMetric, type MetricJudgement } from '../core/judge/classify-metric.js';
import { parseSampleValue } from '../gates/parse-sample-value.js';
import { shown } from '../pipelines/fields.js';
import { effectSizeProblems, judgeFields, resolveMetricJudge } from '../pipelines/judge.js';
import { processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot judge <file> [-o json]

Judges two samples the way an analysis step judges a metric (Kayenta's Mann-Whitney judge): the
canary ("experiment") against the baseline ("control"). The file, JSON or YAML, holds:

  control, experiment   lists of numbers (NaN, +Inf, -Inf and null are missing values)
  direction             increase | decrease | either (default either)
  tolerance             default 0.25
  confidence            default 0.98
  effectSize            { measure: meanRatio | cles, allowedIncrease, allowedDecrease,
                          criticalIncrease, criticalDecrease } (default 1.0, CLES 0.5)
  critical              default false
  nanStrategy           remove | replace (default remove)

  -o json   print {"classification", "critical", "interval", "estimate", "effectSize"}

Exit 0 when the file is valid, whatever the verdict; 2 when it is not (one line naming the field).
`;

/** A sample value as exported: a number, YAML's .nan/.inf, null, or Prometheus' "NaN"/"+Inf" text. */
const sampleValue = z.unknown().transform((value, ctx): number => {
  if (value === null) return Number.NaN;
  if (typeof value === 'number') return value;
  const parsed = typeof value === 'string' ? parseSampleValue(value) : null;
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: `must be a number (got ${shown(value)})` });
    return z.NEVER;
  }
  return parsed;
});

const samples = z.array(sampleValue, { error: (issue) => (issue.input === undefined ? 'is required' : `must be a list of numbers (got ${shown(issue.input)})`) });

const { direction, tolerance, confidence, effectSize, critical, nanStrategy } = judgeFields;
const judgeFile = z
  .strictObject({ control: samples, experiment: samples, direction, tolerance, confidence, effectSize, critical, nanStrategy }, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field "${issue.keys[0]}"` : `must be a mapping (got ${shown(issue.input)})`),
  })
  .superRefine((file, ctx) => {
    for (const problem of effectSizeProblems(file.effectSize)) ctx.addIssue({ code: 'custom', ...problem });
  });

class JudgeInputError extends Error {}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

async function readJudgeFile(file: string): Promise<z.output<typeof judgeFile>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new JudgeInputError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new JudgeInputError(`${file}: not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = judgeFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = fieldPath(issue.path);
    throw new JudgeInputError(`${file}: ${where ? `${where}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

function readable(result: MetricJudgement): string {
  const verdict = result.critical ? `${result.classification} (critical)` : result.classification;
  return `${verdict}: ${result.reason}; canary ${result.experiment.count} values, baseline ${result.control.count} values\n`;
}

export async function runJudge(args: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, output: { type: 'string', short: 'o' } } });
  } catch (error) {
    io.stderr.write(`canarybot judge: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const output = parsed.values.output;
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0 || (output !== undefined && output !== 'json')) {
    io.stderr.write(`canarybot judge: expected one file${output !== undefined && output !== 'json' ? ` and -o json (got -o ${output})` : ''}\n\n${HELP}`);
    return 2;
  }
  let input;
  try {
    input = await readJudgeFile(file);
  } catch (error) {
    if (!(error instanceof JudgeInputError)) throw error;
    io.stderr.write(`canarybot judge: ${error.message}\n`);
    return 2;
  }
  const { control, experiment, ...fields } = input;
  const result = classifyMetric(control, experiment, resolveMetricJudge('', fields));
  if (output === 'json') {
    const { classification, critical, interval, estimate, effectSize } = result;
    io.stdout.write(`${JSON.stringify({ classification, critical, interval, estimate, effectSize })}\n`);
  } else {
    io.stdout.write(readable(result));
  }
  return 0;
}

export const judgeCommand: CliCommand = {
  summary: 'judge exported canary and baseline samples offline',
  run: (args) => runJudge(args),
};
