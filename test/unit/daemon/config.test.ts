import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../daemon/config/config-error.ts';
import { loadConfig, parseDaemonFlags } from '../../../daemon/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'yika-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('daemon configuration', () => {
  it('defaults to loopback 127.0.0.1:7611, PC/SC on, no simulator', () => {
    const c = loadConfig(parseDaemonFlags([]), {});
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7611 });
    expect(c.devices.pcsc).toBe(true);
    expect(c.sim.enabled).toBe(false);
    expect(c.sam.pin).toBe('123456');
  });

  it('applies flags over environment over file over defaults', () => {
    const yaml = file(
      'a.yaml',
      ['listen: 127.0.0.1:9000', 'devices:', '  pcsc: false', '  serial:', '    - /dev/ttyUSB0', '    - {path: /dev/ttyACM0, secure: required, name: Desk}', 'sam: {pin: "0000"}', 'readers: {lockTimeoutMs: 2500}'].join('\n'),
    );
    const fromFile = loadConfig(parseDaemonFlags(['--config', yaml]), {});
    expect(fromFile.listen.port).toBe(9000);
    expect(fromFile.devices.pcsc).toBe(false);
    expect(fromFile.devices.serial).toEqual([
      { path: '/dev/ttyUSB0', baudRate: 115200, secure: 'preferred' },
      { path: '/dev/ttyACM0', name: 'Desk', baudRate: 115200, secure: 'required' },
    ]);
    expect(fromFile.sam.pin).toBe('0000');
    expect(fromFile.readers.lockTimeoutMs).toBe(2500);

    const env = { YIKA_LISTEN: '127.0.0.1:9100', YIKA_CONFIG: yaml, YIKA_PCSC: '1' };
    const fromEnv = loadConfig(parseDaemonFlags([]), env);
    expect(fromEnv.listen.port).toBe(9100);
    expect(fromEnv.devices.pcsc).toBe(true);

    const fromFlags = loadConfig(parseDaemonFlags(['--listen', ':0', '--sim', '--no-pcsc', '--secure', 'off', '--serial', '/dev/ttyS9']), env);
    expect(fromFlags.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(fromFlags.sim.enabled).toBe(true);
    expect(fromFlags.devices.pcsc).toBe(false);
    expect(fromFlags.devices.serial.map((s) => [s.path, s.secure])).toEqual([
      ['/dev/ttyUSB0', 'off'],
      ['/dev/ttyACM0', 'off'],
      ['/dev/ttyS9', 'off'],
    ]);
  });

  it('reads JSON files too', () => {
    const json = file('b.json', JSON.stringify({ listen: { port: 7700 }, sim: { enabled: true, seed: 42 } }));
    const c = loadConfig(parseDaemonFlags(['--config', json]), {});
    expect(c.listen.port).toBe(7700);
    expect(c.sim).toMatchObject({ enabled: true, seed: 42 });
  });

  it('names the key path and the problem for invalid values', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['devices:\n  serial:\n    - {path: /dev/x, secure: maybe}', 'devices.serial[0].secure', /expected one of required, preferred, off, got "maybe"/],
      ['devices:\n  pcsc: "yes"', 'devices.pcsc', /expected true or false/],
      ['listen: {port: 70000}', 'listen.port', /integer 0–65535/],
      ['readers: {lockTimout: 5}', 'readers.lockTimout', /unknown key/],
      ['sam: {pin: "12ab"}', 'sam.pin', /4–12 digits/],
      ['devices:\n  serial: [/dev/a, /dev/a]', 'devices.serial[1].path', /listed twice/],
    ];
    for (const [text, path, problem] of cases) {
      const p = file(`bad-${path.replace(/\W/g, '_')}.yaml`, text);
      const e = errorOf(() => loadConfig(parseDaemonFlags(['--config', p]), {}));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.path).toBe(path);
      expect(e.problem).toMatch(problem);
      expect(e.message.startsWith(p)).toBe(true);
    }
  });

  it('sets the QR policies QR.md documents (expired bundle, grace, Redis outage)', () => {
    const p = file('qr.yaml', 'qr: {expiredPolicy: degrade, graceSeconds: 3600, staleAfterSeconds: 600, trustRefreshSeconds: 300, sharedDownPolicy: fail}');
    expect(loadConfig(parseDaemonFlags(['--config', p]), {}).qr).toMatchObject({ expiredPolicy: 'degrade', graceSeconds: 3600, staleAfterSeconds: 600, trustRefreshSeconds: 300, sharedDownPolicy: 'fail' });
    const bad = file('qr-bad.yaml', 'qr: {sharedDownPolicy: ignore}');
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--config', bad]), {}))).toMatchObject({ path: 'qr.sharedDownPolicy', problem: 'expected one of local, fail, got "ignore"' });
  });

  it('one listen grammar for file, flag and variable: PORT alone and surrounding blanks', () => {
    expect(loadConfig(parseDaemonFlags(['--listen', '7612']), {}).listen).toEqual({ host: '127.0.0.1', port: 7612 });
    expect(loadConfig(parseDaemonFlags([]), { YIKA_LISTEN: ' 127.0.0.1:7613' }).listen).toEqual({ host: '127.0.0.1', port: 7613 });
    expect(loadConfig(parseDaemonFlags(['--config', file('l.json', JSON.stringify({ listen: '7614' }))]), {}).listen.port).toBe(7614);
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--listen', ':70000']), {}))).toMatchObject({ path: '--listen', problem: 'port 70000 is out of range (0–65535)' });
  });

  it('refuses one serial path written twice in different forms (the post-check the schema describes)', () => {
    const p = file('dup.yaml', 'devices:\n  serial: [/dev/a, {path: /dev/a, secure: off}]');
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--config', p]), {}))).toMatchObject({ path: 'devices.serial[1].path', problem: '"/dev/a" is listed twice' });
  });

  it('never echoes a PIN in an error', () => {
    const p = file('pin.yaml', 'sam: {pin: "12x456"}');
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--config', p]), {})).message).not.toContain('12x456');
  });

  it('reports unreadable and unparsable files with CONFIG_FILE_UNREADABLE', () => {
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--config', join(dir, 'missing.yaml')]), {}))).toMatchObject({ code: 'CONFIG_FILE_UNREADABLE', problem: 'file not found' });
    const broken = file('broken.yaml', 'listen: [1, 2\nsim: true');
    const e = errorOf(() => loadConfig(parseDaemonFlags(['--config', broken]), {}));
    expect(e.code).toBe('CONFIG_FILE_UNREADABLE');
    expect(e.path).toMatch(/^line \d+/);
  });

  it('rejects bad flags and environment values', () => {
    // Flags go through the shared parser (common/cli-options.ts): its codes, the flag named.
    expect(() => parseDaemonFlags(['--listen'])).toThrow(expect.objectContaining({ code: 'CLI_MISSING_VALUE', option: '--listen', message: '--listen needs a value' }));
    expect(() => parseDaemonFlags(['--bogus'])).toThrow(expect.objectContaining({ code: 'CLI_UNKNOWN_OPTION', option: '--bogus' }));
    expect(() => parseDaemonFlags(['--seed', 'x'])).toThrow(expect.objectContaining({ code: 'CLI_BAD_VALUE', option: '--seed' }));
    expect(() => parseDaemonFlags(['--secure', 'maybe'])).toThrow(expect.objectContaining({ code: 'CLI_BAD_VALUE', option: '--secure' }));
    expect(parseDaemonFlags(['--serial=/dev/a', '--serial', '/dev/b', '--no-pcsc', '--no-serial-discovery', '--seed=3'])).toEqual({ serial: ['/dev/a', '/dev/b'], pcsc: false, serialDiscovery: false, seed: 3 });
    expect(errorOf(() => loadConfig(parseDaemonFlags(['--listen', 'localhost']), {}))).toMatchObject({ path: '--listen' });
    expect(errorOf(() => loadConfig(parseDaemonFlags([]), { YIKA_LISTEN: 'x:y' }))).toMatchObject({ path: 'YIKA_LISTEN' });
    expect(errorOf(() => loadConfig(parseDaemonFlags([]), { YIKA_SIM: 'maybe' }))).toMatchObject({ path: 'YIKA_SIM' });
  });

  it('refuses a non-loopback listen address without an API token (API policy)', () => {
    const e = errorOf(() => loadConfig(parseDaemonFlags(['--listen', '0.0.0.0:7611']), {}));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/token/);
    const ok = loadConfig(parseDaemonFlags(['--listen', '0.0.0.0:7611']), { YIKA_TOKEN: 'a-long-enough-token-value' });
    expect(ok.listen.host).toBe('0.0.0.0');
  });
});
