// Serves the front-desk page (daemon/web/public) at /. Plain files read once at start; no external
// assets, so the page works offline. The page talks to the same origin (REST + /v1/events).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/i18n.js': { file: 'i18n.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** The public/ folder next to this file, or next to its source when running from dist/. */
export function publicDir(): string {
  const candidates = [new URL('./public/', import.meta.url), new URL('../../../daemon/web/public/', import.meta.url)];
  for (const c of candidates) if (existsSync(c)) return fileURLToPath(c);
  return fileURLToPath(candidates[0]);
}

export function registerFrontDesk(app: FastifyInstance): void {
  const dir = publicDir();
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const path = `${dir}/${file}`;
    if (!existsSync(path)) continue;
    const body = readFileSync(path);
    app.get(url, { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const host = request.headers.host ?? '127.0.0.1';
      return reply
        .type(type)
        .header('Cache-Control', 'no-cache')
        .header('Referrer-Policy', 'no-referrer')
        .header(
          'Content-Security-Policy',
          `default-src 'self'; img-src 'self' data:; connect-src 'self' ws://${host}; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
        )
        .send(body);
    });
  }
}
