// The real facts for `yika doctor`: accounts, serial ports (stat, USB ids from sysfs), processes and
// their open descriptors (/proc/PID/fd), udev rules, installed programs, pcscd and its readers.
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PCSCD_SOCKET } from '../../devices/pcscd-launcher.ts';
import type { PcscCardReader, PcscContext } from '../../devices/pcsclite-types.ts';
import { UDEV_RULES_DIRS } from '../../devices/udev-rules.ts';
import type { Identity, PcscFacts, PcscListing, PortFacts, ProcessScan, RulesFile, ServiceFacts } from './doctor-checks.ts';
import { parseGroup, parsePasswd } from './doctor-checks.ts';

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function accounts() {
  return { accounts: parsePasswd(readText('/etc/passwd')), groups: parseGroup(readText('/etc/group')) };
}

/** This process's identity (its real groups, not /etc/group: a login picks up new groups only later). */
export function callerIdentity(users: ReturnType<typeof parsePasswd>): Identity {
  const uid = process.getuid?.() ?? -1;
  const gids = [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])];
  return { user: users.find((a) => a.uid === uid)?.name ?? String(uid), uid, gids: [...new Set(gids)] };
}

/** USB serial ports present now (ttyUSB*, ttyACM*). */
export function usbSerialPorts(): string[] {
  try {
    return readdirSync('/dev')
      .filter((n) => /^tty(USB|ACM)\d+$/.test(n))
      .map((n) => `/dev/${n}`);
  } catch {
    return [];
  }
}

/** The USB vendor/product id above a tty in sysfs (/sys/class/tty/ttyUSB0/device/… up to the USB device). */
function usbIdsOf(devPath: string): PortFacts['usb'] {
  try {
    let dir = realpathSync(join('/sys/class/tty', basename(devPath), 'device'));
    for (let i = 0; i < 6 && dir !== '/'; i++, dir = dirname(dir)) {
      if (existsSync(join(dir, 'idVendor')) && existsSync(join(dir, 'idProduct'))) {
        return { vendorId: readText(join(dir, 'idVendor')).trim(), productId: readText(join(dir, 'idProduct')).trim() };
      }
    }
  } catch {
    // not in sysfs (a PTY) or no USB parent
  }
  return undefined;
}

export function portFacts(path: string): PortFacts {
  let realPath: string | undefined;
  try {
    realPath = realpathSync(path);
  } catch {
    return { path };
  }
  try {
    const st = statSync(realPath);
    return { path, realPath, stat: { uid: st.uid, gid: st.gid, mode: st.mode }, usb: usbIdsOf(realPath) };
  } catch {
    return { path, realPath };
  }
}

export function canAccess(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every process with its name, command line and descriptor targets; counts those we may not inspect. */
export function scanProcesses(): ProcessScan {
  const processes: ProcessScan['processes'] = [];
  let hidden = 0;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return { processes, hidden };
  }
  for (const pid of pids) {
    const base = `/proc/${pid}`;
    const name = readText(`${base}/comm`).trim();
    const cmdline = readText(`${base}/cmdline`).replace(/\0/g, ' ').trim();
    let fds: string[] = [];
    try {
      fds = readdirSync(`${base}/fd`).map((fd) => {
        try {
          return readlinkSync(`${base}/fd/${fd}`);
        } catch {
          return '';
        }
      });
    } catch {
      if (name) hidden++;
    }
    if (name) processes.push({ pid: Number(pid), name, cmdline, fds: fds.filter(Boolean) });
  }
  return { processes, hidden };
}

export function udevRules(): RulesFile[] {
  const out: RulesFile[] = [];
  for (const dir of UDEV_RULES_DIRS) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.rules'));
    } catch {
      continue;
    }
    for (const f of files) out.push({ file: join(dir, f), text: readText(join(dir, f)) });
  }
  return out;
}

function installed(names: string[]): boolean {
  return names.some((n) => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, n))));
}

export function service(binaries: string[], processNames: RegExp, scan: ProcessScan): ServiceFacts {
  return { installed: installed(binaries), running: scan.processes.some((p) => processNames.test(p.name)) };
}

export function pcscFacts(): PcscFacts {
  let socket: PcscFacts['socket'];
  try {
    const st = statSync(PCSCD_SOCKET);
    socket = { uid: st.uid, gid: st.gid, mode: st.mode };
  } catch {
    socket = undefined;
  }
  let drivers: string[] = [];
  try {
    drivers = readdirSync('/usr/lib/pcsc/drivers').flatMap((d) => (d === 'serial' ? readdirSync('/usr/lib/pcsc/drivers/serial').map((s) => `serial/${s}`) : [d]));
  } catch {
    // no drivers directory
  }
  return { pcscdInstalled: installed(['pcscd']), socket, drivers };
}

/**
 * The reader names pcscd reports, through the pcsclite addon (loaded only here, on the main thread).
 * pcsclite reports readers one event at a time and never says "that is all": collect until no new one
 * came for `quietMs`, at most `maxMs`.
 */
export async function listPcscReaders(load: () => { factory?: () => unknown; error?: string }, quietMs = 400, maxMs = 2500): Promise<PcscListing> {
  const addon = load();
  if (!addon.factory) return { error: addon.error ?? 'the pcsclite addon did not load', fix: 'npm rebuild pcsclite (needs libpcsclite-dev), or reinstall Yika' };
  let ctx: PcscContext;
  try {
    ctx = addon.factory() as PcscContext;
  } catch (e) {
    return { error: `pcscd does not answer (${(e as Error).message.split('\n')[0]})`, fix: 'sudo systemctl start pcscd.socket' };
  }
  const readers: PcscCardReader[] = [];
  let error: string | undefined;
  await new Promise<void>((resolve) => {
    const end = Date.now() + maxMs;
    let last = Date.now();
    ctx.on('reader', (r) => {
      readers.push(r);
      last = Date.now();
    });
    ctx.on('error', (e) => {
      error = String((e as Error)?.message ?? e);
    });
    const tick = setInterval(() => {
      if (error || Date.now() - last >= quietMs || Date.now() >= end) {
        clearInterval(tick);
        resolve();
      }
    }, 50);
  });
  // Close every reader before the context: pcsclite's close() alone keeps the process alive.
  for (const r of readers) {
    try {
      r.close();
    } catch {
      // already gone
    }
  }
  try {
    ctx.on('error', () => {});
    ctx.close();
  } catch {
    // already closed
  }
  if (error && !readers.length) return { error: `pcscd: ${error}` };
  return { readers: readers.map((r) => r.name) };
}
