// Serves the front-desk page (daemon/web/public) at /. Plain files read once at start; no external
// assets, so the page works offline. The page talks to the same origin (REST + /v1/events).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_DESK, type DeskConfig } from '../config/config-schema.ts';

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

/** The page's settings go into index.html's <meta name="yika-desk"> (the CSP allows no inline script). */
function withDeskConfig(html: Buffer, desk: DeskConfig): Buffer {
  const json = JSON.stringify(desk).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return Buffer.from(html.toString('utf8').replace(/<meta name="yika-desk" content="[^"]*">/, `<meta name="yika-desk" content="${json}">`));
}

export function registerFrontDesk(app: FastifyInstance, desk: DeskConfig = DEFAULT_DESK): void {
  const dir = publicDir();
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const path = `${dir}/${file}`;
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    const body = file === 'index.html' ? withDeskConfig(raw, desk) : raw;
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
