import { useEffect, useState } from 'preact/hooks';
import { TERMINAL_STATES } from '../../../src/core/release.js';
import { api, ApiError, type BoardRelease } from '../api.js';
import { StateBadge } from '../components/state-badge.js';
import { dateTime, duration, stateWord } from '../format.js';
import { navigate, releasePath } from '../router.js';

const FILTERS = ['service', 'outcome', 'user', 'from', 'to'] as const;
const PAGE_SIZE = 25;

interface HistoryAnswer {
  releases: BoardRelease[];
  /** Cursor of the next (older) page, null on the last. */
  next: string | null;
}

/** Past releases, newest first, filtered by service, outcome, user and date; paged with a cursor kept in the URL. */
export function History({ query }: { query: URLSearchParams }) {
  const [answer, setAnswer] = useState<HistoryAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = query.toString();

  useEffect(() => {
    const params = new URLSearchParams({ view: 'board', ended: 'true', limit: String(PAGE_SIZE) });
    for (const name of [...FILTERS, 'before'] as const) {
      const value = query.get(name);
      if (value) params.set(name, name === 'to' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59.999Z` : value);
    }
    setError(null);
    api<HistoryAnswer>(`/api/releases?${params.toString()}`).then(setAnswer, (failure: unknown) =>
      setError(failure instanceof ApiError ? failure.message : String(failure)),
    );
  }, [key]);

  const apply = (event: Event): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      if (value) next.set(name, value);
    }
    navigate(`/history${next.size ? `?${next.toString()}` : ''}`);
  };
  const olderHref = answer?.next ? `/history?${withParam(query, 'before', answer.next)}` : null;

  return (
    <section aria-labelledby="history-heading">
      <h1 id="history-heading">History</h1>
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <label>
          Service <input name="service" defaultValue={query.get('service') ?? ''} />
        </label>
        <label>
          Outcome{' '}
          <select name="outcome" defaultValue={query.get('outcome') ?? ''}>
            <option value="">any</option>
            {TERMINAL_STATES.map((state) => (
              <option key={state} value={state}>
                {stateWord(state)}
              </option>
            ))}
          </select>
        </label>
        <label>
          User <input name="user" placeholder="GitLab username" defaultValue={query.get('user') ?? ''} />
        </label>
        <label>
          From <input name="from" type="date" defaultValue={query.get('from') ?? ''} />
        </label>
        <label>
          To <input name="to" type="date" defaultValue={query.get('to') ?? ''} />
        </label>
        <button type="submit" class="button">
          Filter
        </button>
      </form>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {answer ? (
        <>
          <div class="table-wrap">
            <table class="history">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Started</th>
                  <th scope="col">Took</th>
                  <th scope="col">Where</th>
                  <th scope="col">Image</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {answer.releases.map((release) => (
                  <tr key={release.id}>
                    <td>
                      <a href={releasePath(release.id)}>{release.service}</a>
                    </td>
                    <td>
                      <StateBadge state={release.state} />
                    </td>
                    <td>{dateTime(release.createdAt)}</td>
                    <td>{release.endedAt ? duration(Date.parse(release.endedAt) - Date.parse(release.createdAt)) : ''}</td>
                    <td>
                      {release.cluster}/{release.namespace}
                    </td>
                    <td>
                      <code>{release.image.split('/').at(-1)}</code>
                    </td>
                    <td>{release.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {answer.releases.length === 0 ? <p class="empty">No release matches.</p> : null}
          <nav class="paging" aria-label="Pages of history">
            {query.get('before') ? <a href={`/history?${withParam(query, 'before', null)}`}>Newest</a> : null}
            {olderHref ? <a href={olderHref}>Older</a> : null}
          </nav>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </section>
  );
}

function withParam(query: URLSearchParams, name: string, value: string | null): string {
  const next = new URLSearchParams(query);
  if (value === null) next.delete(name);
  else next.set(name, value);
  return next.toString();
}
