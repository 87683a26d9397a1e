// The timing model of a physical desk reader: how long an exchange takes on real hardware.
// Three parts add up: the card interface (ISO 7816-3 character timing from Fi/Di and the clock),
// the card's own processing time per kind of command, and the host link (UART or USB full speed).
// Every number is a default that a caller may override; SIMULATOR.md explains where they come from.
import type { CommandKind } from '../sim-card.ts';

// ISO 7816-3 tables 7 and 8 (Fi, Di by TA1 nibble): one definition, in apdu/atr.ts.
export { DI_TABLE, FI_TABLE } from '../../apdu/atr.ts';

export type HostLink = { kind: 'uart'; baud: number } | { kind: 'usb-fs' };

export interface TimingConfig {
  /** Card clock f in Hz. Desk readers commonly run 4 MHz (3.57–5 MHz is usual). */
  clockHz: number;
  /** Card processing time per command kind, microseconds (from the last command byte to the first response byte). */
  processingUs: Record<CommandKind, number>;
  /** Contact activation until the card starts its ATR (VCC, CLK, RST held low ≥ 400 clocks, then ATR within 40 000 clocks). */
  activationUs: number;
  /** Host link between the reader and the host computer. */
  hostLink: HostLink;
  /** Protocol frame overhead per message on the host link (msgpack envelope, CRC-32, COBS, delimiter), bytes. */
  hostFrameOverhead: number;
  /** T=1 information field size of the card (IFSC) when the ATR does not say (ISO default 32). */
  ifsc: number;
  /** T=0 work waiting time multiplier WI (ISO default 10): a mute card is declared after WWT = 960·WI·Fi/f. */
  wi: number;
}

export const DEFAULT_PROCESSING_US: Readonly<Record<CommandKind, number>> = {
  select: 3_000,
  read: 2_500,
  write: 9_000,
  crypto: 12_000,
  other: 1_500,
};

export const DEFAULT_TIMING: Readonly<TimingConfig> = {
  clockHz: 4_000_000,
  processingUs: { ...DEFAULT_PROCESSING_US },
  activationUs: 5_000,
  hostLink: { kind: 'usb-fs' },
  hostFrameOverhead: 24,
  ifsc: 32,
  wi: 10,
};

/** Overrides of the defaults; the processing table may name only some kinds. */
export type TimingOverrides = Partial<Omit<TimingConfig, 'processingUs'>> & { processingUs?: Partial<Record<CommandKind, number>> };

export function timingConfig(overrides: TimingOverrides = {}): TimingConfig {
  return {
    ...DEFAULT_TIMING,
    ...overrides,
    processingUs: { ...DEFAULT_PROCESSING_US, ...(overrides.processingUs ?? {}) },
    hostLink: overrides.hostLink ?? DEFAULT_TIMING.hostLink,
  };
}

/** One elementary time unit in microseconds: etu = (Fi / Di) / f. */
export function etuUs(fi: number, di: number, clockHz: number): number {
  return ((fi / di) / clockHz) * 1e6;
}

/** Character times: T=0 needs 12 etu per character (10 data etu + 2 guard etu); T=1 with N=0 needs 11 (CGT). */
function etuPerChar(protocol: 0 | 1): number {
  return protocol === 0 ? 12 : 11;
}

/** ATR transfer at the default rate (Fi=372, Di=1): 12 etu per character. */
export function atrUs(atrLength: number, cfg: TimingConfig): number {
  return cfg.activationUs + atrLength * 12 * etuUs(372, 1, cfg.clockHz);
}

/** PPS: four characters each way (PPSS PPS0 PPS1 PCK) at the default rate. */
export function ppsUs(cfg: TimingConfig): number {
  return 8 * 12 * etuUs(372, 1, cfg.clockHz);
}

/** Parsed lengths of a command APDU, enough for the transfer arithmetic. */
function commandDataLength(apdu: Uint8Array): number {
  if (apdu.length <= 5) return 0;
  if (apdu[4] !== 0 || apdu.length === 5) return Math.min(apdu[4], apdu.length - 5);
  // Extended: 00 Lc1 Lc2 (case 3E/4E) or 00 Le1 Le2 (case 2E, length 7).
  if (apdu.length === 7) return 0;
  return Math.min((apdu[5] << 8) | apdu[6], apdu.length - 7);
}

/**
 * Characters on the card interface for one command/response pair.
 * T=0 (TPDU): header 5, a procedure byte (INS) before command data, a procedure byte before response
 * data, SW1 SW2. T=1: I-blocks of at most IFSC information bytes, each with 3 prologue + 1 LRC bytes;
 * every chained block is acknowledged by a 4-byte R-block from the other side.
 */
export function cardCharacters(command: Uint8Array, response: Uint8Array, protocol: 0 | 1, ifsc: number): number {
  if (protocol === 0) {
    const lc = commandDataLength(command);
    const dataOut = Math.max(0, response.length - 2);
    return 5 + (lc > 0 ? 1 + lc : 0) + (dataOut > 0 ? 1 + dataOut : 0) + 2;
  }
  const blocks = (n: number): number => Math.max(1, Math.ceil(n / ifsc));
  const cmdBlocks = blocks(command.length);
  const rspBlocks = blocks(response.length);
  return command.length + 4 * cmdBlocks + 4 * (cmdBlocks - 1) + response.length + 4 * rspBlocks + 4 * (rspBlocks - 1);
}

/** Card interface time for one exchange (characters only, processing excluded). */
export function cardIoUs(command: Uint8Array, response: Uint8Array, protocol: 0 | 1, fi: number, di: number, cfg: TimingConfig): number {
  return cardCharacters(command, response, protocol, cfg.ifsc) * etuPerChar(protocol) * etuUs(fi, di, cfg.clockHz);
}

/** ISO/IEC 14443 carrier: 13.56 MHz; at 106 kbit/s a bit lasts 128 carrier cycles. */
const CONTACTLESS_FC_HZ = 13_560_000;

/**
 * Contactless (ISO/IEC 14443-4, Type A at 106 kbit/s) time of one exchange: each byte is 8 bits plus
 * odd parity (9 bit times of 128/fc ≈ 9.44 µs); each I-block adds PCB and a 2-byte CRC; the frame
 * delay time between the reader's frame and the card's answer is ≈ 1236/fc (≈ 91 µs) each way.
 */
export function contactlessIoUs(command: Uint8Array, response: Uint8Array): number {
  const bitUs = (128 / CONTACTLESS_FC_HZ) * 1e6;
  const bytes = command.length + 3 + response.length + 3;
  const fdtUs = (1236 / CONTACTLESS_FC_HZ) * 1e6;
  return bytes * 9 * bitUs + 2 * fdtUs;
}

/** T=0 work waiting time: how long the reader waits for a silent card before declaring it mute. */
export function workWaitingUs(fi: number, cfg: TimingConfig): number {
  return ((960 * cfg.wi * fi) / cfg.clockHz) * 1e6;
}

/**
 * Host link time for one message of `payloadBytes` (plus the frame overhead).
 * UART: 10 bits per byte (8N1). USB full speed: 64-byte bulk packets, at most 19 per 1 ms frame
 * (≈ 1.216 MB/s), plus half a frame of latency on average for the host to poll the endpoint.
 */
export function hostLinkUs(payloadBytes: number, cfg: TimingConfig): number {
  const bytes = payloadBytes + cfg.hostFrameOverhead;
  if (cfg.hostLink.kind === 'uart') return (bytes * 10 * 1e6) / cfg.hostLink.baud;
  const packets = Math.ceil(bytes / 64);
  return 500 + (packets / 19) * 1000;
}

/** A breakdown of the modelled physical time of an operation. */
export interface ModelledTime {
  cardIoUs: number;
  processingUs: number;
  hostLinkUs: number;
  /** Extra delay injected by a fault (slow card) or waiting for a mute card. */
  extraUs: number;
}

export function totalUs(t: ModelledTime): number {
  return t.cardIoUs + t.processingUs + t.hostLinkUs + t.extraUs;
}

export function zeroTime(): ModelledTime {
  return { cardIoUs: 0, processingUs: 0, hostLinkUs: 0, extraUs: 0 };
}

export function addTime(a: ModelledTime, b: ModelledTime): ModelledTime {
  return {
    cardIoUs: a.cardIoUs + b.cardIoUs,
    processingUs: a.processingUs + b.processingUs,
    hostLinkUs: a.hostLinkUs + b.hostLinkUs,
    extraUs: a.extraUs + b.extraUs,
  };
}
