// yika doctor: checks what a desk needs — the configuration, the daemon, pcscd with its CCID driver and
// the readers it sees, serial ports (owner, group, mode, who holds them), the groups, udev rules,
// ModemManager and brltty — as the user who runs it or as the daemon's user (--as yika), and says how
// to fix each problem. The checks are pure functions (../doctor/doctor-checks.ts) of facts gathered here.
import { udevadmPath } from '../../devices/serial-backend.ts';
import { udevRulesFile } from '../../devices/udev-rules.ts';
import { checkConfigFile } from '../../config/load-config.ts';
import { optionHelp, type CliOptionTable } from '../../../common/cli-options.ts';
import { COMMON_HELP, client, parseCommand, print, printJson, table } from '../cli-args.ts';
import { checkBrltty, checkModemManager, checkPcscd, checkPcscReaders, checkPort, checkSerialGroup, checkUdevRules, identityOf, type Check, type Identity, type PcscListing } from '../doctor/doctor-checks.ts';
import { accounts, callerIdentity, canAccess, listPcscReaders, pcscFacts, portFacts, scanProcesses, service, udevRules, usbSerialPorts } from '../doctor/doctor-facts.ts';

export type { Check } from '../doctor/doctor-checks.ts';

const OPTIONS = {
  config: { type: 'string', arg: 'FILE', help: 'also check the configuration file and the serial ports it names' },
  as: { type: 'string', arg: 'USER', help: "judge permissions as USER (the daemon's user, e.g. yika) from /etc/passwd and /etc/group\ninstead of as the caller" },
  port: { type: 'string', multiple: true, arg: 'PATH', help: 'also check this serial port (repeatable); USB serial ports are always checked' },
  'udev-rules': { type: 'boolean', help: "print the udev rules for the readers in Yika's device table and exit" },
} as const satisfies CliOptionTable;

const HELP = `Usage: yika doctor [--config FILE] [--as USER] [--port PATH]... [--json]
       yika doctor --udev-rules
${optionHelp(OPTIONS)}

Exit code 1 when a check fails (a warning alone exits 0).

${COMMON_HELP}`;

export async function checkDaemon(url: string, token?: string): Promise<Check[]> {
  try {
    const api = client({ url, token, json: false });
    const health = await api.health();
    const out: Check[] = [{ check: 'daemon', status: 'ok', detail: `${url} answers (version ${health.version}, ${health.status})` }];
    for (const d of health.degraded) out.push({ check: d.component, status: 'warn', detail: d.reason });
    const readers = await api.readers();
    out.push({ check: 'readers', status: readers.length ? 'ok' : 'warn', detail: readers.length ? readers.map((r) => `${r.id} ${r.health}`).join(', ') : 'none', fix: readers.length ? undefined : 'plug a reader in, or start the daemon with --sim' });
    return out;
  } catch (e) {
    return [{ check: 'daemon', status: 'fail', detail: `${url} does not answer (${(e as Error).message})`, fix: 'start it: sudo systemctl start yikad, or yikad --sim for the simulated reader' }];
  }
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return print(HELP), 0;
  let c;
  let d;
  try {
    ({ c, values: d } = parseCommand(OPTIONS, args));
  } catch (e) {
    process.stderr.write(`yika doctor: ${(e as Error).message}\n`);
    return 2;
  }
  d.config ??= process.env.YIKA_CONFIG || undefined;
  if (d['udev-rules']) return print(udevRulesFile().trimEnd()), 0;

  const { accounts: users, groups } = accounts();
  let who: Identity;
  if (d.as) {
    const id = identityOf(d.as, users, groups);
    if (!id) {
      process.stderr.write(`yika doctor: no user "${d.as}" in /etc/passwd\n`);
      return 2;
    }
    who = id;
  } else who = callerIdentity(users);

  const checks: Check[] = [];
  let configured: string[] = [];
  if (d.config) {
    try {
      configured = checkConfigFile(d.config).devices.serial.map((s) => s.path);
      checks.push({ check: 'config', status: 'ok', detail: `${d.config}: valid` });
    } catch (e) {
      checks.push({ check: 'config', status: 'fail', detail: (e as Error).message, fix: 'fix the named key (yikad --print-config-schema shows the schema)' });
    }
  }
  checks.push(...(await checkDaemon(c.url, c.token)));

  const names = `${who.user} (uid ${who.uid}; groups ${who.gids.map((g) => groups.find((x) => x.gid === g)?.name ?? g).join(', ')})`;
  const service_ = users.some((u) => u.name === 'yika') && who.user !== 'yika' ? '; the service runs as yika: yika doctor --as yika' : '';
  checks.push({ check: 'checked as', status: 'ok', detail: `${names}${d.as ? ', from /etc/passwd and /etc/group' : ''}${service_}` });

  // PC/SC: pcscd, its socket, the CCID driver, the addon and the readers pcscd sees.
  const pcsc = pcscFacts();
  checks.push(...checkPcscd(pcsc, who, groups, users));
  const { loadPcsclite, PCSC_FIX } = await import('../../devices/pcsc-backend.ts');
  const addon = loadPcsclite();
  checks.push(addon.factory ? { check: 'PC/SC addon', status: 'ok', detail: 'pcsclite loads' } : { check: 'PC/SC addon', status: 'warn', detail: addon.error ?? 'not loaded', fix: PCSC_FIX });
  const listing: PcscListing = !pcsc.socket ? { error: 'pcscd is not running' } : await listPcscReaders(() => addon);
  checks.push(checkPcscReaders(listing));

  // Serial ports: permission as `who`, and who holds them.
  const scan = scanProcesses();
  const rules = udevRules();
  const found = usbSerialPorts();
  checks.push({ check: 'USB serial ports', status: 'ok', detail: found.length ? found.join(', ') : 'none plugged in' });
  for (const p of new Set([...d.port, ...configured, ...found])) {
    checks.push(...checkPort(portFacts(p), { who, accounts: users, groups, scan, rules, selfPid: process.pid, access: d.as ? undefined : canAccess }));
  }
  checks.push(checkSerialGroup(who, groups));
  const udevadm = udevadmPath();
  checks.push(
    udevadm
      ? { check: 'udevadm', status: 'ok', detail: `${udevadm} (serial discovery by USB id works)` }
      : { check: 'udevadm', status: 'warn', detail: 'missing: serial readers are found only from the config, not by USB id', fix: 'sudo apt install udev' },
  );
  checks.push(checkUdevRules(rules));
  checks.push(checkModemManager(service(['ModemManager'], /^ModemManager$/, scan), rules));
  checks.push(checkBrltty(service(['brltty'], /^brltty/, scan)));

  if (c.json) printJson({ as: who.user, checks });
  else print(table(['CHECK', 'STATUS', 'DETAIL', 'FIX'], checks.map((k) => [k.check, k.status.toUpperCase(), k.detail, k.fix ?? ''])));
  return checks.some((k) => k.status === 'fail') ? 1 : 0;
}
