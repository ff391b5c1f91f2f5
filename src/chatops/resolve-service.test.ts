import { describe, expect, it } from 'vitest';
import { definitionFixture, releaseFixture } from '../../test/chatops/release-fixture.js';
import type { Release } from '../core/release.js';
import { latestPerTarget, resolveService } from './resolve-service.js';

function at(cluster: string, namespace: string, service = 'reviews', id = `${cluster}-${namespace}-${service}`): Release {
  const definition = definitionFixture({ name: service });
  return releaseFixture({ id, definition, service, namespace, cluster });
}

const single = [at('default', 'bookinfo'), at('default', 'bookinfo', 'ratings')];
const twoNamespaces = [at('default', 'bookinfo'), at('default', 'staging')];
const twoClusters = [at('east', 'bookinfo'), at('west', 'bookinfo')];

describe('resolveService', () => {
  it.each([
    ['bare name, one target', 'reviews', single, { kind: 'found', id: 'default-bookinfo-reviews' }],
    ['namespace-qualified', 'bookinfo/reviews', single, { kind: 'found', id: 'default-bookinfo-reviews' }],
    ['fully qualified', 'default/bookinfo/reviews', single, { kind: 'found', id: 'default-bookinfo-reviews' }],
    ['unknown service', 'details', single, { kind: 'unknown' }],
    ['wrong namespace', 'staging/reviews', single, { kind: 'unknown' }],
    ['wrong cluster', 'east/bookinfo/reviews', single, { kind: 'unknown' }],
    ['too many parts', 'a/b/c/reviews', single, { kind: 'unknown' }],
    ['empty part', '/reviews', single, { kind: 'unknown' }],
    ['same name, two namespaces', 'reviews', twoNamespaces, { kind: 'ambiguous', choices: ['bookinfo/reviews', 'staging/reviews'] }],
    ['two namespaces, qualified', 'staging/reviews', twoNamespaces, { kind: 'found', id: 'default-staging-reviews' }],
    ['same name, two clusters', 'reviews', twoClusters, { kind: 'ambiguous', choices: ['east/bookinfo/reviews', 'west/bookinfo/reviews'] }],
    ['two clusters, namespace only', 'bookinfo/reviews', twoClusters, { kind: 'ambiguous', choices: ['east/bookinfo/reviews', 'west/bookinfo/reviews'] }],
    ['two clusters, qualified', 'west/bookinfo/reviews', twoClusters, { kind: 'found', id: 'west-bookinfo-reviews' }],
  ])('%s', (_name, query, candidates, expected) => {
    const result = resolveService(query, candidates);

    const simplified = result.kind === 'found' ? { kind: 'found', id: result.release.id } : result;
    expect(simplified).toEqual(expected);
  });

  it('two releases of one target are not ambiguous: the first (newest) wins', () => {
    const newest = at('default', 'bookinfo', 'reviews', 'new');
    const older = at('default', 'bookinfo', 'reviews', 'old');

    const result = resolveService('reviews', [newest, older]);

    expect(result.kind === 'found' && result.release.id).toBe('new');
  });
});

describe('latestPerTarget', () => {
  it('keeps the newest release of each target', () => {
    const releases = [at('default', 'bookinfo', 'reviews', 'r3'), at('default', 'bookinfo', 'ratings', 'a1'), at('default', 'bookinfo', 'reviews', 'r2')];

    expect(latestPerTarget(releases).map((r) => r.id)).toEqual(['r3', 'a1']);
  });
});
