import type { Release } from '../core/release.js';

export type ServiceResolution =
  | { kind: 'found'; release: Release }
  | { kind: 'ambiguous'; choices: string[] }
  | { kind: 'unknown' };

/**
 * Finds the release a chat command names: `reviews`, `bookinfo/reviews` or
 * `cluster/bookinfo/reviews`, among `candidates` (newest first). When the name matches releases of
 * more than one (cluster, namespace, service), the caller must qualify it; `choices` are the
 * shortest qualified names that tell them apart.
 */
export function resolveService(query: string, candidates: readonly Release[]): ServiceResolution {
  const parts = query.trim().split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) return { kind: 'unknown' };
  const [service, namespace, cluster] = [...parts].reverse();
  const matches = candidates.filter(
    (r) => r.service === service && (namespace === undefined || r.namespace === namespace) && (cluster === undefined || r.cluster === cluster),
  );
  const byKey = new Map<string, Release>();
  for (const release of matches) if (!byKey.has(releaseKey(release))) byKey.set(releaseKey(release), release);
  const distinct = [...byKey.values()];
  if (distinct.length === 0) return { kind: 'unknown' };
  if (distinct.length === 1) return { kind: 'found', release: distinct[0]! };
  const sameCluster = new Set(distinct.map((r) => r.cluster)).size === 1;
  const choices = distinct.map((r) => (sameCluster ? `${r.namespace}/${r.service}` : qualifiedName(r)));
  return { kind: 'ambiguous', choices: [...new Set(choices)].sort() };
}

/** `cluster/namespace/service`: names a release target unambiguously. */
export function qualifiedName(release: Pick<Release, 'cluster' | 'namespace' | 'service'>): string {
  return `${release.cluster}/${release.namespace}/${release.service}`;
}

function releaseKey(release: Release): string {
  return qualifiedName(release);
}

/** The newest release of each (cluster, namespace, service); `releases` must be newest first. */
export function latestPerTarget(releases: readonly Release[]): Release[] {
  const seen = new Set<string>();
  const latest: Release[] = [];
  for (const release of releases) {
    if (seen.has(releaseKey(release))) continue;
    seen.add(releaseKey(release));
    latest.push(release);
  }
  return latest;
}
