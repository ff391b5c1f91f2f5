import { readFileSync } from 'node:fs';
import type { Step } from '../core/definition.js';
import type { CheckResult, Measurement } from '../core/gate.js';
import type { Release } from '../core/release.js';

export type WebhookStep = Extract<Step, { kind: 'webhook' }>;

export interface WebhookGateOptions {
  /** Where `bearerEnv` names are looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  now?: () => number;
  /** Longest response body kept in the measurement message; default 500 characters. */
  maxBodyChars?: number;
}

/** The JSON a webhook gate receives: enough to decide about this release and step, nothing secret. */
export function webhookGatePayload(release: Release, step: WebhookStep): Record<string, unknown> {
  return {
    kind: 'canarybot.webhook-gate/v1',
    release: {
      id: release.id,
      service: release.service,
      namespace: release.namespace,
      cluster: release.cluster,
      image: release.image,
      sha: release.sha,
      ref: release.ref,
      state: release.state,
      attempt: release.attempt,
      weights: release.weights,
      pipeline: release.pipeline,
      mergeRequest: release.mr ? { projectId: release.mr.projectId, iid: release.mr.iid, url: release.mr.url ?? null } : null,
    },
    step: { index: release.stepIndex, name: step.name, url: step.url },
  };
}

/** POST the release and step to the step's URL: 2xx passes, any other status fails, no answer is an error. */
export async function callWebhookGate(release: Release, step: WebhookStep, options: WebhookGateOptions = {}): Promise<CheckResult> {
  const env = options.env ?? process.env;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const maxBodyChars = options.maxBodyChars ?? 500;
  const base = { name: `webhook:${step.name}`, threshold: 'HTTP 2xx', query: `POST ${redactUrl(step.url)}` };
  const done = (m: Measurement): CheckResult => ({ verdict: m.verdict, measurements: [m], at: now() });

  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/plain, */*' };
  if (step.bearerEnv) {
    const token = bearerToken(env, step.bearerEnv);
    if (!token) return done({ ...base, verdict: 'error', value: null, message: `environment variable ${step.bearerEnv} (bearer token) is not set, nor a readable ${step.bearerEnv}_FILE` });
    headers.authorization = `Bearer ${token}`;
  }

  let status: number;
  let body: string;
  try {
    const response = await doFetch(step.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(webhookGatePayload(release, step)),
      signal: AbortSignal.timeout(step.timeoutMs),
      redirect: 'manual',
    });
    status = response.status;
    body = await response.text();
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const why = timedOut ? `no answer within ${step.timeoutMs} ms` : describe(error);
    return done({ ...base, verdict: 'error', value: null, message: `webhook unreachable: ${why}` });
  }

  const shown = truncate(body.trim(), maxBodyChars);
  const ok = status >= 200 && status < 300;
  return done({
    ...base,
    verdict: ok ? 'pass' : 'fail',
    value: status,
    message: `HTTP ${status}${shown ? `: ${shown}` : ''}`,
  });
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** Query strings may carry tokens; the report shows only origin and path. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function describe(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The token named by `bearerEnv`: the variable itself, else the trimmed content of the file named by
 * `<NAME>_FILE` (a mounted Secret, read on each call so a rotated token is picked up).
 */
function bearerToken(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
