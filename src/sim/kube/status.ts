// Kubernetes `Status` bodies for failed requests, as the API server writes them.

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[] };
  code: number;
}

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusBody['details'],
  ) {
    super(message);
  }

  body(): StatusBody {
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) body.details = this.details;
    return body;
  }
}

export interface ResourceRef {
  group: string;
  plural: string;
  name: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

export const notFound = (ref: ResourceRef): KubeError =>
  new KubeError(404, 'NotFound', `${qualified(ref)} "${ref.name}" not found`, { name: ref.name, group: ref.group, kind: ref.plural });

export const noRoute = (): KubeError => new KubeError(404, 'NotFound', 'the server could not find the requested resource');

export const conflict = (ref: ResourceRef): KubeError =>
  new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(ref)} "${ref.name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name: ref.name, group: ref.group, kind: ref.plural },
  );

export const alreadyExists = (ref: ResourceRef): KubeError =>
  new KubeError(409, 'AlreadyExists', `${qualified(ref)} "${ref.name}" already exists`, { name: ref.name, group: ref.group, kind: ref.plural });

export const invalid = (ref: ResourceRef, kind: string, causes: { message: string; field?: string }[]): KubeError =>
  new KubeError(
    422,
    'Invalid',
    `${kind}.${ref.group} "${ref.name}" is invalid: ${causes.map((cause) => (cause.field ? `${cause.field}: ${cause.message}` : cause.message)).join(', ')}`,
    { name: ref.name, group: ref.group, kind, causes: causes.map((cause) => ({ reason: 'FieldValueInvalid', ...cause })) },
  );

export const unsupportedMediaType = (contentType: string): KubeError =>
  new KubeError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
  );
