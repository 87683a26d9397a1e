// /v1/docs: the OpenAPI document as one self-contained HTML page (no scripts, no external assets),
// so a HIS developer can integrate from it alone, offline: routes, parameters, schemas, the error
// codes with their HTTP status, and the WebSocket event stream.
import { allErrorCodes } from '../../common/error-catalog.ts';
import { EVENT_DESCRIPTIONS } from '../events/event-catalog.ts';
import { statusForCode } from './error-map.ts';

type Json = Record<string, unknown>;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function pre(value: unknown): string {
  return `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
}

export function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description?: string };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, methods] of Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [method, op] of Object.entries(methods)) {
      const anchor = `op-${String(op.operationId)}`;
      toc.push(`<li><a href="#${escapeHtml(anchor)}"><span class="m ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a>${op.summary ? ` — ${escapeHtml(String(op.summary))}` : ''}</li>`);
      const params = (op.parameters as Json[] | undefined) ?? [];
      const responses = (op.responses ?? {}) as Record<string, Json>;
      ops.push(`<section id="${escapeHtml(anchor)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
${op.summary ? `<p><b>${escapeHtml(String(op.summary))}</b></p>` : ''}${op.description ? `<p>${escapeHtml(String(op.description))}</p>` : ''}
${params.length ? `<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th></tr>${params
        .map((p) => `<tr><td><code>${escapeHtml(String(p.name))}</code></td><td>${escapeHtml(String(p.in))}</td><td>${p.required ? 'yes' : 'no'}</td><td>${pre(p.schema)}</td></tr>`)
        .join('')}</table>` : ''}
${op.requestBody ? `<h4>Request body (application/json)</h4>${pre(((op.requestBody as Json).content as Json)['application/json'])}` : ''}
<h4>Responses</h4>${Object.entries(responses)
        .map(([status, r]) => `<details${status.startsWith('2') ? ' open' : ''}><summary>${escapeHtml(status)} — ${escapeHtml(String(r.description ?? ''))}</summary>${pre(r.content)}</details>`)
        .join('')}
</section>`);
    }
  }
  const codes = allErrorCodes()
    .map((c) => `<tr><td><code>${escapeHtml(c.code)}</code></td><td>${statusForCode(c.code)}</td><td>${escapeHtml(c.module)}</td><td>${escapeHtml(c.description)}</td><td lang="zh-CN">${escapeHtml(c.zh)}</td></tr>`)
    .join('');
  const events = Object.entries(EVENT_DESCRIPTIONS)
    .map(([t, d]) => `<tr><td><code>${escapeHtml(t)}</code></td><td>${escapeHtml(d)}</td></tr>`)
    .join('');
  const schemas = ((doc.components as Json).schemas ?? {}) as Json;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)} — API</title>
<style>
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:1100px;padding:1rem 2rem;color:#1a1a1a}
code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto;margin:.2rem 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
section{border-top:1px solid #ccc;padding:.5rem 0}.m{display:inline-block;min-width:4em;font-weight:700;border-radius:3px;padding:0 .3em;color:#fff;text-align:center}
.get{background:#2a7}.post{background:#27c}.put{background:#c80}.delete{background:#c33}ul{padding-left:1.2rem}
</style></head><body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description ?? '')}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Calling the API</h2>
<ul>
<li>Base URL <code>http://127.0.0.1:7611</code> by default. JSON in, JSON out.</li>
<li>Browser pages: the page's origin must be listed in <code>api.allowedOrigins</code> of the daemon config; CORS and Private Network Access preflights are answered for those origins only.</li>
<li>From another machine: <code>Authorization: Bearer &lt;api.token&gt;</code>.</li>
<li>Every error has the body <code>{"error":{"code":"…","message":"…","details":{…}}}</code>; the codes are listed below with their HTTP status.</li>
<li>Rate limited per client: HTTP 429 <code>RATE_LIMITED</code> with a <code>Retry-After</code> header (seconds).</li>
</ul>
<h2>Routes</h2><ul>${toc.join('')}
<li><a href="#events"><span class="m get">WS</span> /v1/events</a> — event stream (WebSocket)</li></ul>
${ops.join('\n')}
<section id="events"><h3><span class="m get">WS</span> <code>/v1/events?types=card.inserted,qr.scanned&amp;after=SEQ</code></h3>
<p>A WebSocket. The first message is <code>{"type":"stream.hello","position":N,"oldest":M,"resume":{"after":SEQ,"complete":true}}</code>.
When <code>complete</code> is false, events after your position were dropped from the daemon's history: re-read the state over REST.
Then every event as JSON with <code>type</code>, <code>seq</code> and <code>at</code>; every heartbeat a <code>{"type":"stream.heartbeat","position":N}</code>.
Remember the last <code>seq</code> and reconnect with <code>?after=seq</code> to miss nothing still in the history.</p>
<table><tr><th>Event type</th><th>Meaning and fields</th></tr>${events}</table></section>
<h2 id="errors">Error codes</h2>
<table><tr><th>Code</th><th>HTTP</th><th>Module</th><th>Meaning and what to do</th><th>中文 (messageZh)</th></tr>${codes}</table>
<h2>Schemas</h2>${Object.entries(schemas)
    .map(([id, s]) => `<details><summary><code>${escapeHtml(id)}</code></summary>${pre(s)}</details>`)
    .join('')}
</body></html>`;
}
