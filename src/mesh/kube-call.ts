// Every Kubernetes API call goes through here: vendor errors become coded CanarybotErrors, and
// outages (5xx, 429, network) are retried a little before they surface as transient.

import { ApiException } from '@kubernetes/client-node';
import { CanarybotError, type ErrorCode } from '../core/errors.js';

export interface RetryPolicy {
  /** Tries in all for an outage (1 = no retry). */
  attempts: number;
  /** Wait before the first retry; doubles after each. */
  delayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, delayMs: 200 };

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 409) return 'K8S_CONFLICT';
  if (status === 404) return 'K8S_NOT_FOUND';
  if (status === 401 || status === 403) return 'K8S_FORBIDDEN';
  if (status === 429 || status >= 500) return 'K8S_UNAVAILABLE';
  return 'K8S_INVALID';
}

/** The HTTP status of a failed call, when the API server answered. */
export function httpStatus(error: unknown): number | undefined {
  return error instanceof CanarybotError && error.cause instanceof ApiException ? error.cause.code : undefined;
}

export function translateKubeError(what: string, error: unknown): CanarybotError {
  if (error instanceof CanarybotError) return error;
  if (error instanceof ApiException) {
    const code = codeFor(error.code);
    const detail = statusMessage(error.body) ?? `HTTP ${error.code}`;
    return new CanarybotError(code, `${what}: ${detail}`, { cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new CanarybotError('K8S_UNAVAILABLE', `${what}: ${reason}`, { cause: error });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function kubeCall<T>(what: string, retry: RetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (raw) {
      const error = translateKubeError(what, raw);
      if (error.code !== 'K8S_UNAVAILABLE' || attempt >= retry.attempts) throw error;
      await sleep(retry.delayMs * 2 ** (attempt - 1));
    }
  }
}
