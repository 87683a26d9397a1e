// The udev rules for the serial readers in the device table: one definition, used by the Debian package
// (/lib/udev/rules.d/60-yika.rules) and by `yika doctor` when it advises a rule.
import { USB_SERIAL_READERS, normaliseUsbId, type UsbSerialEntry } from './device-table.ts';

/** Where the Debian package installs the rules; an administrator's copy in /etc/udev/rules.d wins. */
export const UDEV_RULES_NAME = '60-yika.rules';
export const UDEV_RULES_DIRS = ['/etc/udev/rules.d', '/run/udev/rules.d', '/lib/udev/rules.d', '/usr/lib/udev/rules.d'] as const;

/** The group that may open reader ports (Debian's group for serial devices). */
export const SERIAL_GROUP = 'dialout';

/**
 * One line per reader: the tty gets group dialout and mode 0660 (the daemon's user is in dialout), and
 * ID_MM_DEVICE_IGNORE so ModemManager does not probe the port with AT commands right after plug-in.
 * 60- runs before ModemManager's 77-mm-*.rules and after the distribution's 50-udev-default.rules.
 */
export function udevRuleLine(entry: Pick<UsbSerialEntry, 'vendorId' | 'productId'>, group = SERIAL_GROUP): string {
  const vid = normaliseUsbId(entry.vendorId);
  const pid = normaliseUsbId(entry.productId);
  if (!vid || !pid) throw new RangeError(`not a USB id pair: ${entry.vendorId}:${entry.productId}`);
  return `SUBSYSTEM=="tty", ATTRS{idVendor}=="${vid}", ATTRS{idProduct}=="${pid}", MODE="0660", GROUP="${group}", ENV{ID_MM_DEVICE_IGNORE}="1"`;
}

export function udevRulesFile(table: readonly UsbSerialEntry[] = USB_SERIAL_READERS): string {
  return [
    '# Yika: serial health-card readers (generated from daemon/devices/device-table.ts; do not edit).',
    `# To change a rule, copy this file to /etc/udev/rules.d/${UDEV_RULES_NAME} and edit the copy.`,
    ...table.flatMap((e) => [`# ${e.description}`, udevRuleLine(e)]),
    '',
  ].join('\n');
}

/** Whether a rules file's text gives the reader with this USB id to a group and hides it from ModemManager. */
export function rulesCover(text: string, vendorId: string, productId: string): { covered: boolean; modemManagerIgnored: boolean } {
  const vid = normaliseUsbId(vendorId);
  const pid = normaliseUsbId(productId);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || !vid || !pid) continue;
    const v = /ATTRS\{idVendor\}=="([0-9a-fA-F]{4})"/.exec(line)?.[1]?.toLowerCase();
    const p = /ATTRS\{idProduct\}=="([0-9a-fA-F]{4})"/.exec(line)?.[1]?.toLowerCase();
    if (v === vid && p === pid && /\b(GROUP|MODE)=/.test(line)) return { covered: true, modemManagerIgnored: /ENV\{ID_MM_DEVICE_IGNORE\}="1"/.test(line) };
  }
  return { covered: false, modemManagerIgnored: false };
}
