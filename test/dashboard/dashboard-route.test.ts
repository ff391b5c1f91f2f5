import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { dashboardRoutes } from '../../src/server/routes/dashboard.js';
import { releasePageUrl } from '../../src/core/release-links.js';

const dir = mkdtempSync(join(tmpdir(), 'canarybot-web-'));
let app: FastifyInstance;

beforeAll(async () => {
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/main-ABC.js"></script>');
  writeFileSync(join(dir, 'assets', 'main-ABC.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'style-DEF.css'), 'body{}');
  app = await buildApp({ logger: false, routes: [dashboardRoutes({ dir })] });
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard routes', () => {
  it.each(['/', '/history', '/signin', '/releases/reviews-abc123'])('answer %s with the app, never cached, framing and outside scripts refused', async (url) => {
    const response = await app.inject({ method: 'GET', url });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.body).toContain('/assets/main-ABC.js');
  });

  it('serves the release page MR notes, commit statuses and chat link to, without a token (the JSON API would answer 401)', async () => {
    const link = new URL(releasePageUrl('https://canarybot.example.com/', 'reviews-2026/12:06'));

    const response = await app.inject({ method: 'GET', url: link.pathname });

    expect(link.pathname).toBe('/releases/reviews-2026%2F12%3A06');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('/assets/main-ABC.js');
  });

  it('serves fingerprinted assets for a year with their type', async () => {
    const script = await app.inject({ method: 'GET', url: '/assets/main-ABC.js' });
    const style = await app.inject({ method: 'GET', url: '/assets/style-DEF.css' });

    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it.each(['/assets/missing.js', '/assets/..%2Fpackage.json', '/releases/a/b', '/nothing'])('answers 404 for %s', async (url) => {
    const response = await app.inject({ method: 'GET', url });

    expect(response.statusCode).toBe(404);
  });

  it('says how to build the dashboard when it is not built', async () => {
    const unbuilt = await buildApp({ logger: false, routes: [dashboardRoutes({ dir: join(dir, 'nothing-here') })] });

    const response = await unbuilt.inject({ method: 'GET', url: '/' });
    await unbuilt.close();

    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('The dashboard is not built: run `npm run build`.\n');
  });
});
