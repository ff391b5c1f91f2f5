import { describe, expect, it } from 'vitest';
import { environmentNameProblems, isGitLabEnvironmentName, renderEnvironmentName } from './environment-name.js';

const values = { cluster: 'eu-west', namespace: 'payments-prod', service: 'reviews' };

describe('renderEnvironmentName', () => {
  it.each([
    ['no placeholder', 'production', 'production'],
    ['the cluster', 'production/{{ cluster }}', 'production/eu-west'],
    ['every placeholder, with and without spaces', '{{cluster}}/{{ namespace }}/{{  service  }}', 'eu-west/payments-prod/reviews'],
    ['twice', '{{ service }}-{{ service }}', 'reviews-reviews'],
    ["GitLab's own variables stay", 'review/$CI_COMMIT_REF_SLUG', 'review/$CI_COMMIT_REF_SLUG'],
  ])('%s', (_case, template, expected) => {
    expect(renderEnvironmentName(template, values)).toBe(expected);
  });
});

describe('environmentNameProblems', () => {
  it.each<[string, string, string[]]>([
    ['known placeholders', 'production/{{ cluster }}/{{ namespace }}', []],
    ['none', 'production', []],
    ['an unknown one', 'production/{{ region }}', ['unknown placeholder {{ region }} (known: {{ cluster }}, {{ namespace }}, {{ service }})']],
    ['an unclosed one', 'production/{{ cluster', ['a "{{" is never closed with "}}"']],
  ])('%s', (_case, template, expected) => {
    expect(environmentNameProblems(template)).toEqual(expected);
  });
});

describe('isGitLabEnvironmentName', () => {
  it.each([
    ['production', true],
    ['review apps/eu', true],
    ['x'.repeat(255), true],
    ['x'.repeat(256), false],
    ['', false],
    ['/production', false],
    ['production/', false],
    ['arn:aws:eks:eu-west-1:1:cluster/prod', false],
  ])('%s → %s', (name, expected) => {
    expect(isGitLabEnvironmentName(name)).toBe(expected);
  });
});
