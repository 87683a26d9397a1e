// The generated files of the Debian package (control, wrappers, docs): pure functions, so tests can
// check them without building a package. build-deb.ts writes them; the static ones (unit, maintainer
// scripts, yikad.yaml) live next to this file.

/** Where the package puts things. */
export const DEB_PATHS = {
  libDir: '/usr/lib/yika',
  node: '/usr/lib/yika/node',
  app: '/usr/lib/yika/app',
  config: '/etc/yika/yikad.yaml',
  unit: '/lib/systemd/system/yikad.service',
  udevRules: '/lib/udev/rules.d/60-yika.rules',
  stateDir: '/var/lib/yika',
  doc: '/usr/share/doc/yika',
} as const;

/** The commands in /usr/bin and the package bin each one runs (the npm package's `bin` entries). */
export const DEB_COMMANDS = { yikad: 'bin/yikad.js', yika: 'bin/yika.js' } as const;

/**
 * Runtime libraries: the bundled Node needs libc, libstdc++ and libgcc; the pcsclite addon needs
 * libpcsclite1. build-deb.ts checks with ldd + dpkg -S that every library the binaries link is covered.
 * glibc 2.28: the oldest the official Node 20 binaries support. adduser: postinst creates the user.
 */
export const DEPENDS = ['libc6 (>= 2.28)', 'libgcc-s1', 'libstdc++6', 'libpcsclite1', 'adduser'];
/** PC/SC readers need pcscd and its CCID driver; serial discovery by USB id needs udevadm. */
const RECOMMENDS = ['pcscd', 'libccid', 'udev'];

export interface ControlInput {
  version: string;
  arch: string;
  installedSizeKiB: number;
  nodeVersion: string;
  description: string;
}

/** The Debian version of an npm version: 0.1.0 → 0.1.0-1, 1.0.0-rc.1 → 1.0.0~rc.1-1 (a pre-release sorts first). */
export function debianVersion(npmVersion: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(npmVersion);
  if (!m) throw new RangeError(`not a semantic version: ${npmVersion}`);
  return `${m[1]}${m[2] ? `~${m[2].replace(/-/g, '.')}` : ''}-1`;
}

export function controlFile(c: ControlInput): string {
  return [
    'Package: yika',
    `Version: ${debianVersion(c.version)}`,
    `Architecture: ${c.arch}`,
    'Maintainer: Yika project <packaging@yika.invalid>',
    `Installed-Size: ${c.installedSizeKiB}`,
    `Depends: ${DEPENDS.join(', ')}`,
    `Recommends: ${RECOMMENDS.join(', ')}`,
    'Section: misc',
    'Priority: optional',
    `Description: ${c.description}`,
    ` Yika (一卡) reads and writes the Resident Health Card through serial readers that speak the`,
    ` Yika protocol and through PC/SC readers, verifies Electronic Health Card QR codes offline, and`,
    ` serves a local HTTP + WebSocket API and a front-desk web page.`,
    ' .',
    ` This package carries its own Node.js runtime (${c.nodeVersion}) in ${DEB_PATHS.libDir}, so the`,
    ` distribution's nodejs package is not used. The service (yikad.service) is installed but not`,
    ` enabled: edit ${DEB_PATHS.config}, then run systemctl enable --now yikad.`,
    '',
  ].join('\n');
}

/** /usr/bin/<command>: runs the package's compiled bin with the bundled Node. */
export function wrapperScript(command: keyof typeof DEB_COMMANDS): string {
  return [
    '#!/bin/sh',
    `# ${command} from the yika Debian package: the bundled Node runtime runs the compiled code.`,
    `exec ${DEB_PATHS.node} ${DEB_PATHS.app}/${DEB_COMMANDS[command]} "$@"`,
    '',
  ].join('\n');
}

export function copyrightFile(): string {
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: yika',
    '',
    'Files: *',
    'License: Apache-2.0',
    ' On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.',
    ' The bundled Node.js runtime (MIT and others) and the npm dependencies in',
    ` ${DEB_PATHS.app}/node_modules keep their own licence files.`,
    '',
  ].join('\n');
}

export function readmeDebian(nodeVersion: string): string {
  return [
    'Yika for Debian',
    '===============',
    '',
    `Node.js ${nodeVersion} comes with this package (${DEB_PATHS.node}); the distribution's nodejs`,
    'is not used. Commands: yikad (the daemon), yika (the command-line client, `yika doctor`).',
    '',
    `1. Edit ${DEB_PATHS.config} (commented defaults; \`yika doctor --config ${DEB_PATHS.config}\` checks it).`,
    '2. systemctl enable --now yikad',
    '3. Open http://127.0.0.1:7611/ (front-desk page); logs: journalctl -u yikad',
    '4. Readers: serial readers in the device table get group dialout through',
    `   ${DEB_PATHS.udevRules} (replug after installing); PC/SC readers need pcscd and libccid.`,
    '   Check as the service user: yika doctor --as yika',
    '',
    `State (QR trust bundle, host key): ${DEB_PATHS.stateDir}. The service runs as the system user yika.`,
    'Without api.token in the configuration, the service writes a new API token to /run/yika/api-token at',
    'each start (writes and raw APDUs need it): sudo YIKA_TOKEN_FILE=/run/yika/api-token yika write …',
    'Remove: apt-get remove yika (keeps the configuration); apt-get purge yika removes the',
    'configuration, the state directory and the yika user.',
    '',
  ].join('\n');
}
