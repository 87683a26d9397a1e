// yika doctor's checks on fake facts: accounts, port stat results, process lists, udev rules, installed
// programs. The real PTY (root-only, as nobody) is in test/integration/doctor-pty.test.ts.
import { describe, expect, it } from 'vitest';
import {
  checkBrltty,
  checkModemManager,
  checkPcscd,
  checkPcscReaders,
  checkPort,
  checkSerialGroup,
  checkUdevRules,
  holdersOf,
  identityOf,
  mayReadWrite,
  modeString,
  parseGroup,
  parsePasswd,
  type PortContext,
  type PortFacts,
  type ProcessScan,
} from '../../../daemon/cli/doctor/doctor-checks.ts';
import { udevRulesFile } from '../../../daemon/devices/udev-rules.ts';

const passwd = parsePasswd(['root:x:0:0:root:/root:/bin/bash', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', 'yika:x:103:110:Yika daemon:/var/lib/yika:/usr/sbin/nologin', 'desk:x:1000:1000:Front desk:/home/desk:/bin/bash', '# comment', ''].join('\n'));
const groups = parseGroup(['root:x:0:', 'tty:x:5:', 'dialout:x:20:yika', 'nogroup:x:65534:', 'yika:x:110:', 'desk:x:1000:', 'plugdev:x:46:desk,yika'].join('\n'));
const CHR = 0o020000;
const yika = identityOf('yika', passwd, groups)!;
const desk = identityOf('desk', passwd, groups)!;
const noScan: ProcessScan = { processes: [], hidden: 0 };
const ctx = (who = yika, extra: Partial<PortContext> = {}): PortContext => ({ who, accounts: passwd, groups, scan: noScan, rules: [], selfPid: 1, ...extra });
const tty = (path: string, uid: number, gid: number, perm: number, usb?: PortFacts['usb']): PortFacts => ({ path, realPath: path, stat: { uid, gid, mode: CHR | perm }, usb });

describe('accounts', () => {
  it('resolves a user with primary and supplementary groups, by name or uid', () => {
    expect(yika).toEqual({ user: 'yika', uid: 103, gids: [110, 20, 46] });
    expect(identityOf('1000', passwd, groups)).toEqual({ user: 'desk', uid: 1000, gids: [1000, 46] });
    expect(identityOf('ghost', passwd, groups)).toBeUndefined();
  });

  it('applies the kernel rule: owner bits for the owner even when the group may more', () => {
    expect(mayReadWrite({ uid: 0, gid: 20, mode: CHR | 0o660 }, yika)).toEqual({ ok: true, as: 'group' });
    expect(mayReadWrite({ uid: 103, gid: 20, mode: CHR | 0o060 }, yika)).toEqual({ ok: false, as: 'owner' });
    expect(mayReadWrite({ uid: 0, gid: 0, mode: CHR | 0o666 }, desk)).toEqual({ ok: true, as: 'other' });
    expect(mayReadWrite({ uid: 0, gid: 0, mode: CHR | 0o600 }, { user: 'root', uid: 0, gids: [0] })).toEqual({ ok: true, as: 'root' });
    expect(modeString(CHR | 0o620)).toBe('crw--w----');
  });
});

describe('serial port check', () => {
  it('a missing port: fail, with where to look', () => {
    const [c] = checkPort({ path: '/dev/ttyUSB7' }, ctx());
    expect(c).toMatchObject({ check: 'serial /dev/ttyUSB7', status: 'fail' });
    expect(c.fix).toMatch(/by-id/);
  });

  it('0660 root:dialout and the user not in dialout: owner, group, mode and "join the group"', () => {
    const [c] = checkPort(tty('/dev/ttyUSB0', 0, 20, 0o660), ctx(desk));
    expect(c.status).toBe('fail');
    expect(c.detail).toBe('crw-rw---- root:dialout (0660): desk cannot open it (desk is not root and not in group dialout, and others have no read+write)');
    expect(c.fix).toMatch(/^sudo usermod -aG dialout desk/);
    expect(checkPort(tty('/dev/ttyUSB0', 0, 20, 0o660), ctx(yika))[0]).toMatchObject({ status: 'ok', detail: expect.stringContaining('yika may open it (as group)') });
  });

  it('0600 root:root on a reader of the device table: the Yika udev rule (or, when installed, trigger/replug)', () => {
    const port = tty('/dev/ttyACM0', 0, 0, 0o600, { vendorId: '1209', productId: '7611' });
    const [c] = checkPort(port, ctx());
    expect(c.detail).toContain('crw------- root:root (0600): yika cannot open it');
    expect(c.fix).toContain(`ATTRS{idVendor}=="1209", ATTRS{idProduct}=="7611", MODE="0660", GROUP="dialout", ENV{ID_MM_DEVICE_IGNORE}="1"`);
    expect(c.fix).toContain('/etc/udev/rules.d/60-yika.rules');
    const [installed] = checkPort(port, ctx(yika, { rules: [{ file: '/lib/udev/rules.d/60-yika.rules', text: udevRulesFile() }] }));
    expect(installed.fix).toMatch(/^\/lib\/udev\/rules\.d\/60-yika\.rules covers this reader but the port did not get it: .*udevadm trigger/);
  });

  it('an unknown USB serial chip: a local rule with its own ids', () => {
    const [c] = checkPort(tty('/dev/ttyUSB1', 0, 0, 0o600, { vendorId: '1a86', productId: '7523' }), ctx());
    expect(c.fix).toContain('ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523"');
    expect(c.fix).toContain('61-yika-local.rules');
  });

  it('a port without USB id (PTY, on-board serial): chgrp/chmod, said to be temporary', () => {
    const [c] = checkPort({ path: '/tmp/x/a', realPath: '/dev/pts/3', stat: { uid: 0, gid: 5, mode: CHR | 0o620 } }, ctx());
    expect(c.detail).toBe('crw--w---- root:tty (0620) (/dev/pts/3): yika cannot open it (yika is not root and not in group tty, and others have no read+write)');
    expect(c.fix).toMatch(/sudo chgrp dialout \/dev\/pts\/3 && sudo chmod 0660 \/dev\/pts\/3 \(until reboot/);
  });

  it('for the caller, the kernel answer (access) wins over the mode bits (ACLs)', () => {
    const [c] = checkPort(tty('/dev/ttyUSB0', 0, 0, 0o600), ctx(desk, { access: () => true }));
    expect(c).toMatchObject({ status: 'ok', detail: expect.stringContaining('through an ACL') });
  });

  it('names the process that holds the port, by path or by the device it resolves to', () => {
    const port: PortFacts = { path: '/dev/serial/by-id/usb-Yika-if00', realPath: '/dev/ttyUSB0', stat: { uid: 0, gid: 20, mode: CHR | 0o660 } };
    const scan: ProcessScan = {
      processes: [
        { pid: 1, name: 'yika', cmdline: 'node yika doctor', fds: ['/dev/ttyUSB0'] },
        { pid: 812, name: 'minicom', cmdline: 'minicom -D /dev/ttyUSB0', fds: ['/dev/pts/0', '/dev/ttyUSB0'] },
        { pid: 900, name: 'bash', cmdline: 'bash', fds: ['/dev/pts/0'] },
      ],
      hidden: 0,
    };
    expect(holdersOf(port, scan, 1).map((p) => p.pid)).toEqual([812]);
    const [, inUse] = checkPort(port, ctx(yika, { scan }));
    expect(inUse).toMatchObject({ check: 'serial /dev/serial/by-id/usb-Yika-if00 in use', status: 'fail', detail: expect.stringContaining('minicom (pid 812)') });
    expect(inUse.fix).toContain('close minicom (kill 812)');
  });

  it('ModemManager or brltty holding it: their own fix; the Yika daemon holding it: fine', () => {
    const port = tty('/dev/ttyACM0', 0, 20, 0o660);
    const mm: ProcessScan = { processes: [{ pid: 500, name: 'ModemManager', cmdline: '/usr/sbin/ModemManager', fds: ['/dev/ttyACM0'] }], hidden: 0 };
    expect(checkPort(port, ctx(yika, { scan: mm }))[1].fix).toMatch(/ID_MM_DEVICE_IGNORE.*systemctl disable --now ModemManager/);
    const br: ProcessScan = { processes: [{ pid: 501, name: 'brltty', cmdline: '/bin/brltty', fds: ['/dev/ttyACM0'] }], hidden: 0 };
    expect(checkPort(port, ctx(yika, { scan: br }))[1].fix).toMatch(/apt remove brltty/);
    const own: ProcessScan = { processes: [{ pid: 600, name: 'node', cmdline: '/usr/lib/yika/node /usr/lib/yika/app/bin/yikad.js --config /etc/yika/yikad.yaml', fds: ['/dev/ttyACM0'] }], hidden: 0 };
    expect(checkPort(port, ctx(yika, { scan: own }))[1]).toMatchObject({ status: 'ok', detail: expect.stringContaining('Yika daemon (pid 600)') });
  });

  it('says when other users\' processes could not be inspected', () => {
    const [, c] = checkPort(tty('/dev/ttyUSB0', 0, 20, 0o660), ctx(yika, { scan: { processes: [], hidden: 42 } }));
    expect(c).toMatchObject({ status: 'ok', detail: expect.stringContaining('42 processes of other users not inspected (run as root') });
  });
});

describe('groups, udev, ModemManager, brltty', () => {
  it('dialout membership', () => {
    expect(checkSerialGroup(yika, groups).status).toBe('ok');
    expect(checkSerialGroup(desk, groups)).toMatchObject({ status: 'warn', fix: expect.stringContaining('usermod -aG dialout desk') });
    expect(checkSerialGroup({ user: 'root', uid: 0, gids: [0] }, groups).status).toBe('ok');
  });

  it('udev rules: missing, without ModemManager ignore, complete', () => {
    expect(checkUdevRules([])).toMatchObject({ status: 'warn', fix: expect.stringContaining('yika doctor --udev-rules') });
    const noMm = udevRulesFile().replace(/, ENV\{ID_MM_DEVICE_IGNORE\}="1"/g, '');
    expect(checkUdevRules([{ file: '/etc/udev/rules.d/99-old.rules', text: noMm }])).toMatchObject({ status: 'warn', detail: expect.stringContaining('no ID_MM_DEVICE_IGNORE') });
    expect(checkUdevRules([{ file: '/lib/udev/rules.d/60-yika.rules', text: udevRulesFile() }])).toEqual({ check: 'udev rule', status: 'ok', detail: '/lib/udev/rules.d/60-yika.rules' });
  });

  it('ModemManager: absent, stopped, running without and with the rule', () => {
    expect(checkModemManager({ installed: false, running: false }, [])).toMatchObject({ status: 'ok', detail: 'not installed' });
    expect(checkModemManager({ installed: true, running: false }, [])).toMatchObject({ status: 'ok', detail: 'installed, not running' });
    expect(checkModemManager({ installed: true, running: true }, [])).toMatchObject({ status: 'warn', fix: expect.stringContaining('disable --now ModemManager') });
    expect(checkModemManager({ installed: true, running: true }, [{ file: 'f', text: udevRulesFile() }]).status).toBe('ok');
  });

  it('brltty: installed is already a warning (its udev rules grab USB serial chips)', () => {
    expect(checkBrltty({ installed: false, running: false }).status).toBe('ok');
    expect(checkBrltty({ installed: true, running: false })).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^installed: .*1a86:7523/), fix: expect.stringContaining('apt remove brltty') });
    expect(checkBrltty({ installed: true, running: true }).detail).toMatch(/^running/);
  });
});

describe('PC/SC', () => {
  const socket = { uid: 0, gid: 0, mode: 0o140000 | 0o666 };
  it('pcscd missing, stopped, running with a world-accessible socket, or a socket the user may not use', () => {
    expect(checkPcscd({ pcscdInstalled: false, drivers: [] }, yika, groups, passwd)[0]).toMatchObject({ status: 'warn', fix: 'sudo apt install pcscd libccid' });
    expect(checkPcscd({ pcscdInstalled: true, drivers: [] }, yika, groups, passwd)[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining('not running') });
    expect(checkPcscd({ pcscdInstalled: true, socket, drivers: ['ifd-ccid.bundle'] }, yika, groups, passwd)[0]).toMatchObject({ status: 'ok', detail: expect.stringContaining('every local user may use it') });
    const closed = checkPcscd({ pcscdInstalled: true, socket: { uid: 0, gid: 46, mode: 0o140000 | 0o660 }, drivers: [] }, { user: 'nobody', uid: 65534, gids: [65534] }, groups, passwd)[0];
    expect(closed).toMatchObject({ status: 'fail', fix: 'sudo usermod -aG plugdev nobody' });
  });

  it('the CCID driver bundle', () => {
    expect(checkPcscd({ pcscdInstalled: true, socket, drivers: ['ifd-ccid.bundle', 'serial/libifdvpcd.so'] }, yika, groups, passwd)[1]).toMatchObject({ check: 'CCID driver', status: 'ok', detail: expect.stringContaining('also serial/libifdvpcd.so') });
    expect(checkPcscd({ pcscdInstalled: true, socket, drivers: ['serial/libifdvpcd.so'] }, yika, groups, passwd)[1]).toMatchObject({ status: 'warn', fix: expect.stringContaining('apt install libccid') });
  });

  it('the readers pcscd sees', () => {
    expect(checkPcscReaders({ readers: ['Virtual PCD 00 00', 'Virtual PCD 00 01'] })).toEqual({ check: 'PC/SC readers', status: 'ok', detail: 'Virtual PCD 00 00, Virtual PCD 00 01' });
    expect(checkPcscReaders({ readers: [] })).toMatchObject({ status: 'warn', detail: 'pcscd sees no reader' });
    expect(checkPcscReaders({ error: 'pcscd is not running' })).toMatchObject({ status: 'warn', detail: 'pcscd is not running' });
  });
});
