import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ClusterEntry {
  /** Context, cluster and user name. */
  name: string;
  server: string;
  /** PEM of the CA; empty for a plain-HTTP server. */
  caPem: string;
  token: string;
}

/** A kubeconfig with one context per entry (CA data and a bearer token inline). */
export function kubeconfigYaml(entries: ClusterEntry[], currentContext = entries[0]?.name ?? ''): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': currentContext,
    clusters: entries.map((entry) => ({
      name: entry.name,
      cluster: entry.caPem
        ? { server: entry.server, 'certificate-authority-data': Buffer.from(entry.caPem).toString('base64') }
        : // @kubernetes/client-node refuses http:// unless TLS verification is declared off.
          { server: entry.server, 'insecure-skip-tls-verify': true },
    })),
    users: entries.map((entry) => ({ name: entry.name, user: { token: entry.token } })),
    contexts: entries.map((entry) => ({ name: entry.name, context: { cluster: entry.name, user: entry.name } })),
  });
}

export function writeKubeconfig(dir: string, entries: ClusterEntry[], currentContext?: string): string {
  const path = join(dir, `kubeconfig-${entries.map((entry) => entry.name).join('-')}.yaml`);
  writeFileSync(path, kubeconfigYaml(entries, currentContext), { mode: 0o600 });
  return path;
}
