import { describe, expect, it } from 'vitest';
import type { LabelMatcher } from './definition.js';
import { formatLabelMatcher, matchesAll, parseLabelMatcher } from './label-matchers.js';

describe('parseLabelMatcher', () => {
  it.each<[string, LabelMatcher]>([
    ['service="reviews"', { name: 'service', op: '=', value: 'reviews' }],
    ['severity=~"critical|page"', { name: 'severity', op: '=~', value: 'critical|page' }],
    ['env!="dev"', { name: 'env', op: '!=', value: 'dev' }],
    ['team!~"db.*"', { name: 'team', op: '!~', value: 'db.*' }],
    ['service=reviews', { name: 'service', op: '=', value: 'reviews' }],
    ['  service = "reviews"  ', { name: 'service', op: '=', value: 'reviews' }],
    ['msg="say \\"hi\\""', { name: 'msg', op: '=', value: 'say "hi"' }],
    ['path="a\\\\b"', { name: 'path', op: '=', value: 'a\\b' }],
    ['empty=""', { name: 'empty', op: '=', value: '' }],
    ['url="http://x/?a=b"', { name: 'url', op: '=', value: 'http://x/?a=b' }],
  ])('%s', (input, expected) => {
    expect(parseLabelMatcher(input)).toEqual({ ok: true, matcher: expected });
  });

  it.each<[string, RegExp]>([
    ['service', /no operator/],
    ['="x"', /not a valid label name/],
    ['1abc="x"', /not a valid label name/],
    ['a="unterminated', /not a well-formed string/],
    ['a="x"y"', /not a well-formed string/],
    ['a="bad \\q escape"', /not a well-formed string/],
    ['a=~"("', /not a valid regular expression/],
    ['a=x,b=y', /not a well-formed string/],
  ])('rejects %s', (input, message) => {
    const result = parseLabelMatcher(input);

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('round-trips through formatLabelMatcher', () => {
    const result = parseLabelMatcher('severity=~"critical|page"');

    expect(result.ok && formatLabelMatcher(result.matcher)).toBe('severity=~"critical|page"');
  });
});

function m(...inputs: string[]): LabelMatcher[] {
  return inputs.map((input) => {
    const result = parseLabelMatcher(input);
    if (!result.ok) throw new Error(result.message);
    return result.matcher;
  });
}

describe('matchesAll', () => {
  const alert = { service: 'reviews', severity: 'critical', namespace: 'bookinfo' };

  it.each<[string, LabelMatcher[], Record<string, string>, boolean]>([
    ['equal', m('service="reviews"'), alert, true],
    ['equal, other value', m('service="ratings"'), alert, false],
    ['regex alternation', m('severity=~"critical|page"'), alert, true],
    ['regex is anchored at the end', m('severity=~"crit"'), alert, false],
    ['regex is anchored at the start', m('severity=~"ritical"'), alert, false],
    ['anchoring wraps alternation', m('severity=~"page|crit"'), alert, false],
    ['not equal', m('service!="ratings"'), alert, true],
    ['not equal, same value', m('service!="reviews"'), alert, false],
    ['negative regex', m('severity!~"info|warning"'), alert, true],
    ['negative regex matching', m('severity!~"crit.*"'), alert, false],
    ['missing label equals empty', m('team=""'), alert, true],
    ['missing label with value', m('team="db"'), alert, false],
    ['missing label with !=', m('team!="db"'), alert, true],
    ['missing label with .* regex', m('team=~".*"'), alert, true],
    ['all must match', m('service="reviews"', 'severity="page"'), alert, false],
    ['all matching', m('service="reviews"', 'namespace=~"book.*"'), alert, true],
    ['empty list matches everything', [], alert, true],
  ])('%s', (_name, matchers, labels, expected) => {
    expect(matchesAll(matchers, labels)).toBe(expected);
  });
});
