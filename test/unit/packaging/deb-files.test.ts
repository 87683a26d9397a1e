// The Debian package's files, checked without building it (packaging/deb/ci-check.sh installs the real
// package): the configuration file passes the daemon's own validator, commented or not; the udev rules
// cover every reader of the device table; control and wrappers say what the build relies on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { applyConfigDocument, defaultConfig } from '../../../daemon/config/config-schema.ts';
import { apiConfigOf, loadConfig, parseDaemonFlags } from '../../../daemon/config/load-config.ts';
import { USB_SERIAL_READERS } from '../../../daemon/devices/device-table.ts';
import { rulesCover, udevRuleLine, udevRulesFile } from '../../../daemon/devices/udev-rules.ts';
import { controlFile, DEB_PATHS, debianVersion, wrapperScript } from '../../../packaging/deb/deb-files.ts';

const dir = new URL('../../../packaging/deb/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');
const yaml = read('yikad.yaml');

/** "#key: value" lines (a "#" followed by nothing or an even indentation, then YAML) become settings. */
function uncomment(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^#((?: {2})*)(?=\S)/, '$1'))
    .join('\n');
}

/** Leaf paths of a parsed YAML value ("devices.serial[1].path" …). */
function leaves(v: unknown, path = ''): Array<[string, unknown]> {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, `${path}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, path ? `${path}.${k}` : k));
  return [[path, v]];
}

function get(o: unknown, path: string): unknown {
  return path.split(/\.|\[(\d+)\]/).filter(Boolean).reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);
}

describe('/etc/yika/yikad.yaml', () => {
  it('loads as shipped: every setting commented, so the daemon runs on its defaults', () => {
    expect(parseYaml(yaml)).toBeNull();
    const c = loadConfig(parseDaemonFlags(['--config', new URL('yikad.yaml', dir).pathname]), {});
    expect(c).toEqual(loadConfig(parseDaemonFlags([]), {}));
  });

  it('is valid with every commented setting switched on, and each shown default is the real default', () => {
    const doc = parseYaml(uncomment(yaml)) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['api', 'devices', 'listen', 'log', 'qr', 'readers', 'sam']);
    const c = applyConfigDocument(defaultConfig(), doc, 'yikad.yaml');
    expect(() => apiConfigOf(c)).not.toThrow();
    // Examples (not defaults): values a clinic fills in.
    const examples = /^(devices\.serial|devices\.hostKeyFile|api\.allowedOrigins|api\.token|qr\.)/;
    const defaults = { ...defaultConfig(), listen: '127.0.0.1:7611', api: { rateLimit: { perSecond: 50, burst: 100 }, webPage: true } };
    const shown = leaves(doc).filter(([p]) => !examples.test(p));
    expect(shown.length).toBeGreaterThan(8);
    for (const [p, v] of shown) expect([p, v]).toEqual([p, get(defaults, p)]);
  });

  it('has no setting line the uncommenting would miss (a typo such as "# pcsc: true" is prose, and caught here)', () => {
    for (const line of yaml.split('\n').filter((l) => /^# \w+:\s/.test(l))) {
      expect(line, 'a prose comment that looks like a setting').toMatch(/^# [A-Z]/);
    }
  });
});

describe('udev rules from the device table', () => {
  it('gives every known reader to dialout with mode 0660 and hides it from ModemManager', () => {
    const text = udevRulesFile();
    expect(USB_SERIAL_READERS.length).toBeGreaterThan(0);
    for (const e of USB_SERIAL_READERS) {
      expect(text).toContain(`ATTRS{idVendor}=="${e.vendorId}", ATTRS{idProduct}=="${e.productId}", MODE="0660", GROUP="dialout", ENV{ID_MM_DEVICE_IGNORE}="1"`);
      expect(rulesCover(text, e.vendorId, e.productId)).toEqual({ covered: true, modemManagerIgnored: true });
    }
    expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(USB_SERIAL_READERS.length);
  });

  it('normalises ids and refuses a malformed one', () => {
    expect(udevRuleLine({ vendorId: '0x1A86', productId: '7523' })).toContain('ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523"');
    expect(() => udevRuleLine({ vendorId: 'zz', productId: '1' })).toThrow(RangeError);
  });

  it('tells a covering rule from a commented one or another device', () => {
    const line = udevRuleLine({ vendorId: '1a86', productId: '7523' });
    expect(rulesCover(line, '1A86', '7523').covered).toBe(true);
    expect(rulesCover(`# ${line}`, '1a86', '7523').covered).toBe(false);
    expect(rulesCover(line, '1a86', '7522').covered).toBe(false);
    expect(rulesCover('SUBSYSTEM=="tty", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", GROUP="dialout"', '1a86', '7523')).toEqual({ covered: true, modemManagerIgnored: false });
  });
});

describe('control file, wrappers, unit and maintainer scripts', () => {
  it('maps npm versions to Debian versions that sort right', () => {
    expect(debianVersion('0.1.0')).toBe('0.1.0-1');
    expect(debianVersion('1.0.0-rc.1')).toBe('1.0.0~rc.1-1');
    expect(() => debianVersion('one')).toThrow(RangeError);
    const r = spawnSync('dpkg', ['--compare-versions', '1.0.0~rc.1-1', 'lt', '1.0.0-1']);
    if (r.error === undefined) expect(r.status).toBe(0);
  });

  it('declares the runtime libraries and recommends pcscd', () => {
    const c = controlFile({ version: '0.1.0', arch: 'amd64', installedSizeKiB: 1234, nodeVersion: 'v20.20.2', description: 'Yika' });
    expect(c).toMatch(/^Package: yika\nVersion: 0\.1\.0-1\nArchitecture: amd64\n/);
    expect(c).toMatch(/^Depends: .*libc6 \(>= 2\.28\).*libstdc\+\+6.*libpcsclite1.*adduser/m);
    expect(c).toMatch(/^Recommends: pcscd, libccid, udev$/m);
    expect(c.endsWith('\n')).toBe(true);
    // Every continuation line of the description starts with a space (dpkg-deb rejects it otherwise).
    for (const l of c.split('\n').slice(c.split('\n').findIndex((x) => x.startsWith('Description:')) + 1).filter(Boolean)) expect(l).toMatch(/^ /);
  });

  it('runs the compiled bins with the bundled Node', () => {
    expect(wrapperScript('yikad')).toContain(`exec ${DEB_PATHS.node} ${DEB_PATHS.app}/bin/yikad.js "$@"`);
    expect(wrapperScript('yika')).toContain(`exec ${DEB_PATHS.node} ${DEB_PATHS.app}/bin/yika.js "$@"`);
  });

  it('has a hardened unit that reads /etc/yika/yikad.yaml', () => {
    const unit = read('yikad.service');
    for (const d of ['User=yika', 'SupplementaryGroups=dialout', 'ExecStart=/usr/bin/yikad --config /etc/yika/yikad.yaml', 'Restart=on-failure', 'RestartPreventExitStatus=2 3 6', 'StateDirectory=yika', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=', 'StandardOutput=journal', 'WantedBy=multi-user.target']) {
      expect(unit.split('\n')).toContain(d);
    }
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // V8's JIT
  });

  it('has maintainer scripts that parse and guard every systemctl call', () => {
    for (const s of ['postinst', 'prerm', 'postrm']) {
      const text = read(s);
      expect(spawnSync('sh', ['-n', new URL(s, dir).pathname]).status, s).toBe(0);
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (!/(^|;|then|&&)\s*systemctl\s/.test(line) || line.trim().startsWith('#')) return;
        // Either in a "[ -d /run/systemd/system ]" block opened just above, or an offline-safe --no-reload disable.
        const guarded = lines.slice(Math.max(0, i - 3), i).some((l) => l.includes('[ -d /run/systemd/system ]'));
        expect(line.includes('--no-reload disable') || guarded, `${s}: ${line}`).toBe(true);
      });
      expect(text).toMatch(/\[ -d \/run\/systemd\/system \]|--no-reload/);
    }
  });
});
