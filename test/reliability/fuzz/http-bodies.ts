// HTTP bodies: random JSON (with the routes' own keys holding random values), non-JSON bytes, wrong
// content types and random query strings, through fastify inject against the whole daemon (with its
// simulated reader). Every answer must be a success or the API's typed error shape
// { error: { code, message } } — never a 500 and never an untyped error (those count as crashes).
import { rng, type Rng } from '../kit/rng.ts';
import { startDaemon, typedError } from '../kit/daemon-harness.ts';
import { Tally, scaled, type BlockOptions, type BlockResult } from '../kit/outcome.ts';

const KEYS = ['items', 'apdu', 'commands', 'action', 'enabled', 'clear', 'maskData', 'text', 'terminal', 'files', 'ids', 'format', '16', '22', '11', '15', '__proto__', 'constructor', 'prototype', 'slot', 'le', 'protocol'];
const STRINGS = ['', '00A404000C57532E5359532E4444463031', '00B2010003', 'ZZ', 'reset', 'on', 'off', 'cold', 'EHC1:0123', '13800000000', '北京市', '\u0000', 'x'.repeat(300), '1e999', '-1', 'NaN', 'DDF1/EF05'];

function value(r: Rng, depth: number): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return r.int(2) === 0;
    case 2: return r.pick([0, -1, 1, 2 ** 53, 1e308, -0, 0.5, 65536, 17, 0x11]);
    case 3: return r.pick(STRINGS);
    case 4: return Buffer.from(r.bytes(r.int(40))).toString('hex');
    case 5: return String.fromCharCode(...Array.from({ length: r.int(20) }, () => r.int(0xffff)));
    case 6:
    case 7: {
      const o: Record<string, unknown> = {};
      for (let k = r.int(5); k > 0; k--) o[r.pick(KEYS)] = value(r, depth + 1);
      return o;
    }
    default: return Array.from({ length: r.int(5) }, () => value(r, depth + 1));
  }
}

const ROUTES: Array<[string, string]> = [
  ['POST', '/v1/qr/verify'],
  ['PUT', '/v1/readers/sim-1/healthcard/items'],
  ['POST', '/v1/readers/sim-1/slots/1/apdu'],
  ['POST', '/v1/readers/sim-1/slots/1/batch'],
  ['POST', '/v1/readers/sim-1/slots/1/power'],
  ['PUT', '/v1/readers/sim-1/trace'],
  ['POST', '/v1/qr/trust'],
  ['POST', '/v1/readers/nope/slots/x/apdu'],
];
const QUERIES = ['/v1/readers/sim-1/healthcard?files=', '/v1/readers/sim-1/healthcard/items?ids=', '/v1/readers/sim-1/healthcard/items?format=pipe&ids=', '/v1/qr/scans/', '/v1/readers/'];

export async function fuzzHttpBodies(o: BlockOptions): Promise<BlockResult> {
  const t = new Tally('Fuzzing', 'HTTP bodies (fastify inject, whole daemon)', o.seed);
  const r = rng(o.seed);
  const h = await startDaemon({ seed: 1000 + (o.seed % 1000) });
  try {
    for (let i = 0, n = scaled(o, 6000, 80); i < n; i++) {
      let method: string;
      let url: string;
      let payload: string | Buffer | undefined;
      const headers: Record<string, string> = {};
      if (r.int(5) === 0) {
        method = 'GET';
        const q = r.pick(QUERIES);
        const tail = r.int(2) ? Array.from({ length: r.int(8) }, () => r.pick(['1', '8', '999', 'DDF1/EF05', 'DF03/EE01', ',', '%00', '%E4%B8%AD', 'x', '-3', '..', '%'])).join('') : encodeURIComponent(String(value(r, 2)).replace(/[\uD800-\uDFFF]/g, '?'));
        url = q + tail;
      } else {
        [method, url] = r.pick(ROUTES);
        const kind = r.int(6);
        if (kind < 4) {
          payload = JSON.stringify(value(r, 0)) ?? 'null';
          headers['content-type'] = 'application/json';
        } else if (kind === 4) {
          payload = Buffer.from(r.bytes(r.int(300)));
          headers['content-type'] = r.pick(['application/json', 'application/octet-stream', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']);
        } else {
          payload = JSON.stringify(value(r, 0))?.slice(0, r.int(40)) ?? '{';
          headers['content-type'] = 'application/json';
        }
      }
      let res;
      try {
        res = await h.app.server.inject({ method: method as 'GET', url, payload, headers });
      } catch (e) {
        t.crash(`inject threw ${(e as Error).message} on ${method} ${url}`, payload === undefined ? undefined : { name: `request-${i}`, data: typeof payload === 'string' ? payload : new Uint8Array(payload) });
        continue;
      }
      let body: any;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = undefined;
      }
      const code = typedError(body);
      const fixture = { name: `request-${i}`, data: `${method} ${url}\ncontent-type: ${headers['content-type'] ?? ''}\n\n${payload === undefined ? '' : Buffer.isBuffer(payload) ? payload.toString('base64') : payload}` };
      if (res.statusCode >= 500 && res.statusCode !== 503) t.crash(`${res.statusCode} ${code ?? res.body.slice(0, 80)} on ${method} ${url.split('?')[0]}`, fixture);
      else if (res.statusCode >= 400 && !code) t.crash(`${res.statusCode} without the typed error shape on ${method} ${url.split('?')[0]}`, fixture);
      else t.count(res.statusCode < 400 ? `${res.statusCode}` : `${res.statusCode} ${code}`);
    }
  } finally {
    await h.close();
  }
  return t.done();
}
