// The start-up lines of yikad (startup-problems.ts) and the readable log format (pretty-lines.ts):
// each failure maps to its exit code and a line that says what to do; fake port stats for the device
// checks (the real root-only PTY is in test/integration/daemon-main.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../daemon/config/config-error.ts';
import { chooseLogFormat, formatLogLine } from '../../../daemon/logging/pretty-lines.ts';
import { checkSerialPort, EXIT, explainStartupError, type PortFs } from '../../../daemon/startup-problems.ts';

const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
const listen = { host: '127.0.0.1', port: 7611 };

describe('explainStartupError', () => {
  it('maps listen failures to exit 4 with the address and the fix', () => {
    expect(explainStartupError(errno('EADDRINUSE'), listen)).toMatchObject({ exitCode: EXIT.LISTEN, code: 'LISTEN_ADDRESS_IN_USE', line: expect.stringMatching(/^127\.0\.0\.1:7611 is already in use .*--listen HOST:PORT$/) });
    expect(explainStartupError(errno('EACCES'), { host: '0.0.0.0', port: 80 })).toMatchObject({ exitCode: EXIT.LISTEN, line: expect.stringMatching(/ports below 1024 need privileges/) });
    expect(explainStartupError(errno('EADDRNOTAVAIL'), { host: '10.9.9.9', port: 7611 })).toMatchObject({ exitCode: EXIT.LISTEN, line: expect.stringMatching(/^10\.9\.9\.9 is not an address of this machine/) });
    expect(explainStartupError(errno('EADDRINUSE'), { host: '::1', port: 7611 }).line).toMatch(/^\[::1\]:7611/);
  });

  it('a configuration error found late is exit 2; anything else exit 1 without a stack', () => {
    expect(explainStartupError(new ConfigError('yikad.yaml', 'api.token', 'too short'), listen)).toMatchObject({ exitCode: EXIT.CONFIG, line: expect.stringMatching(/^yikad\.yaml: api\.token: too short \(yikad --help/) });
    const other = explainStartupError(new Error('boom'), listen);
    expect(other.exitCode).toBe(EXIT.UNEXPECTED);
    expect(other.line).not.toMatch(/\n/);
  });
});

describe('checkSerialPort', () => {
  const fs = (over: Partial<PortFs>): PortFs => ({ exists: () => true, canReadWrite: () => true, owner: () => ({ user: 'root', group: 'dialout', mode: '0660' }), ...over });
  it('missing: a warning (the daemon waits), not an error', () => {
    const c = checkSerialPort('/dev/ttyUSB7', fs({ exists: () => false }));
    expect(c.error).toBeUndefined();
    expect(c.warning).toMatch(/^serial port \/dev\/ttyUSB7 does not exist \(yet\): plug in the reader/);
  });
  it('present but not openable: exit 5 naming owner, group, mode and the group to join', () => {
    const c = checkSerialPort('/dev/ttyACM0', fs({ canReadWrite: () => false, owner: () => ({ user: 'root', group: 'uucp', mode: '0660' }) }));
    expect(c.error?.exitCode).toBe(EXIT.DEVICE);
    expect(c.error?.code).toBe('DEVICE_PERMISSION_DENIED');
    expect(c.error?.message).toMatch(/\(owner root, group uucp, mode 0660\): add the daemon's user to group uucp \(sudo usermod -aG uucp USER/);
  });
  it('openable: nothing to say', () => {
    expect(checkSerialPort('/dev/ttyUSB0', fs({}))).toEqual({});
  });
});

describe('log format', () => {
  it('JSON off a TTY, pretty on one, YIKA_LOG_FORMAT decides when set', () => {
    expect(chooseLogFormat({}, false)).toBe('json');
    expect(chooseLogFormat({}, true)).toBe('pretty');
    expect(chooseLogFormat({ YIKA_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(chooseLogFormat({ YIKA_LOG_FORMAT: 'Pretty' }, false)).toBe('pretty');
    expect(() => chooseLogFormat({ YIKA_LOG_FORMAT: 'xml' }, false)).toThrow(/expected json or pretty/);
  });
  it('formats a pino line as time, level, message and fields', () => {
    const t = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    const line = formatLogLine(JSON.stringify({ level: 40, time: t, service: 'yikad', readerId: 'sim-1', detail: 'not connected (no such device)', msg: 'serial reader not available' }));
    expect(line).toBe('03:04:05.006 WARN  serial reader not available  readerId=sim-1 detail="not connected (no such device)"\n');
    expect(formatLogLine('not json')).toBe('not json\n');
  });
});
