// Validation and defaults of core/v1 Services as the API server applies them
// (https://kubernetes.io/docs/concepts/services-networking/service/#multi-port-services and the
// ServicePort API reference): ports 1–65535, every port named when there are several, names unique
// DNS labels; `protocol` defaults to TCP and `targetPort` to `port`.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface PortLike {
  name?: unknown;
  port?: unknown;
  protocol?: unknown;
  targetPort?: unknown;
  appProtocol?: unknown;
}

export function validateService(object: { spec?: unknown }): { field: string; message: string }[] {
  const spec = (object.spec ?? {}) as { ports?: PortLike[]; type?: unknown };
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const causes: { field: string; message: string }[] = [];
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    if (typeof port.port !== 'number' || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
      causes.push({ field: `${field}.port`, message: `Invalid value: ${JSON.stringify(port.port)}: must be between 1 and 65535, inclusive` });
    }
    if (port.name === undefined || port.name === '') {
      if (ports.length > 1) causes.push({ field: `${field}.name`, message: 'Required value' });
    } else if (typeof port.name !== 'string' || port.name.length > 63 || !DNS_LABEL.test(port.name)) {
      causes.push({ field: `${field}.name`, message: `Invalid value: ${JSON.stringify(port.name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
    } else if (seen.has(port.name)) {
      causes.push({ field: `${field}.name`, message: `Duplicate value: ${JSON.stringify(port.name)}` });
    } else seen.add(port.name);
    if (port.appProtocol !== undefined && typeof port.appProtocol !== 'string') {
      causes.push({ field: `${field}.appProtocol`, message: 'Invalid value: must be a string' });
    }
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port;
  });
  spec.type ??= 'ClusterIP';
  return causes;
}
