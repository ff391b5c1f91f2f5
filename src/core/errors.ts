// One registry of coded errors. `transient` errors are retried (an outage of theirs); terminal ones
// fail the step. Code, never message text, decides.

export const ERROR_CODES = {
  K8S_UNAVAILABLE: { transient: true, summary: 'Kubernetes API unavailable' },
  K8S_CONFLICT: { transient: true, summary: 'Kubernetes write conflict persisted after retries' },
  K8S_NOT_FOUND: { transient: false, summary: 'Kubernetes object not found' },
  K8S_INVALID: { transient: false, summary: 'Kubernetes refused the object' },
  K8S_FORBIDDEN: { transient: false, summary: 'Kubernetes refused the request (RBAC)' },
  PREFLIGHT_FAILED: { transient: false, summary: 'pre-flight check failed' },
  TENANT_REFUSED: { transient: false, summary: 'namespace not allowed for this project' },
  ROLLOUT_FAILED: { transient: false, summary: 'Deployment rollout failed' },
  UNKNOWN_CLUSTER: { transient: false, summary: 'no such kubeconfig context' },
  GITLAB_UNAVAILABLE: { transient: true, summary: 'GitLab API unavailable' },
  GITLAB_REFUSED: { transient: false, summary: 'GitLab refused the request' },
  GITOPS_RACE: { transient: true, summary: 'the config repository branch moved while canarybot wrote to it' },
  GITOPS_DRIFT: { transient: false, summary: 'the config repository does not hold what the cluster runs' },
  GITOPS_REFUSED: { transient: false, summary: 'the GitOps configuration or the config repository is not usable' },
  METRICS_UNAVAILABLE: { transient: true, summary: 'metrics provider unavailable' },
  CHAT_UNAVAILABLE: { transient: true, summary: 'chat service unavailable' },
  STORE_CONFLICT: { transient: true, summary: 'release record changed concurrently' },
  INTERNAL: { transient: false, summary: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class CanarybotError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CanarybotError';
    this.code = code;
    this.transient = ERROR_CODES[code].transient;
  }
}

export function isTransient(error: unknown): boolean {
  return error instanceof CanarybotError && error.transient;
}
