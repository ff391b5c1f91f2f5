import { describe, expect, it } from 'vitest';
import { connectLive, type LiveStatus } from './live.js';
import type { SseEvent } from './sse.js';

function streamOf(text: string): Response {
  return new Response(new Blob([text]).stream(), { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error('timed out');
};

describe('connectLive', () => {
  it('sends the token, reconnects after the stream ends and gets the snapshot again (the resync)', async () => {
    const seen: string[] = [];
    const events: SseEvent[] = [];
    const statuses: LiveStatus[] = [];
    let calls = 0;
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      calls += 1;
      seen.push(String((init.headers as Record<string, string>).authorization));
      if (calls === 2) throw new TypeError('fetch failed');
      return streamOf(`retry: 5\n\nevent: snapshot\ndata: {"n":${calls}}\n\n`);
    }) as typeof fetch;

    const live = connectLive({ url: '/api/events', token: () => 'glpat-x', fetch: fakeFetch, onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s), onRefused: () => undefined });
    await until(() => events.length >= 2);
    live.close();
    const callsAtClose = calls;
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(events.slice(0, 2).map((e) => e.data)).toEqual(['{"n":1}', '{"n":3}']);
    expect(calls).toBe(callsAtClose);
    expect(seen.slice(0, 3)).toEqual(['Bearer glpat-x', 'Bearer glpat-x', 'Bearer glpat-x']);
    expect(statuses.slice(0, 5)).toEqual(['connecting', 'live', 'reconnecting', 'reconnecting', 'reconnecting']);
    expect(statuses).toContain('live');
  });

  it('stops on a refused token and says why', async () => {
    let refused: [number, string] | null = null;
    let calls = 0;
    const fakeFetch = (async () => {
      calls += 1;
      return new Response(JSON.stringify({ error: 'The token is not valid for GitLab.' }), { status: 401 });
    }) as unknown as typeof fetch;

    connectLive({ url: '/api/events', token: () => null, fetch: fakeFetch, onEvent: () => undefined, onStatus: () => undefined, onRefused: (s, m) => (refused = [s, m]) });
    await until(() => refused !== null);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(refused).toEqual([401, 'The token is not valid for GitLab.']);
    expect(calls).toBe(1);
  });
});
