// A subset of Go's text/template with the Sprig/Helm functions our chart uses, so tests can render
// charts/canarybot, and the simulated Argo CD and Flux the config repository's charts, without a
// Helm binary (none is installable here). It follows text/template's
// documented semantics: `{{-`/`-}}` trim whitespace, pipelines pass the previous result as the last
// argument, range over a map walks its keys in sorted order, if/with treat false, 0, nil and empty
// values as false, variables are scoped to their block. Anything outside the subset is an error,
// never a guess: a new function in a template fails the test until it is added here.

import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;
type Fn = (...args: Value[]) => Value;

interface Field { kind: 'field'; base: string; path: string[] } // base '.' | '$' | '$name'
interface Literal { kind: 'literal'; value: Value }
interface Ident { kind: 'ident'; name: string }
interface SubPipe { kind: 'pipe'; pipe: Pipeline }
type Operand = Field | Literal | Ident | SubPipe;
interface Command { args: Operand[] }
interface Pipeline { decl?: { names: string[]; assign: boolean }; cmds: Command[] }

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; branches: Array<{ pipe: Pipeline; body: Node[] }>; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'template'; name: string; pipe?: Pipeline };

export class TemplateError extends Error {}

// ---- lexing the file into text and actions ----------------------------------------------------

interface RawToken { text?: string; action?: string; line: number }

function splitActions(source: string): RawToken[] {
  const tokens: RawToken[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      tokens.push({ text: source.slice(at), line: lineOf(source, at) });
      break;
    }
    let text = source.slice(at, open);
    let inner = open + 2;
    if (source.startsWith('- ', inner) || source.startsWith('-\n', inner) || source.startsWith('-\t', inner)) {
      text = text.replace(/\s+$/, '');
      inner += 1;
    }
    tokens.push({ text, line: lineOf(source, at) });
    const close = findClose(source, inner);
    if (close < 0) throw new TemplateError(`line ${lineOf(source, open)}: unclosed action`);
    let body = source.slice(inner, close);
    at = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      while (at < source.length && /\s/.test(source[at]!)) at += 1;
    }
    tokens.push({ action: body.trim(), line: lineOf(source, open) });
  }
  return tokens;
}

function findClose(source: string, from: number): number {
  let at = from;
  let quote: string | undefined;
  while (at < source.length) {
    const char = source[at]!;
    if (quote) {
      if (char === '\\' && quote === '"') at += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === '`') quote = char;
    else if (source.startsWith('}}', at)) return at;
    at += 1;
  }
  return -1;
}

const lineOf = (source: string, index: number): number => source.slice(0, index).split('\n').length;

// ---- lexing and parsing one action --------------------------------------------------------------

type Tok = { t: 'str' | 'num' | 'ident' | 'field' | 'var' | 'sym'; v: string };

function tokenize(action: string): Tok[] {
  const toks: Tok[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|(:=|[|(),=])|(\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(\.(?:[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)?)|([A-Za-z_][A-Za-z0-9_]*))/y;
  let at = 0;
  while (at < action.length) {
    if (/^\s*$/.test(action.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(action);
    if (!m) throw new TemplateError(`cannot read ${JSON.stringify(action.slice(at))}`);
    at = re.lastIndex;
    if (m[1]) toks.push({ t: 'str', v: JSON.parse(m[1]) as string });
    else if (m[2]) toks.push({ t: 'str', v: m[2].slice(1, -1) });
    else if (m[3]) toks.push({ t: 'num', v: m[3] });
    else if (m[4]) toks.push({ t: 'sym', v: m[4] });
    else if (m[5]) toks.push({ t: 'var', v: m[5] });
    else if (m[6]) toks.push({ t: 'field', v: m[6] });
    else if (m[7]) toks.push({ t: 'ident', v: m[7] });
  }
  return toks;
}

function parsePipeline(toks: Tok[], start = 0, stopAt?: string): { pipe: Pipeline; end: number } {
  let at = start;
  const pipe: Pipeline = { cmds: [] };
  // `$a := …`, `$a, $b := …`, `$a = …`
  const declEnd = toks.findIndex((tok, i) => i >= start && tok.t === 'sym' && (tok.v === ':=' || tok.v === '='));
  if (declEnd > start && toks.slice(start, declEnd).every((tok) => tok.t === 'var' || (tok.t === 'sym' && tok.v === ','))) {
    pipe.decl = { names: toks.slice(start, declEnd).filter((tok) => tok.t === 'var').map((tok) => tok.v), assign: toks[declEnd]!.v === '=' };
    at = declEnd + 1;
  }
  let cmd: Command = { args: [] };
  while (at < toks.length) {
    const tok = toks[at]!;
    if (tok.t === 'sym' && tok.v === stopAt) break;
    if (tok.t === 'sym' && tok.v === '|') {
      pipe.cmds.push(cmd);
      cmd = { args: [] };
      at += 1;
      continue;
    }
    if (tok.t === 'sym' && tok.v === '(') {
      const inner = parsePipeline(toks, at + 1, ')');
      cmd.args.push({ kind: 'pipe', pipe: inner.pipe });
      at = inner.end + 1;
      continue;
    }
    cmd.args.push(operand(tok));
    at += 1;
  }
  if (cmd.args.length > 0) pipe.cmds.push(cmd);
  if (pipe.cmds.length === 0) throw new TemplateError('missing value in pipeline');
  return { pipe, end: at };
}

function operand(tok: Tok): Operand {
  switch (tok.t) {
    case 'str':
      return { kind: 'literal', value: tok.v };
    case 'num':
      return { kind: 'literal', value: Number(tok.v) };
    case 'ident':
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
      if (tok.v === 'nil') return { kind: 'literal', value: undefined };
      return { kind: 'ident', name: tok.v };
    case 'field':
      return { kind: 'field', base: '.', path: tok.v.split('.').filter(Boolean) };
    case 'var': {
      const [base, ...path] = tok.v.split('.');
      return { kind: 'field', base: base!, path };
    }
    default:
      throw new TemplateError(`unexpected ${JSON.stringify(tok.v)}`);
  }
}

// ---- parsing the node tree ------------------------------------------------------------------------

interface Parsed { nodes: Node[]; defines: Map<string, Node[]> }

export function parseTemplate(source: string, name: string): Parsed {
  const tokens = splitActions(source);
  const defines = new Map<string, Node[]>();
  let at = 0;

  function block(terminators: string[]): { nodes: Node[]; ended: string; rest: string } {
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const token = tokens[at++]!;
      if (token.text !== undefined) {
        if (token.text !== '') nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.action!;
      const where = `${name}:${token.line}`;
      try {
        if (action.startsWith('/*')) continue;
        const [keyword = '', rest = ''] = splitKeyword(action);
        if (terminators.includes(keyword)) return { nodes, ended: keyword, rest };
        if (keyword === 'if' || keyword === 'with') nodes.push(conditional(keyword, rest));
        else if (keyword === 'range') nodes.push(rangeNode(rest));
        else if (keyword === 'define') {
          const defName = JSON.parse(rest) as string;
          const body = block(['end']);
          defines.set(defName, body.nodes);
        } else if (keyword === 'template') {
          const toks = tokenize(rest);
          const templateName = toks[0]?.t === 'str' ? toks[0].v : undefined;
          if (!templateName) throw new TemplateError('template needs a quoted name');
          nodes.push({ kind: 'template', name: templateName, pipe: toks.length > 1 ? parsePipeline(toks, 1).pipe : undefined });
        } else if (['end', 'else', 'break', 'continue', 'block'].includes(keyword)) {
          throw new TemplateError(`unexpected {{${keyword}}}`);
        } else nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(action)).pipe });
      } catch (error) {
        if (error instanceof TemplateError && !error.message.startsWith(name)) throw new TemplateError(`${where}: ${error.message}`);
        throw error;
      }
    }
    if (terminators.length > 0) throw new TemplateError(`${name}: missing {{end}}`);
    return { nodes, ended: '', rest: '' };
  }

  function conditional(kind: 'if' | 'with', first: string): Node {
    const branches: Array<{ pipe: Pipeline; body: Node[] }> = [];
    let condition = first;
    for (;;) {
      const body = block(['else', 'end']);
      branches.push({ pipe: parsePipeline(tokenize(condition)).pipe, body: body.nodes });
      if (body.ended === 'end') return { kind, branches, otherwise: [] };
      const [nextKeyword = '', nextRest = ''] = splitKeyword(body.rest);
      if (nextKeyword === kind) {
        condition = nextRest;
        continue;
      }
      const otherwise = block(['end']);
      return { kind, branches, otherwise: otherwise.nodes };
    }
  }

  function rangeNode(rest: string): Node {
    const body = block(['else', 'end']);
    const otherwise = body.ended === 'else' ? block(['end']).nodes : [];
    return { kind: 'range', pipe: parsePipeline(tokenize(rest)).pipe, body: body.nodes, otherwise };
  }

  const top = block([]);
  return { nodes: top.nodes, defines };
}

function splitKeyword(action: string): [string, string] {
  const m = /^([a-z]+)\b\s*([\s\S]*)$/.exec(action);
  return m ? [m[1]!, m[2]!] : ['', action];
}

// ---- evaluation -----------------------------------------------------------------------------------

export function isEmpty(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function print(value: Value): string {
  if (value === undefined || value === null) return ''; // Helm turns "<no value>" into ""
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`cannot print ${Array.isArray(value) ? 'a list' : 'a map'} (use toYaml)`);
}

type Scope = Map<string, Value>;

export class TemplateSet {
  private readonly defines = new Map<string, Node[]>();
  private readonly functions: Record<string, Fn>;

  constructor(extraFunctions: Record<string, Fn> = {}) {
    this.functions = { ...builtins(), include: (name, data) => this.execute(String(name), data), ...extraFunctions };
  }

  /** Adds a file: its defines, and the file itself as a template named by its path (as Helm does). */
  add(name: string, source: string): void {
    const parsed = parseTemplate(source, name);
    for (const [defName, body] of parsed.defines) this.defines.set(defName, body);
    this.defines.set(name, parsed.nodes);
  }

  execute(name: string, data: Value): string {
    const nodes = this.defines.get(name);
    if (!nodes) throw new TemplateError(`no template "${name}"`);
    return this.run(nodes, data, new Map([['$', data]]));
  }

  private run(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const node of nodes) out += this.runNode(node, dot, scope);
    return out;
  }

  private runNode(node: Node, dot: Value, scope: Scope): string {
    switch (node.kind) {
      case 'text':
        return node.text;
      case 'action': {
        const value = this.pipeline(node.pipe, dot, scope);
        return node.pipe.decl ? '' : print(value);
      }
      case 'template':
        return this.execute(node.name, node.pipe ? this.pipeline(node.pipe, dot, scope) : undefined);
      case 'if':
      case 'with':
        for (const branch of node.branches) {
          const inner = new Map(scope);
          const value = this.pipeline(branch.pipe, dot, inner);
          if (!isEmpty(value)) return this.run(branch.body, node.kind === 'with' ? value : dot, inner);
        }
        return this.run(node.otherwise, dot, new Map(scope));
      case 'range':
        return this.range(node, dot, scope);
    }
  }

  private range(node: Extract<Node, { kind: 'range' }>, dot: Value, scope: Scope): string {
    const collection = this.pipeline({ cmds: node.pipe.cmds }, dot, scope);
    const entries: Array<[Value, Value]> = Array.isArray(collection)
      ? collection.map((item, index) => [index, item])
      : collection && typeof collection === 'object'
        ? Object.keys(collection).sort().map((key) => [key, (collection as Record<string, Value>)[key]])
        : typeof collection === 'number'
          ? Array.from({ length: collection }, (_, index) => [index, index])
          : collection === undefined || collection === null
            ? []
            : (() => { throw new TemplateError(`range can't iterate over ${String(collection)}`); })();
    if (entries.length === 0) return this.run(node.otherwise, dot, new Map(scope));
    let out = '';
    for (const [key, item] of entries) {
      const inner = new Map(scope);
      const names = node.pipe.decl?.names ?? [];
      if (names.length === 1) inner.set(names[0]!, item);
      if (names.length === 2) {
        inner.set(names[0]!, key);
        inner.set(names[1]!, item);
      }
      out += this.run(node.body, item, inner);
    }
    return out;
  }

  private pipeline(pipe: Pipeline, dot: Value, scope: Scope): Value {
    let result: Value;
    pipe.cmds.forEach((cmd, index) => {
      result = this.command(cmd, dot, scope, index === 0 ? [] : [result]);
    });
    if (pipe.decl) {
      const name = pipe.decl.names[0]!;
      if (pipe.decl.assign && !scope.has(name)) throw new TemplateError(`undefined variable: ${name}`);
      scope.set(name, result);
    }
    return result;
  }

  private command(cmd: Command, dot: Value, scope: Scope, piped: Value[]): Value {
    const [head, ...rest] = cmd.args;
    if (!head) throw new TemplateError('empty command');
    if (head.kind === 'ident') {
      const fn = this.functions[head.name];
      if (!fn) throw new TemplateError(`function "${head.name}" not defined (add it to test/support/helm/go-template.ts)`);
      return fn(...rest.map((arg) => this.operand(arg, dot, scope)), ...piped);
    }
    const value = this.operand(head, dot, scope);
    if (typeof value === 'function') return (value as Fn)(...rest.map((arg) => this.operand(arg, dot, scope)), ...piped);
    if (rest.length > 0 || piped.length > 0) throw new TemplateError(`can't give arguments to a non-function`);
    return value;
  }

  private operand(arg: Operand, dot: Value, scope: Scope): Value {
    switch (arg.kind) {
      case 'literal':
        return arg.value;
      case 'pipe':
        return this.pipeline(arg.pipe, dot, new Map(scope));
      case 'ident': {
        const fn = this.functions[arg.name];
        if (!fn) throw new TemplateError(`function "${arg.name}" not defined`);
        return fn();
      }
      case 'field': {
        let value: Value;
        if (arg.base === '.') value = dot;
        else if (scope.has(arg.base)) value = scope.get(arg.base);
        else throw new TemplateError(`undefined variable: ${arg.base}`);
        let walked = arg.base === '.' ? '' : arg.base;
        for (const key of arg.path) {
          if (value === undefined || value === null) throw new TemplateError(`nil pointer evaluating interface {}.${key} (at ${walked || '.'})`);
          value = typeof value === 'object' ? (value as Record<string, Value>)[key] : undefined;
          walked += `.${key}`;
        }
        return value;
      }
    }
  }
}

// ---- the Sprig and Helm functions the chart uses ------------------------------------------------

function indent(spaces: Value, text: Value): string {
  const pad = ' '.repeat(Number(spaces));
  return pad + print(text).replace(/\n/g, `\n${pad}`);
}

function toYaml(value: Value): string {
  if (value === undefined || value === null) return 'null';
  // Helm marshals through JSON (sigs.k8s.io/yaml): map keys sorted, no trailing newline.
  return stringify(sortKeys(value), { lineWidth: 0 }).replace(/\n$/, '');
}

function sortKeys(value: Value): Value {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, Value>)[key])]));
  }
  return value;
}

function sprintf(format: Value, ...args: Value[]): string {
  let index = 0;
  return String(format).replace(/%([sdvq%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[index++];
    if (verb === 'q') return JSON.stringify(print(arg));
    if (verb === 'd') return String(Math.trunc(Number(arg)));
    return print(arg);
  });
}

function builtins(): Record<string, Fn> {
  const equal = (a: Value, b: Value): boolean => a === b || (a == null && b == null);
  return {
    toYaml,
    toJson: (value) => JSON.stringify(value ?? null),
    indent,
    nindent: (spaces, text) => `\n${indent(spaces, text)}`,
    quote: (...values) => values.filter((v) => v !== undefined && v !== null).map((v) => JSON.stringify(print(v))).join(' '),
    squote: (...values) => values.filter((v) => v !== undefined && v !== null).map((v) => `'${print(v)}'`).join(' '),
    default: (fallback, ...given) => (given.length === 0 || isEmpty(given[0]) ? fallback : given[0]),
    required: (message, value) => {
      if (value === undefined || value === null || value === '') throw new TemplateError(`execution error: ${String(message)}`);
      return value;
    },
    fail: (message) => {
      throw new TemplateError(`execution error: ${String(message)}`);
    },
    empty: isEmpty,
    not: (value) => isEmpty(value),
    and: (...values) => values.find((v) => isEmpty(v)) ?? values[values.length - 1],
    or: (...values) => values.find((v) => !isEmpty(v)) ?? values[values.length - 1],
    eq: (first, ...others) => others.some((other) => equal(first, other)),
    ne: (a, b) => !equal(a, b),
    lt: (a, b) => Number(a) < Number(b),
    le: (a, b) => Number(a) <= Number(b),
    gt: (a, b) => Number(a) > Number(b),
    ge: (a, b) => Number(a) >= Number(b),
    int: (value) => Math.trunc(Number(value ?? 0)),
    len: (value) => (typeof value === 'string' || Array.isArray(value) ? value.length : Object.keys(value ?? {}).length),
    dict: (...pairs) => {
      const out: Record<string, Value> = {};
      for (let i = 0; i < pairs.length; i += 2) out[String(pairs[i])] = pairs[i + 1];
      return out;
    },
    list: (...items) => items,
    keys: (...maps) => maps.flatMap((map) => Object.keys((map as object | undefined) ?? {})),
    sortAlpha: (items) => [...(items as Value[])].map(String).sort(),
    hasKey: (map, key) => Object.prototype.hasOwnProperty.call(map ?? {}, String(key)),
    ternary: (whenTrue, whenFalse, condition) => (condition ? whenTrue : whenFalse),
    print: (...values) => values.map((v, i) => (i > 0 && typeof v !== 'string' && typeof values[i - 1] !== 'string' ? ' ' : '') + print(v)).join(''),
    printf: sprintf,
    trunc: (length, text) => {
      const s = print(text);
      const n = Number(length);
      return n >= 0 ? s.slice(0, n) : s.slice(n);
    },
    trimSuffix: (suffix, text) => (print(text).endsWith(print(suffix)) ? print(text).slice(0, -print(suffix).length || undefined) : print(text)),
    trimPrefix: (prefix, text) => (print(text).startsWith(print(prefix)) ? print(text).slice(print(prefix).length) : print(text)),
    trim: (text) => print(text).trim(),
    contains: (needle, haystack) => print(haystack).includes(print(needle)),
    hasPrefix: (prefix, text) => print(text).startsWith(print(prefix)),
    replace: (from, to, text) => print(text).split(print(from)).join(print(to)),
    lower: (text) => print(text).toLowerCase(),
    upper: (text) => print(text).toUpperCase(),
    sha256sum: (text) => createHash('sha256').update(print(text)).digest('hex'),
    b64enc: (text) => Buffer.from(print(text)).toString('base64'),
  };
}
