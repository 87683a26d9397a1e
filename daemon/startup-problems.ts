// What stops yikad from starting, said in one plain line with what to do, and the exit code for it.
// main.ts prints the line on stderr (and logs it as a fatal JSON entry when logs are JSON); the codes
// are documented in `yikad --help` (EXIT_CODES_HELP) and the README.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { defineErrorCodes } from '../common/error-catalog.ts';
import { isYikaError, YikaError } from '../common/yika-error.ts';

export const EXIT = {
  OK: 0,
  /** Unexpected: a bug or an unforeseen system failure; the log has the details. */
  UNEXPECTED: 1,
  CONFIG: 2,
  SELF_TEST: 3,
  LISTEN: 4,
  DEVICE: 5,
  /** Printed by bin/*.js when dist/ is missing. */
  INSTALL: 6,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  stopped normally (SIGINT or SIGTERM), or --help
  1  unexpected error (a bug or a system failure; the log has the details)
  2  configuration or command-line error (the message names the flag, variable or file key)
  3  the crypto self-test failed (this Node/OpenSSL build cannot be trusted for SM2/SM3/SM4)
  4  cannot listen on the API address (port in use, not permitted, or not an address of this machine)
  5  a configured serial port exists but this user may not open it
  6  the installation is incomplete (the compiled code in dist/ is missing)
`;

export const STARTUP_ERRORS = defineErrorCodes('daemon/startup', {
  LISTEN_ADDRESS_IN_USE: { kind: 'unavailable', zh: '服务端口已被占用（是否已有另一个 yikad 在运行？）：请停止该程序或用 --listen 换一个端口。', description: 'The API port is already in use (another yikad?): stop that program or choose another port with --listen.' },
  LISTEN_NOT_PERMITTED: { kind: 'unavailable', zh: '无权监听该端口（1024 以下的端口需要特权）：请使用 1023 以上的端口。', description: 'The daemon may not listen on that port (ports below 1024 need privileges): choose a port above 1023.' },
  LISTEN_ADDRESS_UNAVAILABLE: { kind: 'unavailable', zh: '监听地址不是本机地址：请使用 127.0.0.1 或本机的地址。', description: 'The listen address is not an address of this machine: use 127.0.0.1 or one of its own addresses.' },
  DEVICE_PERMISSION_DENIED: { kind: 'unavailable', zh: '配置的串口存在，但服务用户无权打开：请把用户加入该端口的用户组或安装 udev 规则（yika doctor）。', description: 'A configured serial port exists but the daemon user may not open it: add the user to the port’s group or install the udev rule (yika doctor).' },
});

export class StartupError extends YikaError {
  constructor(
    code: keyof typeof STARTUP_ERRORS,
    message: string,
    readonly exitCode: number,
    details?: Record<string, string | number>,
  ) {
    super(code, message, details);
  }
}

export interface StartupProblem {
  /** One line, no stack: what happened and what to do. */
  line: string;
  exitCode: number;
  code?: string;
}

/** Maps an error thrown while starting to the one line a person reads and the exit code. */
export function explainStartupError(e: unknown, listen: { host: string; port: number }): StartupProblem {
  const where = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof StartupError) return { line: e.message, exitCode: e.exitCode, code: e.code };
  if (errno === 'EADDRINUSE')
    return { code: STARTUP_ERRORS.LISTEN_ADDRESS_IN_USE, exitCode: EXIT.LISTEN, line: `${where} is already in use (another yikad?): stop the program using it (ss -ltnp 'sport = :${listen.port}' shows it), or choose another port with --listen HOST:PORT` };
  if (errno === 'EACCES' || errno === 'EPERM')
    return { code: STARTUP_ERRORS.LISTEN_NOT_PERMITTED, exitCode: EXIT.LISTEN, line: `not allowed to listen on ${where}${listen.port < 1024 ? ' (ports below 1024 need privileges)' : ''}: choose a port above 1023 with --listen HOST:PORT` };
  if (errno === 'EADDRNOTAVAIL' || errno === 'ENOTFOUND' || errno === 'EAI_AGAIN')
    return { code: STARTUP_ERRORS.LISTEN_ADDRESS_UNAVAILABLE, exitCode: EXIT.LISTEN, line: `${listen.host} is not an address of this machine: listen on 127.0.0.1 (the default) or one of this machine's addresses with --listen HOST:PORT` };
  if (isYikaError(e) && /CONFIG/.test(e.code)) return { code: e.code, exitCode: EXIT.CONFIG, line: `${e.message} (yikad --help lists the options; yikad --print-config-schema the file's keys)` };
  return { code: isYikaError(e) ? e.code : undefined, exitCode: EXIT.UNEXPECTED, line: `cannot start: ${(e as Error)?.message ?? String(e)} (an unexpected error: the log above has the details)` };
}

/** How a configured device looks before the backends start. */
export interface DeviceCheck {
  /** A line to show (the daemon goes on and waits for the device). */
  warning?: string;
  /** Fatal: the device is there but can never be opened by this process. */
  error?: StartupError;
}

/**
 * Checks a configured serial port before the daemon starts. Missing: not fatal (readers are
 * hot-plugged; the daemon waits for it) but said plainly. Present and not openable by this user:
 * fatal, since group membership only changes with a new process.
 */
export interface PortFs {
  exists(p: string): boolean;
  canReadWrite(p: string): boolean;
  /** Owner, group (names when known) and mode of the device node. */
  owner(p: string): { user: string; group: string; mode: string } | undefined;
}

export function checkSerialPort(path: string, fs: PortFs = realFs): DeviceCheck {
  if (!fs.exists(path)) {
    return { warning: `serial port ${path} does not exist (yet): plug in the reader or correct the path (ls -l /dev/serial/by-id/ lists them); yikad waits for it` };
  }
  if (!fs.canReadWrite(path)) {
    const o = fs.owner(path);
    const group = o?.group ?? 'dialout';
    return {
      error: new StartupError(
        'DEVICE_PERMISSION_DENIED',
        `no permission to open serial port ${path}${o ? ` (owner ${o.user}, group ${o.group}, mode ${o.mode})` : ''}: add the daemon's user to group ${group} (sudo usermod -aG ${group} USER, then start again from a new login) or install Yika's udev rule; yika doctor explains`,
        EXIT.DEVICE,
        { path },
      ),
    };
  }
  return {};
}

const realFs = {
  exists: (p: string) => existsSync(p),
  canReadWrite: (p: string) => {
    try {
      accessSync(p, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  owner: (p: string) => {
    try {
      const st = statSync(p);
      return { user: nameOf('/etc/passwd', st.uid), group: nameOf('/etc/group', st.gid), mode: (st.mode & 0o777).toString(8).padStart(4, '0') };
    } catch {
      return undefined;
    }
  },
};

/** The name for a uid/gid from /etc/passwd or /etc/group (name:x:id:…), else the number. */
function nameOf(file: string, id: number): string {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === id) return f[0];
    }
  } catch {
    // no such file: fall back to the number
  }
  return String(id);
}
