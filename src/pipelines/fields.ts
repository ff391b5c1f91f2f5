// Leaf schemas shared by the definition schema: durations, names, percentages. Each error message is
// one sentence that says what is expected and what was found.

import { z } from 'zod';
import { formatDuration, parseDuration } from '../core/duration.js';

/** How a value looks in a message: strings quoted, everything else as YAML would show it. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** A duration (`30s`, `5m`, `1h30m`, `500ms`) in milliseconds, at least `minMs`. */
export function duration(minMs = 1000) {
  return z.unknown().transform((value, ctx) => {
    const ms = typeof value === 'string' ? parseDuration(value) : null;
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 5m or 1h30m (got ${shown(value)})` });
      return z.NEVER;
    }
    if (ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `minimum ${formatDuration(minMs)} (got ${value as string})` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
  return z.unknown().transform((value, ctx) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      ctx.addIssue({ code: 'custom', message: `must be a number ${range} (got ${shown(value)})` });
      return z.NEVER;
    }
    if (value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `must be ${range} (got ${value})` });
      return z.NEVER;
    }
    if (!Number.isInteger(value)) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number (got ${value})` });
      return z.NEVER;
    }
    return value;
  });
}

/** A percentage of traffic: a whole number from 0 to 100. */
export const percentage = wholeNumber(0, 100);

export const text = z.string().min(1, 'must not be empty');

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name (DNS-1123 label). */
export const kubernetesName = z
  .string()
  .refine((name) => name.length <= 63 && DNS_LABEL.test(name), {
    error: (issue) =>
      `must be a Kubernetes name: lowercase letters, digits and "-", at most 63 characters (got ${shown(issue.input)})`,
  });

export const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: (issue) => `must be an http(s) URL (got ${shown(issue.input)})` },
);
