import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, renewToken, tokenStore, type BoardRelease, type OAuthTokens } from './api.js';
import { applyRelease, applySnapshot, EMPTY_BOARD, withRecent, type BoardState } from './board-state.js';
import { connectLive, type LiveStatus } from './live.js';
import { Board } from './pages/board.js';
import { History } from './pages/history.js';
import { ReleasePage } from './pages/release.js';
import { SignIn } from './pages/signin.js';
import { mergeMe, type Me } from './policy.js';
import { navigate, parseRoute, type Route } from './router.js';

interface AuthConfig {
  oauth: boolean;
}

const STATUS_WORDS: Record<LiveStatus | 'signed-out', string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  'signed-out': 'signed out',
};

export function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.pathname, location.search));
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const [me, setMe] = useState<Me | null>(null);
  const [authConfig, setAuthConfig] = useState<AuthConfig>({ oauth: false });
  const [signInError, setSignInError] = useState<string | null>(null);
  const [board, setBoard] = useState<BoardState>(EMPTY_BOARD);
  const [loaded, setLoaded] = useState(false);
  const [status, setStatus] = useState<LiveStatus | 'signed-out'>('connecting');
  const [changed, setChanged] = useState<{ id: string; at: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  // Back from GitLab's sign-in: nothing asks the API before the token is in hand.
  const [finishingSignIn, setFinishingSignIn] = useState(() => /[?&]login(_error)?=/.test(location.search));

  useEffect(() => {
    const onPop = (): void => setRoute(parseRoute(location.pathname, location.search));
    // Internal links move without a page load; modified clicks open tabs as usual.
    const onClick = (event: MouseEvent): void => {
      const link = (event.target as Element | null)?.closest?.('a');
      if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const href = link.getAttribute('href');
      if (!href?.startsWith('/') || href.startsWith('//') || href.startsWith('/auth/') || link.target) return;
      event.preventDefault();
      navigate(href);
    };
    addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
      clearInterval(tick);
    };
  }, []);

  // A renewal of GitLab's token (it lasts two hours) replaces the one every call and the live connection use.
  useEffect(() => tokenStore.onChange(() => setToken(tokenStore.get())), []);

  useEffect(() => {
    api<AuthConfig>('/auth/config', { token: null }).then(setAuthConfig, () => undefined);
    void finishOAuth()
      .then(
        (signedIn) => {
          if (signedIn) setToken(signedIn);
        },
        (error: unknown) => {
          setSignInError(error instanceof ApiError ? error.message : String(error));
          navigate('/signin');
        },
      )
      .finally(() => setFinishingSignIn(false));
  }, []);

  // Who the token belongs to, and what the policy lets them do.
  useEffect(() => {
    if (!token || finishingSignIn) {
      setMe(null);
      return;
    }
    api<Me>('/api/me', { token }).then(setMe, (error: unknown) => {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) signOut(error.message);
    });
  }, [token, finishingSignIn]);

  // What the user may do changes as releases move: read it again after each change (coalesced).
  useEffect(() => {
    if (!token || !changed) return;
    const timer = setTimeout(() => {
      api<Me>('/api/me', { token }).then((fresh) => setMe((known) => mergeMe(known, fresh)), () => undefined);
    }, 200);
    return () => clearTimeout(timer);
  }, [token, changed]);

  useEffect(() => {
    if (finishingSignIn) return;
    const connection = connectLive({
      url: '/api/events',
      token: () => tokenStore.get(),
      renew: async () => (await renewToken()) !== null,
      onStatus: setStatus,
      onRefused: (_status, message) => {
        setStatus('signed-out');
        // A token the bot no longer accepts: sign in again, told why. No token: this bot wants one.
        if (tokenStore.get()) signOut(message);
        else if (location.pathname !== '/signin') navigate('/signin');
      },
      onEvent: (event) => {
        if (event.event === 'snapshot') {
          const { releases } = JSON.parse(event.data) as { releases: BoardRelease[] };
          setBoard((state) => applySnapshot(state, releases));
          setLoaded(true);
          // What ended while we were away.
          api<{ releases: BoardRelease[] }>('/api/releases?view=board&limit=6').then(
            ({ releases: recent }) => setBoard((state) => withRecent(state, recent)),
            () => undefined,
          );
          setChanged({ id: '*', at: Date.now() });
        } else if (event.event === 'release') {
          const release = JSON.parse(event.data) as BoardRelease;
          setBoard((state) => applyRelease(state, release));
          setChanged({ id: release.id, at: Date.now() });
        }
      },
    });
    return () => connection.close();
  }, [token, finishingSignIn]);

  function signOut(reason: string | null): void {
    tokenStore.clear();
    setToken(null);
    setMe(null);
    setSignInError(reason);
    if (reason) navigate('/signin');
  }

  const signedIn = (value: string, who: Me): void => {
    tokenStore.set(value);
    setSignInError(null);
    setMe(who);
    setToken(value);
    navigate('/');
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          canarybot
        </a>
        <nav aria-label="Pages">
          <a href="/" aria-current={route.page === 'board' ? 'page' : undefined}>
            Board
          </a>
          <a href="/history" aria-current={route.page === 'history' ? 'page' : undefined}>
            History
          </a>
        </nav>
        <span class={`live-status ${status}`} role="status" aria-live="polite">
          {STATUS_WORDS[status]}
        </span>
        <span class="who">
          {me ? (
            <>
              <span class="username">@{me.user.username}</span>{' '}
              <button type="button" class="link" onClick={() => signOut(null)}>
                Sign out
              </button>
            </>
          ) : (
            <a href="/signin">Sign in</a>
          )}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'board' ? <Board board={board} me={me} now={now} loaded={loaded} /> : null}
        {route.page === 'release' ? <ReleasePage id={route.id} me={me} changed={changed} now={now} /> : null}
        {route.page === 'history' ? <History query={route.query} /> : null}
        {route.page === 'signin' ? <SignIn oauth={authConfig.oauth} error={signInError} onSignedIn={signedIn} /> : null}
        {route.page === 'not-found' ? (
          <p>
            No page at {route.path}. <a href="/">Back to the board</a>
          </p>
        ) : null}
      </main>
    </>
  );
}

/** Back from GitLab's sign-in: trade the one-time handle in `?login=` for the access token. */
async function finishOAuth(): Promise<string | null> {
  const params = new URLSearchParams(location.search);
  const handle = params.get('login');
  const failure = params.get('login_error');
  if (!handle && !failure) return null;
  history.replaceState(null, '', location.pathname);
  if (failure) throw new ApiError(401, failure);
  const tokens = await api<OAuthTokens>('/auth/session', { method: 'POST', body: { handle }, token: null });
  tokenStore.setOAuth(tokens);
  return tokens.accessToken;
}
