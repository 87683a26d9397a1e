// One definition of the configuration: a third party validating with ajv and the schema yikad prints
// reaches the same verdict as `yikad --check-config` (issue 17), for valid files and for each input
// on which the old hand-written validator and the old schema disagreed.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const KEY = '04' + 'ab'.repeat(64);

async function yikad(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'daemon/main.ts', ...args], { cwd: ROOT, timeout: 150_000, env: { ...process.env, YIKA_CONFIG: '', YIKA_LISTEN: '', YIKA_TOKEN: '', YIKA_SAM_PIN: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout: string; stderr: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout, stderr: x.stderr };
  }
}

// name → [file text (YAML, or JSON where a YAML reading would be ambiguous), valid?]
const FILES: Record<string, [string, boolean]> = {
  'empty.yaml': ['# nothing set\n', true],
  'full.yaml': [
    [
      'listen: 127.0.0.1:7700',
      'sim: {enabled: true, seed: 7, speed: 1, profile: desk}',
      'devices:',
      '  secure: required',
      '  serial: [/dev/ttyUSB0, {path: /dev/ttyACM0, baudRate: 9600, name: Desk}]',
      '  timeouts: {transmit: 10000}',
      'sam: {pin: "012345"}',
      'api: {allowedOrigins: [http://his.example.local:8080], token: a-long-enough-token-value, rateLimit: false}',
      `qr: {anchors: [${KEY}], expiredPolicy: degrade, graceSeconds: 259200, sharedDownPolicy: fail}`,
      'desk: {idleClearSeconds: 60}',
    ].join('\n'),
    true,
  ],
  'listen-port-only.yaml': ['listen: "7611"\n', true],
  'listen-leading-space.json': [JSON.stringify({ listen: ' 127.0.0.1:7611' }), true],
  // The 8 inputs of issue 17.
  'api-listen.yaml': ['api: {listen: 127.0.0.1:7611}\n', false],
  'pin-number.yaml': ['sam: {pin: 123456}\n', false],
  'sim-speed.yaml': ['sim: {speed: 1000}\n', false],
  'sim-seed.yaml': ['sim: {seed: -1}\n', false],
  'baud-rate.yaml': ['devices: {serial: [{path: /dev/ttyUSB0, baudRate: 9}]}\n', false],
  'timeout.json': [JSON.stringify({ devices: { timeouts: { transmit: 1e7 } } }), false],
  'empty-profile.yaml': ['sim: {profile: ""}\n', false],
  'duplicate-serial.yaml': ['devices: {serial: [/dev/ttyUSB0, /dev/ttyUSB0]}\n', false],
};

describe('yikad --check-config and the printed schema agree', () => {
  it('gives ajv’s verdict for every file, with one line naming file, key, expected and got', { timeout: 600_000 }, async () => {
    const printed = await yikad('--print-config-schema');
    expect(printed.code).toBe(0);
    const validate = new Ajv2020().compile(JSON.parse(printed.stdout) as object);
    const dir = mkdtempSync(join(tmpdir(), 'yika-check-config-'));

    const names = Object.keys(FILES);
    // A few at a time: each is a Node start-up, and CI machines are small.
    const results: Array<{ name: string; file: string; r: Awaited<ReturnType<typeof yikad>> }> = [];
    for (let i = 0; i < names.length; i += 4) {
      results.push(
        ...(await Promise.all(
          names.slice(i, i + 4).map(async (name) => {
            const file = join(dir, name);
            writeFileSync(file, FILES[name][0]);
            return { name, file, r: await yikad('--check-config', file) };
          }),
        )),
      );
    }
    for (const { name, file, r } of results) {
      const doc = parseYaml(FILES[name][0]) ?? {};
      const ajvSays = validate(doc);
      expect([name, ajvSays]).toEqual([name, FILES[name][1]]);
      expect([name, r.code]).toEqual([name, ajvSays ? 0 : 2]);
      if (ajvSays) expect(r.stdout).toBe(`${file}: valid\n`);
      else {
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(file);
        expect(lines[0]).toMatch(/: [\w.[\]]+: (unknown key|expected|"\/dev\/ttyUSB0" is listed twice)/);
      }
    }
    const line = (n: string): string => results.find((x) => x.name === n)!.r.stderr;
    expect(line('api-listen.yaml')).toMatch(/api\.listen: unknown key/);
    expect(line('pin-number.yaml')).toMatch(/sam\.pin: expected 4–12 digits \(quote it in YAML/);
    expect(line('pin-number.yaml')).not.toContain('123456');
    expect(line('sim-speed.yaml')).toMatch(/sim\.speed: expected a number 0–100, got 1000/);
    expect(line('sim-seed.yaml')).toMatch(/sim\.seed: expected an integer 0–2147483647, got -1/);
    expect(line('baud-rate.yaml')).toMatch(/devices\.serial\[0\]\.baudRate: expected an integer 1200–4000000, got 9/);
    expect(line('timeout.json')).toMatch(/devices\.timeouts\.transmit: expected an integer 50–600000, got 10000000/);
    expect(line('empty-profile.yaml')).toMatch(/sim\.profile: expected a non-empty string, got ""/);
    expect(line('duplicate-serial.yaml')).toMatch(/devices\.serial\[1\]\.path: "\/dev\/ttyUSB0" is listed twice/);
  });
});
