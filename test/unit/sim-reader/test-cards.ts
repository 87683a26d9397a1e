// Small SimCards for the reader's unit tests: a scripted card that answers from a table, and a mute card.
import type { CardAnswer, CommandKind, SimCard } from '../../../firmware-sim/sim-card.ts';

const TEST_ATR_T0_T1 = Uint8Array.from([0x3b, 0x8c, 0x80, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x57, 0x53, 0x31, 0x30, 0x00]);
// TA1 = 0x13 (Fi 372, Di 4), TD1 = 0x00 (T=0 only)
export const TEST_ATR_FAST_T0 = Uint8Array.from([0x3b, 0x90, 0x13, 0x00]);

export class ScriptedCard implements SimCard {
  readonly label = 'scripted';
  readonly protocols: ReadonlyArray<0 | 1>;
  powered = false;
  powerOns = 0;
  processed: Uint8Array[] = [];
  /** A response (hex) for each command (hex of the header INS); unknown → 6D00. */
  constructor(
    readonly atr: Uint8Array = TEST_ATR_T0_T1,
    protocols: ReadonlyArray<0 | 1> = [0, 1],
    readonly answers: (apdu: Uint8Array) => { response: number[]; kind?: CommandKind } = defaultAnswers,
  ) {
    this.protocols = protocols;
  }
  powerOn(): Uint8Array {
    this.powered = true;
    this.powerOns++;
    return this.atr;
  }
  powerOff(): void {
    this.powered = false;
  }
  reset(): Uint8Array {
    return this.atr;
  }
  process(command: Uint8Array): CardAnswer {
    this.processed.push(command);
    const a = this.answers(command);
    return { response: Uint8Array.from(a.response), kind: a.kind ?? 'other' };
  }
}

/** A4 → 9000 (select); B2 → 5 bytes + 9000 (read); B0 on T=0 style → 6C05; C0 → 61 passthrough card; else 6D00. */
function defaultAnswers(apdu: Uint8Array): { response: number[]; kind?: CommandKind } {
  switch (apdu[1]) {
    case 0xa4:
      return { response: [0x90, 0x00], kind: 'select' };
    case 0xb2:
      return { response: [1, 2, 3, 4, 5, 0x90, 0x00], kind: 'read' };
    case 0xb0:
      return { response: [0x6c, 0x05], kind: 'read' };
    case 0x84:
      return { response: [0x61, 0x08], kind: 'crypto' };
    case 0xdc:
      return { response: [0x69, 0x82], kind: 'write' };
    default:
      return { response: [0x6d, 0x00] };
  }
}

export class MuteCard implements SimCard {
  readonly label = 'mute';
  readonly protocols: ReadonlyArray<0 | 1> = [0];
  readonly mute = true;
  powerOn(): Uint8Array {
    throw new Error('a mute card never answers');
  }
  powerOff(): void {}
  reset(): Uint8Array {
    throw new Error('a mute card never answers');
  }
  process(): CardAnswer {
    throw new Error('a mute card never answers');
  }
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
