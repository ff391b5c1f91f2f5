// zod issues as one sentence each, in the voice of the rest of the definition errors.

import type { z } from 'zod';
import { shown } from './fields.js';

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

export function issueMessage(issue: z.core.$ZodIssue): string {
  // Messages written in our schemas start in lower case; zod's own defaults start in upper case.
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${shown(issue.input)})`;
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${shown(issue.values[0])} (got ${shown(issue.input)})`;
      return `must be one of ${issue.values.map((value) => shown(value)).join(', ')} (got ${shown(issue.input)})`;
    case 'too_small':
      if (issue.origin === 'array') return issue.minimum === 1 ? 'must not be empty' : `needs at least ${issue.minimum} items`;
      return issue.message;
    case 'unrecognized_keys':
      return `unknown field "${issue.keys[0]}"`;
    default:
      return issue.message;
  }
}
