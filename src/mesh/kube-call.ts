// Every Kubernetes API call goes through here: vendor errors become coded CanarybotErrors (5xx,
// 429 and network errors transient, 409 a transient conflict). No retry here: the engine retries the
// whole effect, with backoff, at one layer (core/decide/effect-retry.ts).

import { ApiException } from '@kubernetes/client-node';
import { CanarybotError, type ErrorCode } from '../core/errors.js';

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

/** One call; its failure comes back as a coded CanarybotError. */
export async function kubeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (raw) {
    throw translateKubeError(what, raw);
  }
}
