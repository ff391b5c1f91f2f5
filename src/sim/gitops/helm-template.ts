// The small part of Helm's template language the simulated GitOps controllers need to render a
// chart from the config repository (no Helm binary here, no template dependency):
//   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Release.Namespace }}  {{ .Chart.Name }}  {{ .Chart.Version }}
//   string and number literals, pipelines `x | f`, and the functions `quote` and `default`,
//   whitespace trimming `{{-` / `-}}`, comments `{{/* … */}}`.
// Anything else (if, range, include, toYaml, …) is refused with the file and line, never guessed.
// As Helm does: a missing value renders as nothing; a path through a missing map is a nil-pointer error.
// https://helm.sh/docs/chart_template_guide/

export class HelmTemplateError extends Error {}

export interface TemplateContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string };
  Chart: { Name: string; Version: string };
}

type Value = unknown;

const FUNCTIONS = new Set(['quote', 'default']);

function isMap(value: Value): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go templates' notion of empty (what `default` replaces). */
function isEmpty(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isMap(value) && Object.keys(value).length === 0;
}

function text(value: Value, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new HelmTemplateError(`${where}: renders a ${Array.isArray(value) ? 'list' : 'map'}; the simulated Helm renders scalars only (toYaml is not supported)`);
}

/** Split an action into words: `.Values.x`, `"quoted string"`, numbers, `|`. */
function words(action: string, where: string): string[] {
  const out: string[] = [];
  const pattern = /\s*("(?:[^"\\]|\\.)*"|\||[^\s|"]+)/y;
  let rest = action.trim();
  while (rest.length > 0) {
    pattern.lastIndex = 0;
    const match = pattern.exec(rest);
    if (!match) throw new HelmTemplateError(`${where}: cannot read \`${rest}\``);
    out.push(match[1]!);
    rest = rest.slice(match[0].length).trimStart();
  }
  return out;
}

function operand(word: string, context: TemplateContext, where: string): Value {
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (!word.startsWith('.')) throw new HelmTemplateError(`${where}: \`${word}\` is not supported (the simulated Helm knows .Values, .Release, .Chart, quote and default)`);
  const path = word.slice(1).split('.');
  let node: Value = context;
  for (const [i, key] of path.entries()) {
    if (node === undefined || node === null) throw new HelmTemplateError(`${where}: nil pointer evaluating interface {}.${key}`);
    if (!isMap(node)) throw new HelmTemplateError(`${where}: can't evaluate field ${key} in ${path.slice(0, i).join('.') || 'the context'}`);
    node = node[key];
  }
  return node;
}

function call(name: string, args: Value[], where: string): Value {
  if (name === 'quote') {
    if (args.length === 0) throw new HelmTemplateError(`${where}: quote needs an argument`);
    return args.filter((arg) => arg !== undefined && arg !== null).map((arg) => JSON.stringify(text(arg, where))).join(' ');
  }
  if (args.length !== 2) throw new HelmTemplateError(`${where}: default takes 2 arguments, got ${args.length}`);
  return isEmpty(args[1]) ? args[0] : args[1];
}

/** One pipeline: commands separated by `|`, each result passed as the next command's last argument. */
function evaluate(action: string, context: TemplateContext, where: string): Value {
  const commands: string[][] = [[]];
  for (const word of words(action, where)) {
    if (word === '|') commands.push([]);
    else commands.at(-1)!.push(word);
  }
  let piped: Value[] = [];
  for (const command of commands) {
    if (command.length === 0) throw new HelmTemplateError(`${where}: empty command in \`${action.trim()}\``);
    const [head, ...rest] = command as [string, ...string[]];
    if (FUNCTIONS.has(head)) {
      piped = [call(head, [...rest.map((word) => operand(word, context, where)), ...piped], where)];
    } else {
      if (rest.length > 0 || piped.length > 0) throw new HelmTemplateError(`${where}: \`${head}\` is not a function the simulated Helm knows`);
      piped = [operand(head, context, where)];
    }
  }
  return piped[0];
}

/** Render one template file. `file` names it in errors. */
export function renderTemplate(source: string, context: TemplateContext, file = 'template'): string {
  let out = '';
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      out += source.slice(at);
      break;
    }
    const close = source.indexOf('}}', open + 2);
    const where = `${file}:${source.slice(0, open).split('\n').length}`;
    if (close < 0) throw new HelmTemplateError(`${where}: unclosed action`);
    let literal = source.slice(at, open);
    let inner = source.slice(open + 2, close);
    if (inner.startsWith('-')) {
      literal = literal.trimEnd();
      inner = inner.slice(1);
    }
    let next = close + 2;
    if (inner.endsWith('-')) {
      inner = inner.slice(0, -1);
      while (next < source.length && /\s/.test(source[next]!)) next += 1;
    }
    out += literal;
    const trimmed = inner.trim();
    if (!(trimmed.startsWith('/*') && trimmed.endsWith('*/'))) {
      const keyword = /^([a-z]+)\b/.exec(trimmed)?.[1];
      if (keyword !== undefined && !FUNCTIONS.has(keyword)) throw new HelmTemplateError(`${where}: \`${keyword}\` is not supported (the simulated Helm knows .Values, .Release, .Chart, quote and default)`);
      out += text(evaluate(trimmed, context, where), where);
    }
    at = next;
  }
  return out;
}

/** Helm's values coalescing: maps merged key by key, anything else replaced by the later source. */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isMap(value) && isMap(base[key]) ? mergeValues(base[key], value) : structuredClone(value);
  }
  return out;
}
