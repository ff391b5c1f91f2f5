import { describe, expect, it } from 'vitest';
import { parseRoute, releasePath } from './router.js';

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'board' }],
    ['/signin', { page: 'signin' }],
    ['/releases/reviews-1a2b', { page: 'release', id: 'reviews-1a2b' }],
    ['/releases/a%2Fb', { page: 'release', id: 'a/b' }],
    ['/releases/%E0%A4', { page: 'not-found', path: '/releases/%E0%A4' }],
    ['/releases/a/b', { page: 'not-found', path: '/releases/a/b' }],
  ])('%s', (path, route) => {
    expect(parseRoute(path)).toEqual(route);
  });

  it('keeps the history filters', () => {
    const route = parseRoute('/history', '?service=reviews&outcome=rolled-back');

    expect(route.page === 'history' && route.query.get('outcome')).toBe('rolled-back');
  });

  it('round-trips a release id through its path', () => {
    expect(parseRoute(releasePath('a b/c'))).toEqual({ page: 'release', id: 'a b/c' });
  });
});
