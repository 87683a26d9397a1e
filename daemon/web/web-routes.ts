// Serves the front-desk page at /: index.html, style.css and favicon.svg from public/ (read once at
// start) and the page's ES modules (/app.js and what it imports; page-modules.ts). No external
// assets, so the page works offline. The page talks to the same origin (REST + /v1/events).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_DESK, type DeskConfig } from '../config/config-schema.ts';
import { pageModules } from './page-modules.ts';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const MODULE_TYPE = 'text/javascript; charset=utf-8';

/** The page's settings go into index.html's <meta name="yika-desk"> (the CSP allows no inline script). */
function withDeskConfig(html: Buffer, desk: DeskConfig): Buffer {
  const json = JSON.stringify(desk).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return Buffer.from(html.toString('utf8').replace(/<meta name="yika-desk" content="[^"]*">/, `<meta name="yika-desk" content="${json}">`));
}

function send(request: FastifyRequest, reply: FastifyReply, type: string, body: string | Buffer): FastifyReply {
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
}

export function registerFrontDesk(app: FastifyInstance, desk: DeskConfig = DEFAULT_DESK): void {
  const dir = fileURLToPath(new URL('./public/', import.meta.url));
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const path = `${dir}/${file}`;
    if (!existsSync(path)) continue;
    const raw = readFileSync(path);
    const body = file === 'index.html' ? withDeskConfig(raw, desk) : raw;
    app.get(url, { schema: { hide: true } }, async (request, reply) => send(request, reply, type, body));
  }
  const modules = pageModules(dir);
  for (const url of modules.paths) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => send(request, reply, MODULE_TYPE, await modules.load(url)));
  }
}
