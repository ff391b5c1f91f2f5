import type { StringMatch, TrafficMatch } from '../core/definition.js';
import { CanarybotError } from '../core/errors.js';

/** Cookies in one block must all be present in any order; RE2 has no look-ahead, so orders are spelled out. */
const MAX_COOKIES_PER_BLOCK = 4;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** A regex on the `cookie` header (Envoy matches the whole value) that holds when every cookie is set to its value. */
export function cookieRegex(cookies: Record<string, string>): string {
  const pairs = Object.entries(cookies)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${escapeRegex(name)}=${escapeRegex(value)}`);
  if (pairs.length > MAX_COOKIES_PER_BLOCK) {
    throw new CanarybotError('PREFLIGHT_FAILED', `an A/B match block may name at most ${MAX_COOKIES_PER_BLOCK} cookies`);
  }
  const orders = permutations(pairs).map((order) => order.join(';\\s*(.*;\\s*)?'));
  const body = orders.length === 1 ? orders[0] : `(${orders.join('|')})`;
  return `^(.*;\\s*)?${body}(;.*)?$`;
}

/** One definition match block as the Istio HTTPMatchRequest fields it adds. */
export function istioConditions(block: TrafficMatch): Record<string, unknown> {
  const headers: Record<string, StringMatch> = { ...block.headers };
  if (block.cookies && Object.keys(block.cookies).length > 0) {
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'cookie')) {
      throw new CanarybotError('PREFLIGHT_FAILED', 'an A/B match block may not set both cookies and a cookie header');
    }
    headers.cookie = { regex: cookieRegex(block.cookies) };
  }
  const conditions: Record<string, unknown> = {};
  if (Object.keys(headers).length > 0) conditions.headers = headers;
  if (block.queryParams && Object.keys(block.queryParams).length > 0) conditions.queryParams = { ...block.queryParams };
  return conditions;
}

type MatchMap = Record<string, unknown>;

function mergeMap(routeName: string, field: string, own: unknown, added: unknown): MatchMap | undefined {
  if (added === undefined) return own as MatchMap | undefined;
  const merged: MatchMap = { ...(own as MatchMap | undefined) };
  for (const [key, value] of Object.entries(added as MatchMap)) {
    if (key in merged && JSON.stringify(merged[key]) !== JSON.stringify(value)) {
      throw new CanarybotError(
        'PREFLIGHT_FAILED',
        `A/B match ${field}.${key} conflicts with the match of http route ${routeName}; use a different ${field === 'headers' ? 'header' : 'query parameter'}`,
      );
    }
    merged[key] = value;
  }
  return merged;
}

/**
 * Requests must match both the managed route's own match (else the extra route would steal traffic
 * meant for later routes) and one of the canary blocks: the cross product, each pair merged.
 */
export function combineMatches(
  routeName: string,
  own: Record<string, unknown>[] | undefined,
  blocks: Record<string, unknown>[],
): Record<string, unknown>[] {
  const bases = own && own.length > 0 ? own : [{}];
  return bases.flatMap((base) =>
    blocks.map((block) => {
      const merged: Record<string, unknown> = { ...base };
      for (const field of ['headers', 'queryParams'] as const) {
        const value = mergeMap(routeName, field, base[field], block[field]);
        if (value !== undefined) merged[field] = value;
      }
      return merged;
    }),
  );
}
