// The simulated card as a PC/SC card: a client of vsmartcard's vpcd driver inside pcscd, speaking the
// protocol of ./vpcd-codec.ts. An open TCP connection means "card inserted"; closing it means
// "removed", so the connection follows the reader slot: card.removed closes it, card.inserted connects
// again (and so does a connection vpcd dropped while the card is still in the slot).
import { connect, type Socket } from 'node:net';
import type { SimulatedReader } from '../reader/simulated-reader.ts';
import { VPCD_DEFAULT_PORT, VPCD_HANG_UP, VpcdMessageReader, answerVpcdMessage, encodeVpcdMessage, type VpcdCard } from './vpcd-codec.ts';

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

/** A reader slot as vpcd's card: a failed power-up or APDU (no card, mute) is "no answer" (the codec hangs up). */
function slotAsVpcdCard(reader: SimulatedReader, slot: number): VpcdCard {
  return {
    powerOff: () => reader.powerOff(slot).catch(() => undefined),
    powerOn: () => powerUp(reader, slot).then(() => undefined, () => undefined),
    async reset() {
      const [status] = await reader.slotStatus(slot);
      await powerUp(reader, slot, status.card === 'powered').catch(() => undefined);
    },
    async atr() {
      const [status] = await reader.slotStatus(slot);
      return status.atr ?? (await powerUp(reader, slot).catch(() => undefined));
    },
    async apdu(command) {
      try {
        const [status] = await reader.slotStatus(slot);
        if (status.card === 'present') await powerUp(reader, slot);
        return await reader.transmit(slot, command);
      } catch (e) {
        // A malformed APDU (bad Lc reaches the card OS, which answers 6700 itself): wrong length, like a card.
        const code = (e as { code?: string }).code;
        return code === 'BAD_REQUEST' || code === 'APDU_TOO_LONG' ? Uint8Array.of(0x67, 0x00) : undefined;
      }
    },
  };
}

/** What the card in `slot` answers to one vpcd message (pure over the reader: unit tests run it without a socket). */
export function handleVpcdMessage(reader: SimulatedReader, slot: number, message: Uint8Array): ReturnType<typeof answerVpcdMessage> {
  return answerVpcdMessage(slotAsVpcdCard(reader, slot), message);
}

/** Answers vpcd's messages on `s` in order; no answer hangs up ('close' connects again while the card is in the slot). */
function answerOn(s: Socket, reader: SimulatedReader, slot: number, counts: Record<string, number>): void {
  const messages = new VpcdMessageReader();
  // vpcd sends one message and waits for the answer, but serialise anyway.
  let chain: Promise<void> = Promise.resolve();
  s.on('data', (chunk: Buffer) => {
    for (const message of messages.push(chunk)) {
      counts['vpcd.messages']++;
      if (message.length > 1) counts['vpcd.apdus']++;
      chain = chain.then(async () => {
        const answer = await handleVpcdMessage(reader, slot, message);
        if (s.destroyed || answer === undefined) return;
        if (answer === VPCD_HANG_UP) s.destroy();
        else s.write(encodeVpcdMessage(answer));
      });
    }
  });
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
    s.on('connect', () => {
      connected = true;
      counts['vpcd.connects']++;
      options.onState?.('connected', `${host}:${port}`);
    });
    answerOn(s, reader, slot, counts);
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
