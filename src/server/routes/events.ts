import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ReleaseReader } from '../../engine/api.js';
import { boardRelease, type LinkSettings } from '../../engine/board-view.js';
import type { ReleaseChangeEvent, ReleaseChanges } from '../../engine/release-changes.js';
import type { RouteModule } from '../app.js';

export interface EventsRouteOptions {
  reader: Pick<ReleaseReader, 'get' | 'list'>;
  changes: ReleaseChanges;
  links?: LinkSettings;
  /** Comment line sent this often so proxies keep the stream open (default 15 s). */
  heartbeatMs?: number;
}

/** How long the browser waits before reconnecting, told to it in the stream. */
const RETRY_MS = 2_000;

/**
 * `GET /api/events`: Server-Sent Events of the release store. `snapshot` (every live release, sent
 * first and again whenever this replica may have missed a change), then `release` (one release's
 * board row after each write). Events carry no `id`: after a reconnect the fresh snapshot is the
 * resync, so nothing has to be replayed.
 */
export function eventsRoute(options: EventsRouteOptions): RouteModule {
  return (app: FastifyInstance) => {
    const clients = new Set<FastifyReply>();
    // Streams between their snapshot read and their first write keep what arrives meanwhile.
    const joining = new Set<string[]>();
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    const board = (release: Parameters<typeof boardRelease>[0]) => boardRelease(release, options.links);

    const snapshot = async (): Promise<string> => {
      const releases = await options.reader.list({ state: 'live' });
      return frame('snapshot', { releases: releases.map(board) });
    };
    const broadcast = (text: string): void => {
      for (const reply of clients) reply.raw.write(text);
      for (const buffer of joining) buffer.push(text);
    };
    // One store read per change for all of this replica's clients.
    const onChange = (event: ReleaseChangeEvent): void => {
      if (clients.size === 0 && joining.size === 0) return;
      const read = event.kind === 'resync' ? snapshot() : readRelease(event.change.id);
      read.then((text) => text && broadcast(text)).catch((error: Error) => app.log.warn({ err: error.message }, 'release event not sent'));
    };
    const readRelease = async (id: string): Promise<string | null> => {
      const release = await options.reader.get(id);
      return release ? frame('release', board(release)) : null;
    };
    let unsubscribe: (() => void) | null = null;
    const heartbeat = setInterval(() => broadcast(': ping\n\n'), heartbeatMs);
    heartbeat.unref();

    app.addHook('preClose', async () => {
      clearInterval(heartbeat);
      unsubscribe?.();
      for (const reply of clients) reply.raw.end();
      clients.clear();
    });

    app.get('/api/events', async (request, reply) => {
      unsubscribe ??= options.changes.subscribe(onChange);
      // Read before the headers go out, so a Redis outage is an ordinary 503 the browser retries.
      const meanwhile: string[] = [];
      joining.add(meanwhile);
      let first: string;
      try {
        first = await snapshot();
      } catch (error) {
        request.log.warn({ err: (error as Error).message }, 'event stream: cannot read releases');
        return reply.code(503).send({ error: 'the release store cannot be read right now; try again shortly' });
      } finally {
        joining.delete(meanwhile);
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx (and GitLab-style ingresses built on it) would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      reply.raw.write(`retry: ${RETRY_MS}\n\n${first}${meanwhile.join('')}`);
      clients.add(reply);
      request.raw.on('close', () => clients.delete(reply));
    });
  };
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
