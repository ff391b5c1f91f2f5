// Alertmanager label matchers (`service="reviews"`, `severity=~"critical|page"`, `env!=dev`): parsing
// and matching. Regexes are anchored the way Alertmanager anchors them: ^(?:re)$.

import type { LabelMatcher, MatcherOp } from './definition.js';

export type MatcherParseResult = { ok: true; matcher: LabelMatcher } | { ok: false; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Longest operators first so `!=` is not read as `!` plus `=`, nor `=~` as `=`.
const OPERATORS: MatcherOp[] = ['=~', '!~', '!=', '='];

/** Parse one matcher; the message says what is wrong in one sentence. */
export function parseLabelMatcher(input: string): MatcherParseResult {
  const text = input.trim();
  const opAt = text.search(/!=|!~|=~|=/);
  if (opAt < 0) return fail(`"${input}" has no operator (use =, !=, =~ or !~)`);
  const name = text.slice(0, opAt).trim();
  const op = OPERATORS.find((candidate) => text.startsWith(candidate, opAt));
  if (!op) return fail(`"${input}" has no operator (use =, !=, =~ or !~)`);
  if (!NAME.test(name)) return fail(`"${name}" is not a valid label name`);
  const value = parseValue(text.slice(opAt + op.length).trim());
  if (value === null) return fail(`the value of "${input}" is not a well-formed string`);
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(anchored(value));
    } catch {
      return fail(`"${value}" is not a valid regular expression`);
    }
  }
  return { ok: true, matcher: { name, op, value } };
}

function fail(message: string): MatcherParseResult {
  return { ok: false, message };
}

/** A double-quoted string with \" \\ \n escapes, or a bare word without quotes, commas or braces. */
function parseValue(raw: string): string | null {
  if (!raw.startsWith('"')) return /["{},]/.test(raw) ? null : raw;
  if (raw.length < 2 || !raw.endsWith('"')) return null;
  let out = '';
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '"') return null;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === 'n') out += '\n';
    else if (next === '"' || next === '\\') out += next;
    else return null;
  }
  return out;
}

function anchored(pattern: string): string {
  return `^(?:${pattern})$`;
}

const compiled = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(anchored(pattern));
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether one matcher holds; a missing label is the empty string, as in Alertmanager. */
export function matches(matcher: LabelMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return regex(matcher.value).test(value);
    case '!~':
      return !regex(matcher.value).test(value);
  }
}

/** Whether every matcher holds (an empty list matches everything). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => matches(matcher, labels));
}

/** The canonical text of a matcher: `severity=~"critical|page"`. */
export function formatLabelMatcher(matcher: LabelMatcher): string {
  return `${matcher.name}${matcher.op}${JSON.stringify(matcher.value)}`;
}
