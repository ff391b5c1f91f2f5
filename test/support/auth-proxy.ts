import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { testCerts } from '../../src/sim/kube/certs.js';

export interface AuthProxy {
  url: string;
  /** Requests that reached the upstream, with the tenant they carried. */
  forwarded: { path: string; tenant: string | undefined }[];
  refused: number;
  close(): Promise<void>;
}

/**
 * A tiny authenticating proxy in front of a real Prometheus, as a multi-tenant gateway (Mimir, Cortex)
 * behaves: a wrong or missing bearer token is 401, a missing X-Scope-OrgID is 401 ("no org id"), an
 * unknown tenant is 403; the rest is forwarded unchanged. `tls` serves HTTPS with the test CA.
 */
export async function startAuthProxy(options: { upstream: string; token: string; tenants: string[]; tls?: boolean }): Promise<AuthProxy> {
  const upstream = new URL(options.upstream);
  const forwarded: AuthProxy['forwarded'] = [];
  let refused = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const refuse = (status: number, text: string): void => {
      refused += 1;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    };
    const tenant = req.headers['x-scope-orgid'];
    if (req.headers.authorization !== `Bearer ${options.token}`) return refuse(401, 'Unauthorized');
    if (typeof tenant !== 'string') return refuse(401, 'no org id');
    if (!options.tenants.includes(tenant)) return refuse(403, `tenant ${tenant} is not allowed`);
    forwarded.push({ path: req.url ?? '', tenant });
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const out = request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => refuse(502, 'upstream unreachable'));
    req.pipe(out);
  };
  const certs = options.tls ? testCerts() : null;
  const server: Server = certs ? createHttpsServer({ cert: certs.certPem, key: certs.keyPem }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${certs ? 'https' : 'http'}://127.0.0.1:${port}`,
    forwarded,
    get refused() {
      return refused;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
