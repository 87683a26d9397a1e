// format=pipe in GBK and GB 18030 for HIS databases that are not UTF-8: the bytes on the wire are the
// card's bytes (known answers for 王小明), the Content-Type names the charset, and a character GBK
// cannot carry is a typed error rather than a silent '?'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH, testTokens } from '../support/api-token.ts';
import { createApp, type YikaApp } from '../../daemon/app.ts';
import { encodePipe } from '../../daemon/api/pipe-charset.ts';
import { YikaClient } from '../../daemon/client/index.ts';
import { loadConfig, parseDaemonFlags } from '../../daemon/config/load-config.ts';
import { createLogger } from '../../daemon/logging/logger.ts';
import { createSimulator, type Simulator } from '../../firmware-sim/index.ts';
import { until } from '../support/until.ts';

let app: YikaApp;
let sim: Simulator;
let url: string;

beforeAll(async () => {
  sim = createSimulator({ seed: 5 });
  const config = loadConfig(parseDaemonFlags(['--sim', '--listen', '127.0.0.1:0']), {});
  config.api.tokens = testTokens(); // writes need a token
  app = await createApp({ config, simulator: sim, logger: createLogger({ level: 'silent' }) });
  await app.startDevices();
  url = await app.listen();
  await until('sim-1', () => app.registry.find('sim-1')?.toJSON().slots[0].card === 'present');
  const put = await fetch(`${url}/v1/readers/sim-1/healthcard/items`, { method: 'PUT', headers: { 'content-type': 'application/json', ...TEST_AUTH }, body: JSON.stringify({ items: { 11: '王小明' } }) });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b as ArrayBuffer).toString('hex');

describe('format=pipe charsets', () => {
  it('gbk and gb18030 send the card bytes with the charset in Content-Type; utf-8 stays the default', async () => {
    const path = `${url}/v1/readers/sim-1/healthcard/items?ids=11,12&format=pipe`;
    const utf8 = await fetch(path);
    expect(utf8.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await utf8.text();
    expect(text.startsWith('王小明|')).toBe(true);
    const gbk = await fetch(`${path}&charset=gbk`);
    expect(gbk.headers.get('content-type')).toBe('text/plain; charset=GBK');
    const gbkBytes = await gbk.arrayBuffer();
    expect(hex(gbkBytes).startsWith('cdf5d0a1c3f77c')).toBe(true); // 王 CDF5, 小 D0A1, 明 C3F7, |
    expect(new TextDecoder('gbk').decode(gbkBytes)).toBe(text);
    const gb = await fetch(`${path}&charset=gb18030`);
    expect(gb.headers.get('content-type')).toBe('text/plain; charset=GB18030');
    expect(hex(await gb.arrayBuffer())).toBe(hex(gbkBytes));
    // The typed client decodes by the declared charset.
    const client = new YikaClient({ baseUrl: url });
    expect(await client.readItems('sim-1', [11, 12], { format: 'pipe', charset: 'gbk' })).toBe(text);
  });

  it('refuses an unknown charset, and charset without format=pipe', async () => {
    expect((await fetch(`${url}/v1/readers/sim-1/healthcard/items?ids=11&format=pipe&charset=big5`)).status).toBe(400);
    const r = await fetch(`${url}/v1/readers/sim-1/healthcard/items?ids=11&charset=gbk`);
    expect(r.status).toBe(400);
  });

  it('a four-byte GB 18030 character: gb18030 carries it, gbk refuses it with PIPE_CHARSET_UNENCODABLE', () => {
    expect(hex(encodePipe('𠀀|A', 'gb18030'))).toBe('953282367c41'); // U+20000 = 95 32 82 36
    expect(() => encodePipe('𠀀|A', 'gbk')).toThrow(expect.objectContaining({ code: 'PIPE_CHARSET_UNENCODABLE', details: { codePoint: 'U+20000', index: 0 } }));
    expect(hex(encodePipe('\uFE10', 'gbk'))).toBe('a6d9'); // GB 18030-2022's new two-byte mapping
  });
});
