import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import type { Me } from '../policy.js';

/**
 * Sign in with GitLab (OAuth, when the bot is configured for it) or with a pasted GitLab personal,
 * project or OAuth access token. Either way the bot asks GitLab who the token belongs to.
 */
export function SignIn({ oauth, error, onSignedIn }: { oauth: boolean; error: string | null; onSignedIn: (token: string, me: Me) => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(error);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setProblem('Paste a GitLab access token first.');
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const me = await api<Me>('/api/me', { token: value });
      onSignedIn(value, me);
    } catch (failure) {
      setProblem(failure instanceof ApiError ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="signin" aria-labelledby="signin-heading">
      <h1 id="signin-heading">Sign in</h1>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
      {oauth ? (
        <p>
          <a class="button primary" href="/auth/gitlab">
            Sign in with GitLab
          </a>
        </p>
      ) : null}
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">GitLab access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="muted">
          A personal, project or OAuth access token with the <code>read_user</code> scope. It is kept in this browser tab only and sent to the bot,
          which asks GitLab who you are.
        </p>
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in with token'}
        </button>
      </form>
    </section>
  );
}
