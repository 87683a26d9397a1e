// vsmartcard's vpcd protocol, card side, as a pure module (no socket, no timers): the one codec of the
// project, used by the simulator's vpcd client and by the tests' in-process cards.
// Wire: every message is a 2-byte big-endian length + payload. From vpcd, a 1-byte payload is a control
// code (0 power off, 1 power on, 2 reset, 4 get ATR); anything longer is a command APDU. The card
// answers only "get ATR" (with the ATR) and APDUs (with the response): vpcd never reads an answer to
// 0, 1 or 2, and one there would be taken as the answer to its next question.
//
// A card that gives no answer (mute, or gone while the reader still holds it) HANGS UP: it closes the
// connection. vpcd has no message for "no answer" and reads every answer with a blocking
// recv(MSG_WAITALL) without a timeout, under its I/O lock:
//  - sending nothing blocks pcscd's thread for that reader, and every PC/SC client of it, for good;
//  - an empty message does too (seen here with Debian's vpcd and Linux: a 0-byte recv with MSG_WAITALL
//    waits for a byte that never comes), and would leave the stream out of step after;
//  - a status word (6F00, say) is a lie: a live card's answer to the command.
// A closed connection is what vpcd understands: its recv returns, it drops the card, pcscd answers that
// SCardTransmit with no bytes (the daemon's PC/SC backend calls that CARD_MUTE) and reports the slot
// empty at its next poll. The simulator connects again while its card is still in the slot (a new
// insertion; a card still mute hangs up again at the first "get ATR").

export const VPCD_DEFAULT_PORT = 35963;

const VPCD_POWER_OFF = 0;
const VPCD_POWER_ON = 1;
const VPCD_RESET = 2;
const VPCD_GET_ATR = 4;

/** Largest payload of one message (the 2-byte length). */
const VPCD_MAX_PAYLOAD = 0xffff;

/** Encodes one vpcd message. */
export function encodeVpcdMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > VPCD_MAX_PAYLOAD) throw new RangeError('a vpcd message carries at most 65535 bytes');
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

/** Reassembles vpcd messages from a byte stream split at arbitrary points (holds at most one message). */
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

  /** Bytes of an incomplete message held back. */
  get pending(): number {
    return this.#buffer.length;
  }
}

/** What a card does for vpcd; undefined from atr()/apdu() = the card gives no answer. */
export interface VpcdCard {
  powerOff(): Promise<void>;
  powerOn(): Promise<void>;
  reset(): Promise<void>;
  /** The ATR of the card in its current state (powering it up if vpcd did not). */
  atr(): Promise<Uint8Array | undefined>;
  apdu(command: Uint8Array): Promise<Uint8Array | undefined>;
}

/** SW 6700 (wrong length). */
const WRONG_LENGTH = Uint8Array.of(0x67, 0x00);

/** The card's way of saying "no answer": close the connection (see the top of this file). */
export const VPCD_HANG_UP = 'hang-up';

/**
 * The card's reply to one message from vpcd: bytes to send, VPCD_HANG_UP, or undefined (send nothing).
 * Shorter than a command header (4 bytes), an APDU is answered 6700 like a card would: PC/SC has no
 * message layer that could refuse it.
 */
export async function answerVpcdMessage(card: VpcdCard, message: Uint8Array): Promise<Uint8Array | typeof VPCD_HANG_UP | undefined> {
  if (message.length === 1) {
    switch (message[0]) {
      case VPCD_POWER_OFF:
        await card.powerOff();
        return undefined;
      case VPCD_POWER_ON:
        await card.powerOn();
        return undefined;
      case VPCD_RESET:
        await card.reset();
        return undefined;
      case VPCD_GET_ATR:
        return (await card.atr()) ?? VPCD_HANG_UP;
      default:
        return undefined; // a control code this version of the protocol does not have: no answer is read
    }
  }
  if (message.length < 4) return WRONG_LENGTH;
  return (await card.apdu(message)) ?? VPCD_HANG_UP;
}
