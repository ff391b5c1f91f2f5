import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * A route module: registers its routes on the app. Each lives in src/server/routes/ and receives
 * only the dependencies it needs through its own options object (closure), so the app stays a
 * composition root.
 */
export type RouteModule = (app: FastifyInstance) => void | Promise<void>;

export interface AppOptions {
  logger?: Logger | false;
  /** Largest accepted request body in bytes (WEBHOOK_BODY_LIMIT, default 1 MiB); larger → 413. */
  bodyLimit?: number;
  /**
   * Longest time to receive a whole request, headers and body (default 30 s); a slower client gets
   * 408 and its connection closed. The idle timeout alone let a body trickling a byte every few
   * seconds hold a connection for minutes.
   */
  requestTimeoutMs?: number;
  routes: RouteModule[];
}

/** A registered route: method and URL pattern as given to Fastify (`/api/releases/:id/commands`). */
export interface RouteEntry {
  method: string;
  url: string;
}

const ROUTE_TABLES = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route of an app built by buildApp, in registration order (for tests that must cover them all). */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return ROUTE_TABLES.get(app) ?? [];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const app: FastifyInstance = Fastify({
    // Node checks the request timeout every connectionsCheckingInterval (30 s by default): check
    // often enough that the timeout means what it says.
    serverFactory: (handler) => createServer({ requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) }, handler),
    loggerInstance: (options.logger || undefined) as FastifyBaseLogger | undefined,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Webhook senders retry on slow answers; nothing we do on the request path should be slow.
    connectionTimeout: 10_000,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const table: RouteEntry[] = [];
  ROUTE_TABLES.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) table.push({ method, url: route.url });
  });
  keepRawBody(app);
  lingerAfterEarlyAnswers(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  for (const register of options.routes) await register(app);
  return app;
}

/** How long a connection answered before its body was read keeps reading (and dropping) the rest (nginx's lingering_time). */
const LINGER_MS = 30_000;
/** …and how long it waits for the next bytes of it (nginx's lingering_timeout). */
const LINGER_IDLE_MS = 5_000;

/**
 * Lingering close, as nginx does: a 413 is answered before the body is read, with `Connection:
 * close`. Closing the socket while the client is still sending resets the connection, and a client
 * that sends its whole body before reading (most do) never sees the answer. So after the answer the
 * socket sends its FIN and keeps reading and dropping the body until the client closes, for at most
 * LINGER_MS (LINGER_IDLE_MS without a byte).
 */
function lingerAfterEarlyAnswers(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode === 413) linger(request.raw.socket);
    done(null, payload);
  });
}

function linger(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket): void {
    if (this.writable) this.end();
    const stop = (): void => {
      clearTimeout(cap);
      this.destroy();
    };
    const cap = setTimeout(stop, LINGER_MS);
    this.setTimeout(LINGER_IDLE_MS, stop);
    this.once('end', stop);
    this.once('close', () => clearTimeout(cap));
    this.resume();
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received, for signature checks. */
    rawBody?: Buffer;
  }
}

/** JSON bodies are parsed by us so signature checks can see the raw bytes. */
function keepRawBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      const error = Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 });
      done(error, undefined);
    }
  });
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    done(null, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  });
}
