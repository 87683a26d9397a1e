// The simulated card as a PC/SC card: a client of vsmartcard's vpcd driver inside pcscd.
// Wire: every message is a 2-byte big-endian length + payload. A 1-byte payload from vpcd is a
// control code (0 power off, 1 power on, 2 reset, 4 get ATR); anything longer is a command APDU.
// We answer only "get ATR" (with the ATR) and APDUs (with the response): vpcd never reads an
// answer to 0, 1 or 2. An open TCP connection means "card inserted"; closing it means "removed", so
// the connection follows the reader slot: card.removed closes it, card.inserted connects again.
import { connect, type Socket } from 'node:net';
import type { SimulatedReader } from '../reader/simulated-reader.ts';

export const VPCD_DEFAULT_PORT = 35963;

export const VPCD_POWER_OFF = 0;
export const VPCD_POWER_ON = 1;
export const VPCD_RESET = 2;
export const VPCD_GET_ATR = 4;

/** Encodes one vpcd message. */
export function encodeVpcdMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError('a vpcd message carries at most 65535 bytes');
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

/** Reassembles vpcd messages from a byte stream split at arbitrary points. */
export class VpcdMessageReader {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : Buffer.from(chunk);
    const out: Uint8Array[] = [];
    while (this.#buffer.length >= 2) {
      const n = this.#buffer.readUInt16BE(0);
      if (this.#buffer.length < 2 + n) break;
      out.push(Uint8Array.prototype.slice.call(this.#buffer, 2, 2 + n));
      this.#buffer = this.#buffer.subarray(2 + n);
    }
    return out;
  }
}

export type VpcdAnswer = Uint8Array | undefined;

/**
 * vpcd tells the card nothing about the protocol pcscd negotiated, and pcsc-lite picks T=1 whenever
 * the ATR offers it; so after each power-up the card runs T=1 when it can (no 61xx/6Cxx round trips),
 * like a PC/SC reader in APDU mode.
 */
async function powerUp(reader: SimulatedReader, slot: number, warm = false): Promise<Uint8Array> {
  const result = warm ? await reader.resetCard(slot) : await reader.powerOn(slot);
  if (result.protocol === 0) await reader.setParams(slot, { protocol: 1 }).catch(() => undefined);
  return result.atr;
}

/**
 * What the card does with one vpcd message; undefined = send nothing. Pure over the reader, so the
 * unit tests run it without a socket. A failed APDU (card removed, mute) answers an empty message,
 * which vpcd reports to pcscd as a communication error.
 */
export async function handleVpcdMessage(reader: SimulatedReader, slot: number, message: Uint8Array): Promise<VpcdAnswer> {
  if (message.length === 1) {
    switch (message[0]) {
      case VPCD_POWER_OFF:
        await reader.powerOff(slot).catch(() => undefined);
        return undefined;
      case VPCD_POWER_ON:
        await powerUp(reader, slot).catch(() => undefined);
        return undefined;
      case VPCD_RESET: {
        const [status] = await reader.slotStatus(slot);
        await powerUp(reader, slot, status.card === 'powered').catch(() => undefined);
        return undefined;
      }
      case VPCD_GET_ATR: {
        const [status] = await reader.slotStatus(slot);
        if (status.atr) return status.atr;
        try {
          return await powerUp(reader, slot);
        } catch {
          return new Uint8Array(0);
        }
      }
      default:
        return undefined;
    }
  }
  // PC/SC has no message layer that could refuse a malformed APDU: like a card, answer 6700 (wrong
  // length). An empty answer would make vpcd report a communication error and wedge the virtual
  // reader for every PC/SC client until the card is removed. (Bad Lc reaches the card OS, which
  // answers 6700 itself.)
  if (message.length < 4) return Uint8Array.of(0x67, 0x00);
  try {
    const [status] = await reader.slotStatus(slot);
    if (status.card === 'present') await powerUp(reader, slot);
    return await reader.transmit(slot, message);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'BAD_REQUEST' || code === 'APDU_TOO_LONG') return Uint8Array.of(0x67, 0x00);
    return new Uint8Array(0);
  }
}

export interface VpcdClientOptions {
  reader: SimulatedReader;
  host?: string;
  port?: number;
  /** The reader slot whose card appears in PC/SC. Default 0x01. */
  slot?: number;
  /** Retry interval while vpcd is not reachable, ms. Default 500. */
  retryMs?: number;
  onState?: (state: 'connecting' | 'connected' | 'disconnected', detail?: string) => void;
}

export interface VpcdClient {
  readonly connected: boolean;
  /** Counters for diagnostics. */
  counters(): Record<string, number>;
  close(): Promise<void>;
  /** The "reader unplugged" fault: disconnect and stay away until replug. */
  unplug(): Promise<void>;
  replug(): Promise<void>;
}

export function startVpcdClient(options: VpcdClientOptions): VpcdClient {
  const { reader } = options;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? VPCD_DEFAULT_PORT;
  const slot = options.slot ?? 0x01;
  const retryMs = options.retryMs ?? 500;
  let socket: Socket | undefined;
  let connected = false;
  let stopped = false;
  let unplugged = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const counts = { 'vpcd.connects': 0, 'vpcd.messages': 0, 'vpcd.apdus': 0 };

  const wanted = (): boolean => !stopped && !unplugged && reader.cardIn(slot) !== undefined;

  const schedule = (): void => {
    clearTimeout(retryTimer);
    if (wanted()) retryTimer = setTimeout(open, retryMs);
  };

  const open = (): void => {
    if (!wanted() || socket) return;
    options.onState?.('connecting', `${host}:${port}`);
    const s = connect({ host, port });
    socket = s;
    s.setNoDelay(true);
    const messages = new VpcdMessageReader();
    // vpcd sends one message and waits for the answer, but serialise anyway.
    let chain: Promise<void> = Promise.resolve();
    s.on('connect', () => {
      connected = true;
      counts['vpcd.connects']++;
      options.onState?.('connected', `${host}:${port}`);
    });
    s.on('data', (chunk: Buffer) => {
      for (const message of messages.push(chunk)) {
        counts['vpcd.messages']++;
        if (message.length > 1) counts['vpcd.apdus']++;
        chain = chain.then(async () => {
          const answer = await handleVpcdMessage(reader, slot, message);
          if (answer && !s.destroyed) s.write(encodeVpcdMessage(answer));
        });
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (socket === s) socket = undefined;
      const was = connected;
      connected = false;
      if (was) options.onState?.('disconnected');
      schedule();
    });
  };

  const drop = (): void => {
    clearTimeout(retryTimer);
    socket?.destroy();
    socket = undefined;
  };

  const offEvents = reader.on((event) => {
    if (event.type === 'card.inserted' && event.slot === slot) {
      drop();
      open();
    } else if (event.type === 'card.removed' && event.slot === slot) {
      drop();
    }
  });

  open();

  return {
    get connected() {
      return connected;
    },
    counters: () => ({ ...counts }),
    async close() {
      stopped = true;
      offEvents();
      drop();
    },
    async unplug() {
      unplugged = true;
      drop();
    },
    async replug() {
      unplugged = false;
      open();
    },
  };
}
