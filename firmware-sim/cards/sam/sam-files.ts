// The SAM's files (shared/domain/health-card.md §5): MF/EF0015 (14 B) SAM information, MF/EF0016 (6 B)
// terminal number, DF01/EF001A (25 B) key index/issuer/receiver/validity, EF001B issuer certificate
// (180 B), EF001C SAM certificate (190 B). Contents are synthetic; all readable without the PIN.
import { sm3 } from '../../../crypto/index.ts';
import { ALWAYS, DedicatedFile, NEVER, TransparentFile } from '../../card-os/file-system.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function bcd(digits: string, length: number): Uint8Array {
  const padded = digits.padEnd(length * 2, 'F').slice(0, length * 2);
  return Uint8Array.from(Buffer.from(padded, 'hex'));
}

/** Deterministic synthetic bytes (stand-ins for certificates). */
function filler(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0, block = 0; i < length; block++) {
    const h = sm3(ascii(`${label}#${block}`));
    out.set(h.subarray(0, Math.min(32, length - i)), i);
    i += 32;
  }
  return out;
}

const SAM_MF_NAME = ascii('YIKA.SAM');
const SAM_DF01_NAME = ascii('YIKA.SAM.DF01');

export interface SamFileOptions {
  /** 20 decimal digits. */
  serial: string;
  /** 12 decimal digits. */
  terminalId: string;
  /** Two digits. */
  province: string;
}

function fci(name: Uint8Array): Uint8Array {
  return Uint8Array.of(0x6f, name.length + 2, 0x84, name.length, ...name);
}

function file(fid: number, content: Uint8Array): TransparentFile {
  const f = new TransparentFile(fid, content.length, { read: ALWAYS, update: NEVER });
  f.data.set(content);
  return f;
}

export function samFileTree(options: SamFileOptions): DedicatedFile {
  const mf = new DedicatedFile(0x3f00, SAM_MF_NAME, fci(SAM_MF_NAME));
  // EF0015: serial (10 B BCD) ‖ version ‖ key-card type ‖ command-set version ‖ FCI data byte.
  mf.add(file(0x0015, Uint8Array.of(...bcd(options.serial, 10), 0x01, 0x01, 0x01, 0x00)));
  mf.add(file(0x0016, bcd(options.terminalId, 6)));
  const df01 = mf.add(new DedicatedFile(0xdf01, SAM_DF01_NAME, fci(SAM_DF01_NAME)));
  // EF001A: key index ‖ issuer id (8) ‖ receiver id (8) ‖ start date cn4 ‖ end date cn4.
  const issuer = ascii(`YK${options.province}0000`);
  const receiver = bcd(`${options.province}00000000000000`, 8);
  df01.add(file(0x001a, Uint8Array.of(0x01, ...issuer, ...receiver, ...bcd('20250101', 4), ...bcd('20351231', 4))));
  df01.add(file(0x001b, filler(`issuer-cert-${options.province}`, 180)));
  df01.add(file(0x001c, filler(`sam-cert-${options.serial}`, 190)));
  return mf;
}
