// yika doctor: checks what a desk needs — the daemon, pcscd and the PC/SC addon, serial ports and
// their permissions, udev, the configured devices — and says how to fix each problem.
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { COMMON_HELP, client, parseCommon, print, printJson, table } from '../cli-args.ts';
import { loadPcsclite, PCSC_FIX } from '../../devices/pcsc-backend.ts';
import { udevadmPath } from '../../devices/serial-backend.ts';
import { USB_SERIAL_READERS } from '../../devices/device-table.ts';
import { loadConfig, parseDaemonFlags } from '../../config/load-config.ts';

const HELP = `Usage: yika doctor [--config FILE] [--json]\n  --config FILE  also check the devices configured in the daemon's config file\n\n${COMMON_HELP}`;

export interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const UDEV_RULE = USB_SERIAL_READERS.map((e) => `SUBSYSTEM=="tty", ATTRS{idVendor}=="${e.vendorId}", ATTRS{idProduct}=="${e.productId}", MODE="0660", GROUP="dialout"`).join('\\n');

function binary(name: string): string | undefined {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

export function checkPcsc(): Check[] {
  const out: Check[] = [];
  const pcscd = binary('pcscd');
  if (!pcscd) out.push({ check: 'pcscd installed', status: 'warn', detail: 'pcscd is not installed (needed for PC/SC readers only)', fix: 'apt-get install pcscd' });
  else {
    out.push({ check: 'pcscd installed', status: 'ok', detail: pcscd });
    const running = existsSync('/run/pcscd/pcscd.comm');
    out.push(
      running
        ? { check: 'pcscd running', status: 'ok', detail: '/run/pcscd/pcscd.comm' }
        : { check: 'pcscd running', status: 'warn', detail: 'no socket /run/pcscd/pcscd.comm', fix: 'systemctl start pcscd (or pcscd --foreground in a terminal)' },
    );
  }
  const addon = loadPcsclite();
  out.push(addon.factory ? { check: 'PC/SC addon', status: 'ok', detail: 'pcsclite loads' } : { check: 'PC/SC addon', status: 'warn', detail: addon.error ?? 'not loaded', fix: PCSC_FIX });
  return out;
}

function portAccess(path: string): Check {
  if (!existsSync(path)) return { check: `serial ${path}`, status: 'fail', detail: 'does not exist (unplugged, or a wrong path)', fix: 'plug the reader in; check `ls /dev/ttyUSB* /dev/ttyACM*`' };
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return { check: `serial ${path}`, status: 'ok', detail: 'exists, readable and writable' };
  } catch {
    return { check: `serial ${path}`, status: 'fail', detail: 'permission denied for this user', fix: 'sudo usermod -aG dialout $USER, then log out and in again' };
  }
}

export function checkSerial(configured: string[]): Check[] {
  const out: Check[] = [];
  let found: string[] = [];
  try {
    found = readdirSync('/dev').filter((n) => /^tty(USB|ACM)\d+$/.test(n)).map((n) => `/dev/${n}`);
  } catch {
    // no /dev (unusual)
  }
  out.push({ check: 'USB serial ports', status: 'ok', detail: found.length ? found.join(', ') : 'none plugged in' });
  for (const p of new Set([...configured, ...found])) out.push(portAccess(p));
  const udevadm = udevadmPath();
  out.push(
    udevadm
      ? { check: 'udevadm', status: 'ok', detail: `${udevadm} (serial discovery by USB id works)` }
      : { check: 'udevadm', status: 'warn', detail: 'missing: serial readers are found only from the config, not by USB id', fix: 'apt-get install udev' },
  );
  let rules: string[] = [];
  try {
    rules = readdirSync('/etc/udev/rules.d').filter((f) => readFileSync(`/etc/udev/rules.d/${f}`, 'utf8').includes(USB_SERIAL_READERS[0]?.vendorId ?? '----'));
  } catch {
    // no rules directory
  }
  out.push(
    rules.length
      ? { check: 'udev rule', status: 'ok', detail: rules.join(', ') }
      : { check: 'udev rule', status: 'warn', detail: 'no rule gives the dialout group access to Yika protocol readers', fix: `echo '${UDEV_RULE}' | sudo tee /etc/udev/rules.d/60-yika.rules && sudo udevadm control --reload` },
  );
  const groups = spawnSync('id', ['-Gn'], { encoding: 'utf8' }).stdout ?? '';
  if (process.getuid?.() !== 0 && !groups.split(/\s+/).includes('dialout')) {
    out.push({ check: 'dialout group', status: 'warn', detail: 'this user is not in the dialout group', fix: 'sudo usermod -aG dialout $USER, then log out and in again' });
  }
  return out;
}

export async function checkDaemon(url: string, token?: string): Promise<Check[]> {
  try {
    const api = client({ url, token, json: false, rest: [] });
    const health = await api.health();
    const out: Check[] = [{ check: 'daemon', status: 'ok', detail: `${url} answers (version ${health.version}, ${health.status})` }];
    for (const d of health.degraded) out.push({ check: d.component, status: 'warn', detail: d.reason });
    const readers = await api.readers();
    out.push({ check: 'readers', status: readers.length ? 'ok' : 'warn', detail: readers.length ? readers.map((r) => `${r.id} ${r.health}`).join(', ') : 'none', fix: readers.length ? undefined : 'plug a reader in, or start the daemon with --sim' });
    return out;
  } catch (e) {
    return [{ check: 'daemon', status: 'fail', detail: `${url} does not answer (${(e as Error).message})`, fix: 'start it: npm start (simulated reader) or yikad' }];
  }
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  const c = parseCommon(args);
  const i = c.rest.indexOf('--config');
  const configFile = i >= 0 ? c.rest[i + 1] : process.env.YIKA_CONFIG;
  const checks: Check[] = [];
  let configured: string[] = [];
  if (configFile) {
    try {
      configured = loadConfig(parseDaemonFlags(['--config', configFile]), {}).devices.serial.map((s) => s.path);
      checks.push({ check: 'config', status: 'ok', detail: `${configFile}: valid` });
    } catch (e) {
      checks.push({ check: 'config', status: 'fail', detail: (e as Error).message, fix: 'fix the named key (yikad --print-config-schema shows the schema)' });
    }
  }
  checks.push(...(await checkDaemon(c.url, c.token)), ...checkPcsc(), ...checkSerial(configured));
  if (c.json) printJson({ checks });
  else print(table(['CHECK', 'STATUS', 'DETAIL', 'FIX'], checks.map((k) => [k.check, k.status.toUpperCase(), k.detail, k.fix ?? ''])));
  return checks.some((k) => k.status === 'fail') ? 1 : 0;
}
