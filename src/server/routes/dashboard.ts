import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteModule } from '../app.js';

export interface DashboardRoutesOptions {
  /** The built front end (`npm run build` writes it); default `dist/web` of this package. */
  dir?: string;
}

/** From src/server/routes (tsx) and dist/server/routes (built) alike: the package's dist/web. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** Paths the single-page app answers itself; everything else under / is not ours. */
const APP_PATHS = ['/', '/history', '/signin', '/releases/:id'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

// Nothing but our own files: no CDN, no inline script, no framing.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The dashboard: `index.html` for the app's paths and the fingerprinted files under `/assets/`,
 * held in memory (a few files, read once). Unbuilt, `/` answers 503 saying how to build it.
 */
export function dashboardRoutes(options: DashboardRoutesOptions = {}): RouteModule {
  return (app: FastifyInstance) => {
    const dir = options.dir ?? DEFAULT_DASHBOARD_DIR;
    const index = existsSync(join(dir, 'index.html')) ? readFileSync(join(dir, 'index.html')) : null;
    const assets = new Map<string, Buffer>();
    const assetsDir = join(dir, 'assets');
    if (existsSync(assetsDir)) for (const name of readdirSync(assetsDir)) assets.set(name, readFileSync(join(assetsDir, name)));

    const sendIndex = async (_request: unknown, reply: FastifyReply) => {
      reply.headers(SECURITY_HEADERS);
      if (!index) return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build`.\n');
      return reply.header('cache-control', 'no-cache').type(TYPES['.html'] as string).send(index);
    };
    for (const path of APP_PATHS) app.get(path, sendIndex);

    app.get('/assets/:name', async (request, reply) => {
      const { name } = request.params as { name: string };
      const body = assets.get(name);
      if (!body) return reply.code(404).send({ error: `no dashboard asset ${name}` });
      // Names carry a content hash, so a file never changes under its name.
      return reply
        .headers(SECURITY_HEADERS)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .type(TYPES[extname(name)] ?? 'application/octet-stream')
        .send(body);
    });
  };
}
