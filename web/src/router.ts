// The dashboard's pages and their paths. The bot serves index.html for each of these paths, so a
// link can be opened, reloaded and shared.

export type Route =
  | { page: 'board' }
  | { page: 'release'; id: string }
  | { page: 'history'; query: URLSearchParams }
  | { page: 'signin' }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string, search = ''): Route {
  if (pathname === '/' || pathname === '') return { page: 'board' };
  if (pathname === '/history') return { page: 'history', query: new URLSearchParams(search) };
  if (pathname === '/signin') return { page: 'signin' };
  const release = /^\/releases\/([^/]+)$/.exec(pathname);
  if (release?.[1]) {
    try {
      return { page: 'release', id: decodeURIComponent(release[1]) };
    } catch {
      return { page: 'not-found', path: pathname };
    }
  }
  return { page: 'not-found', path: pathname };
}

export const releasePath = (id: string): string => `/releases/${encodeURIComponent(id)}`;

/** Move to another page of the app without a page load. */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}
