// The checks of `yika doctor` as pure functions of the facts (accounts, port stat results, processes,
// udev rules, installed programs): unit tests feed fake facts, doctor-facts.ts gathers the real ones.
import { USB_SERIAL_READERS, usbSerialEntry } from '../../devices/device-table.ts';
import { rulesCover, SERIAL_GROUP, udevRuleLine, UDEV_RULES_NAME } from '../../devices/udev-rules.ts';

export interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Whose permissions are checked: the caller, or the daemon's user (`--as yika`). */
export interface Identity {
  user: string;
  uid: number;
  /** The primary group and every supplementary group. */
  gids: number[];
}

export interface PortStat {
  uid: number;
  gid: number;
  /** st_mode (type and permission bits). */
  mode: number;
}

/** A process and the targets of its open file descriptors (/proc/PID/fd/* links). */
export interface ProcInfo {
  pid: number;
  name: string;
  cmdline: string;
  fds: string[];
}

export interface ProcessScan {
  processes: ProcInfo[];
  /** Processes whose descriptors could not be read (other users' processes when not root). */
  hidden: number;
}

export interface RulesFile {
  file: string;
  text: string;
}

export interface PortFacts {
  /** The path as configured or found (/dev/ttyUSB0, /dev/serial/by-id/…, a socat link). */
  path: string;
  /** The device node it resolves to. */
  realPath?: string;
  /** Absent: the path does not exist. */
  stat?: PortStat;
  /** The USB vendor/product id of the port's device (sysfs), when it is a USB serial port. */
  usb?: { vendorId: string; productId: string };
}

export function parsePasswd(text: string): Account[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }))
    .filter((a) => Number.isInteger(a.uid) && Number.isInteger(a.gid));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }))
    .filter((g) => Number.isInteger(g.gid));
}

/** A user's identity from the account databases, as login (initgroups) would give it; by name or uid. */
export function identityOf(user: string, accounts: Account[], groups: GroupEntry[]): Identity | undefined {
  const a = accounts.find((x) => x.name === user) ?? (/^\d+$/.test(user) ? accounts.find((x) => x.uid === Number(user)) : undefined);
  if (!a) return undefined;
  const gids = [a.gid, ...groups.filter((g) => g.members.includes(a.name)).map((g) => g.gid)];
  return { user: a.name, uid: a.uid, gids: [...new Set(gids)] };
}

function userName(uid: number, accounts: Account[]): string {
  return accounts.find((a) => a.uid === uid)?.name ?? String(uid);
}

function groupName(gid: number, groups: GroupEntry[]): string {
  return groups.find((g) => g.gid === gid)?.name ?? String(gid);
}

/** "crw-rw----" from st_mode. */
export function modeString(mode: number): string {
  const type = (mode & 0o170000) === 0o020000 ? 'c' : (mode & 0o170000) === 0o140000 ? 's' : (mode & 0o170000) === 0o040000 ? 'd' : '-';
  const bits = ['r', 'w', 'x'];
  let out = type;
  for (let shift = 6; shift >= 0; shift -= 3) for (let b = 0; b < 3; b++) out += mode & (1 << (shift + 2 - b)) ? bits[b] : '-';
  return out;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Whether `who` may open the file for reading and writing, by the kernel's rule: root may; else the
 * owner bits apply to the owner (even when the group bits would allow more), the group bits to members
 * of the file's group, the other bits to everyone else. (POSIX ACLs are not evaluated.)
 */
export function mayReadWrite(st: PortStat, who: Identity): { ok: boolean; as: 'root' | 'owner' | 'group' | 'other' } {
  if (who.uid === 0) return { ok: true, as: 'root' };
  if (st.uid === who.uid) return { ok: (st.mode & 0o600) === 0o600, as: 'owner' };
  if (who.gids.includes(st.gid)) return { ok: (st.mode & 0o060) === 0o060, as: 'group' };
  return { ok: (st.mode & 0o006) === 0o006, as: 'other' };
}

const isYikad = (p: ProcInfo) => /yikad|daemon\/main\.[jt]s/.test(p.cmdline);

/** Processes that have the port open (by its path or the device it resolves to), other than `selfPid`. */
export function holdersOf(port: PortFacts, scan: ProcessScan, selfPid = -1): ProcInfo[] {
  const targets = new Set([port.path, port.realPath].filter(Boolean) as string[]);
  return scan.processes.filter((p) => p.pid !== selfPid && p.fds.some((f) => targets.has(f)));
}

export interface PortContext {
  who: Identity;
  accounts: Account[];
  groups: GroupEntry[];
  scan: ProcessScan;
  rules: RulesFile[];
  selfPid?: number;
  /** For the caller itself: the kernel's own answer (access(2), ACLs included) instead of the mode bits. */
  access?: (path: string) => boolean;
}

function ruleInstalled(rules: RulesFile[], vendorId: string, productId: string): RulesFile | undefined {
  return rules.find((r) => rulesCover(r.text, vendorId, productId).covered);
}

/** Can `who` open the port, and if not: its owner, group and mode, and the fix that fits. Then: who holds it. */
export function checkPort(port: PortFacts, ctx: PortContext): Check[] {
  const name = `serial ${port.path}`;
  if (!port.stat) {
    return [{ check: name, status: 'fail', detail: 'does not exist (unplugged, or a wrong path)', fix: 'plug the reader in; `ls -l /dev/serial/by-id/` lists the USB serial ports by name' }];
  }
  const st = port.stat;
  const owner = userName(st.uid, ctx.accounts);
  const group = groupName(st.gid, ctx.groups);
  const where = port.realPath && port.realPath !== port.path ? ` (${port.realPath})` : '';
  const shown = `${modeString(st.mode)} ${owner}:${group} (${octal(st.mode)})`;
  const rule = mayReadWrite(st, ctx.who);
  const ok = ctx.access ? ctx.access(port.path) : rule.ok;
  const out: Check[] = [];
  if (ok) {
    out.push({ check: name, status: 'ok', detail: `${shown}${where}: ${ctx.who.user} may open it (${rule.ok ? `as ${rule.as}` : 'through an ACL'})` });
  } else {
    const why = rule.as === 'owner' ? 'the owner has no read+write' : rule.as === 'group' ? `group ${group} has no read+write` : `${ctx.who.user} is not ${owner} and not in group ${group}, and others have no read+write`;
    out.push({ check: name, status: 'fail', detail: `${shown}${where}: ${ctx.who.user} cannot open it (${why})`, fix: permissionFix(port, ctx, group) });
  }

  const holders = holdersOf(port, ctx.scan, ctx.selfPid);
  const daemon = holders.filter(isYikad);
  const others = holders.filter((p) => !isYikad(p));
  if (others.length) {
    const named = others.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
    out.push({ check: `${name} in use`, status: 'fail', detail: `already open in ${named}: a serial reader serves one program at a time`, fix: holderFix(others) });
  } else if (daemon.length) {
    out.push({ check: `${name} in use`, status: 'ok', detail: `open in the Yika daemon (pid ${daemon.map((p) => p.pid).join(', ')}): expected while it runs` });
  } else {
    const hidden = ctx.scan.hidden ? `; ${ctx.scan.hidden} processes of other users not inspected (run as root to see them)` : '';
    out.push({ check: `${name} in use`, status: 'ok', detail: `no other program has it open${hidden}` });
  }
  return out;
}

function permissionFix(port: PortFacts, ctx: PortContext, group: string): string {
  const st = port.stat as PortStat;
  const user = ctx.who.user;
  // The group may read+write: membership is the fix (the service also gets dialout from its unit).
  if ((st.mode & 0o060) === 0o060 && st.gid !== 0) {
    return `sudo usermod -aG ${group} ${user}, then log in again (for the service: sudo systemctl restart yikad)`;
  }
  const usb = port.usb;
  const dev = port.realPath ?? port.path;
  if (usb) {
    const known = usbSerialEntry(usb.vendorId, usb.productId);
    const installed = ruleInstalled(ctx.rules, usb.vendorId, usb.productId);
    if (installed) return `${installed.file} covers this reader but the port did not get it: sudo udevadm control --reload && sudo udevadm trigger --subsystem-match=tty (or replug the reader)`;
    const line = udevRuleLine(usb);
    const file = known ? `/etc/udev/rules.d/${UDEV_RULES_NAME}` : '/etc/udev/rules.d/61-yika-local.rules';
    return `${known ? 'install Yika\'s udev rule (the yika Debian package ships it) or ' : ''}give the reader to group ${SERIAL_GROUP}: echo '${line}' | sudo tee ${file} && sudo udevadm control --reload && sudo udevadm trigger --subsystem-match=tty; then sudo usermod -aG ${SERIAL_GROUP} ${user}`;
  }
  return `not a USB reader, so no udev rule by USB id: sudo chgrp ${SERIAL_GROUP} ${dev} && sudo chmod 0660 ${dev} (until reboot or replug; a udev rule by KERNEL name makes it permanent), and sudo usermod -aG ${SERIAL_GROUP} ${user}`;
}

function holderFix(holders: ProcInfo[]): string {
  const names = new Set(holders.map((p) => p.name));
  const fixes: string[] = [];
  if (names.has('ModemManager')) fixes.push("ModemManager probes new serial ports: Yika's udev rule sets ID_MM_DEVICE_IGNORE (install it and replug), or sudo systemctl disable --now ModemManager if this PC has no modem");
  if ([...names].some((n) => n.startsWith('brltty'))) fixes.push('brltty claims USB serial chips for Braille displays: sudo apt remove brltty (unless a Braille display is used here)');
  const rest = holders.filter((p) => p.name !== 'ModemManager' && !p.name.startsWith('brltty'));
  if (rest.length) fixes.push(`close ${rest.map((p) => `${p.name} (kill ${p.pid})`).join(', ')}, or use another port`);
  return fixes.join('; ');
}

/** The groups the daemon's user needs: dialout for serial readers (root needs none). */
export function checkSerialGroup(who: Identity, groups: GroupEntry[]): Check {
  const dialout = groups.find((g) => g.name === SERIAL_GROUP);
  if (who.uid === 0) return { check: `${SERIAL_GROUP} group`, status: 'ok', detail: `${who.user} is root and may open every port` };
  if (!dialout) return { check: `${SERIAL_GROUP} group`, status: 'warn', detail: `no group ${SERIAL_GROUP} on this system`, fix: `sudo groupadd --system ${SERIAL_GROUP}` };
  return who.gids.includes(dialout.gid)
    ? { check: `${SERIAL_GROUP} group`, status: 'ok', detail: `${who.user} is in ${SERIAL_GROUP}` }
    : { check: `${SERIAL_GROUP} group`, status: 'warn', detail: `${who.user} is not in ${SERIAL_GROUP} (the group of serial ports)`, fix: `sudo usermod -aG ${SERIAL_GROUP} ${who.user}, then log in again` };
}

/** Whether an installed rules file covers every reader of the device table (group + ModemManager ignore). */
export function checkUdevRules(rules: RulesFile[]): Check {
  const missing = USB_SERIAL_READERS.filter((e) => !ruleInstalled(rules, e.vendorId, e.productId));
  const noMm = USB_SERIAL_READERS.filter((e) => {
    const r = ruleInstalled(rules, e.vendorId, e.productId);
    return r && !rulesCover(r.text, e.vendorId, e.productId).modemManagerIgnored;
  });
  const files = [...new Set(USB_SERIAL_READERS.map((e) => ruleInstalled(rules, e.vendorId, e.productId)?.file).filter(Boolean))];
  if (missing.length) {
    return {
      check: 'udev rule',
      status: 'warn',
      detail: `no udev rule gives ${missing.map((e) => `${e.vendorId}:${e.productId}`).join(', ')} (Yika protocol readers) to group ${SERIAL_GROUP}`,
      fix: `install the yika Debian package, or: yika doctor --udev-rules | sudo tee /etc/udev/rules.d/${UDEV_RULES_NAME} && sudo udevadm control --reload`,
    };
  }
  if (noMm.length) return { check: 'udev rule', status: 'warn', detail: `${files.join(', ')}: no ID_MM_DEVICE_IGNORE, ModemManager may probe the readers`, fix: `yika doctor --udev-rules | sudo tee /etc/udev/rules.d/${UDEV_RULES_NAME}` };
  return { check: 'udev rule', status: 'ok', detail: files.join(', ') };
}

export interface ServiceFacts {
  installed: boolean;
  running: boolean;
}

export function checkModemManager(mm: ServiceFacts, rules: RulesFile[]): Check {
  if (!mm.installed && !mm.running) return { check: 'ModemManager', status: 'ok', detail: 'not installed' };
  if (!mm.running) return { check: 'ModemManager', status: 'ok', detail: 'installed, not running' };
  const ignored = USB_SERIAL_READERS.every((e) => {
    const r = ruleInstalled(rules, e.vendorId, e.productId);
    return r && rulesCover(r.text, e.vendorId, e.productId).modemManagerIgnored;
  });
  return ignored
    ? { check: 'ModemManager', status: 'ok', detail: "running; Yika's udev rule tells it to leave the readers alone (ID_MM_DEVICE_IGNORE)" }
    : {
        check: 'ModemManager',
        status: 'warn',
        detail: 'running: it opens every new ttyUSB/ttyACM port and sends AT commands for seconds after plug-in, so a reader can be busy or confused',
        fix: "install Yika's udev rule (ID_MM_DEVICE_IGNORE) and replug, or sudo systemctl disable --now ModemManager if this PC has no modem",
      };
}

export function checkBrltty(b: ServiceFacts): Check {
  if (!b.installed && !b.running) return { check: 'brltty', status: 'ok', detail: 'not installed' };
  return {
    check: 'brltty',
    status: 'warn',
    detail: `${b.running ? 'running' : 'installed'}: its udev rules claim common USB serial chips (CH340/CH341 1a86:7523, CP210x 10c4:ea60 …) for Braille displays, and the reader's ttyUSB port disappears right after plug-in`,
    fix: 'sudo apt remove brltty (unless a Braille display is used on this PC), or sudo systemctl mask brltty-udev.service',
  };
}

export interface PcscFacts {
  pcscdInstalled: boolean;
  socket?: PortStat;
  /** Driver bundles in /usr/lib/pcsc/drivers (ifd-ccid.bundle, serial/…). */
  drivers: string[];
}

export function checkPcscd(p: PcscFacts, who: Identity, groups: GroupEntry[], accounts: Account[]): Check[] {
  const out: Check[] = [];
  if (!p.pcscdInstalled) out.push({ check: 'pcscd', status: 'warn', detail: 'pcscd is not installed (needed for PC/SC readers only)', fix: 'sudo apt install pcscd libccid' });
  else if (!p.socket) out.push({ check: 'pcscd', status: 'warn', detail: 'installed, not running (no socket /run/pcscd/pcscd.comm)', fix: 'sudo systemctl start pcscd.socket (or pcscd --foreground in a terminal)' });
  else {
    const access = mayReadWrite(p.socket, who);
    const open = (p.socket.mode & 0o006) === 0o006;
    out.push(
      access.ok
        ? { check: 'pcscd', status: 'ok', detail: `running; socket ${modeString(p.socket.mode)}${open ? ': every local user may use it, no group needed' : ` ${userName(p.socket.uid, accounts)}:${groupName(p.socket.gid, groups)}`}` }
        : { check: 'pcscd', status: 'fail', detail: `running, but ${who.user} may not use its socket (${modeString(p.socket.mode)} ${userName(p.socket.uid, accounts)}:${groupName(p.socket.gid, groups)})`, fix: `sudo usermod -aG ${groupName(p.socket.gid, groups)} ${who.user}` },
    );
  }
  const ccid = p.drivers.includes('ifd-ccid.bundle');
  out.push(
    ccid
      ? { check: 'CCID driver', status: 'ok', detail: `/usr/lib/pcsc/drivers/ifd-ccid.bundle${p.drivers.length > 1 ? ` (also ${p.drivers.filter((d) => d !== 'ifd-ccid.bundle').join(', ')})` : ''}` }
      : { check: 'CCID driver', status: 'warn', detail: `no ifd-ccid.bundle in /usr/lib/pcsc/drivers${p.drivers.length ? ` (only ${p.drivers.join(', ')})` : ''}: pcscd does not see USB CCID readers (almost every PC/SC desk reader)`, fix: 'sudo apt install libccid, then sudo systemctl restart pcscd' },
  );
  return out;
}

/** What pcscd reports: reader names, or why they could not be listed. */
export type PcscListing = { readers: string[] } | { error: string; fix?: string };

export function checkPcscReaders(listing: PcscListing): Check {
  if ('error' in listing) return { check: 'PC/SC readers', status: 'warn', detail: listing.error, fix: listing.fix ?? 'start pcscd (sudo systemctl start pcscd.socket)' };
  if (!listing.readers.length) return { check: 'PC/SC readers', status: 'warn', detail: 'pcscd sees no reader', fix: 'plug the reader in; no reader with one plugged in: check the CCID driver above, then `pcsc_scan -n` (package pcsc-tools)' };
  return { check: 'PC/SC readers', status: 'ok', detail: listing.readers.join(', ') };
}

