// The card operating system: dispatches command APDUs through an INS → handler table, keeps the
// volatile state (current DF/EF, per-DF security state, challenge, pending T=0 response) and never
// throws: a malformed APDU or a handler bug is answered with a status word.
import type { CardAnswer, CommandKind, SimCard } from '../sim-card.ts';
import { parseCommandApdu } from './command-apdu.ts';
import type { CommandTable } from './command-table.ts';
import { DedicatedFile, type AccessCondition, type ElementaryFile } from './file-system.ts';
import { shapeResponse, statusOnly, withStatus, type PendingResponse } from './response-shaping.ts';
import { CardStatus, SW } from './status-words.ts';
import { seededRandom } from './seeded-random.ts';

export interface CardOsOptions {
  label: string;
  atr: Uint8Array;
  protocols: ReadonlyArray<0 | 1>;
  mf: DedicatedFile;
  commands: CommandTable;
  /** Source of challenge bytes; default a PRNG seeded from the ATR (deterministic, replayable traces). */
  random?: (length: number) => Uint8Array;
  /** Accept extended-length APDUs (default true). When false they get 6700. */
  extendedLength?: boolean;
  /** Called on power-on, reset and power-off, after the OS cleared its own volatile state. */
  onVolatileReset?: () => void;
}

export class CardOs implements SimCard {
  readonly label: string;
  readonly protocols: ReadonlyArray<0 | 1>;
  readonly mf: DedicatedFile;
  readonly commands: CommandTable;
  readonly extendedLength: boolean;
  private readonly atr: Uint8Array;
  private readonly randomSource: (length: number) => Uint8Array;
  private readonly onVolatileReset?: () => void;
  private readonly classes: Set<number>;

  // Volatile state.
  currentDf: DedicatedFile;
  currentEf: ElementaryFile | undefined;
  /** Key references authenticated in the current DF. */
  readonly authenticated = new Set<number>();
  /** The last GET CHALLENGE answer, until one EXTERNAL AUTHENTICATE or SM command consumes it. */
  challenge: Uint8Array | undefined;
  /** Data waiting for GET RESPONSE after 61xx. */
  pending: PendingResponse | undefined;
  /** The protocol of the command being processed. */
  protocol: 0 | 1 = 1;
  powered = false;

  constructor(options: CardOsOptions) {
    this.label = options.label;
    this.protocols = options.protocols;
    this.mf = options.mf;
    this.commands = options.commands;
    this.extendedLength = options.extendedLength ?? true;
    this.atr = Uint8Array.from(options.atr);
    this.randomSource = options.random ?? seededRandom(this.atr);
    this.onVolatileReset = options.onVolatileReset;
    this.classes = new Set([...this.commands.values()].flatMap((h) => [...h.classes]));
    this.currentDf = this.mf;
  }

  powerOn(): Uint8Array {
    this.clearVolatile();
    this.powered = true;
    return Uint8Array.from(this.atr);
  }

  reset(): Uint8Array {
    return this.powerOn();
  }

  powerOff(): void {
    this.clearVolatile();
    this.powered = false;
  }

  private clearVolatile(): void {
    this.currentDf = this.mf;
    this.currentEf = undefined;
    this.authenticated.clear();
    this.challenge = undefined;
    this.pending = undefined;
    this.onVolatileReset?.();
  }

  process(command: Uint8Array, protocol: 0 | 1): CardAnswer {
    let kind: CommandKind = 'other';
    try {
      this.protocol = protocol;
      const apdu = parseCommandApdu(command);
      if (!apdu) {
        this.pending = undefined;
        return { response: statusOnly(SW.WRONG_LENGTH), kind };
      }
      const handler = this.commands.get(apdu.ins);
      if (handler) kind = handler.kind;
      if (apdu.ins !== 0xc0) this.pending = undefined;
      // Interindustry CLA with logical-channel bits: the simulated cards have only the basic channel.
      if (apdu.cla < 0x10 && (apdu.cla & 0x03) !== 0) return { response: statusOnly(SW.LOGICAL_CHANNEL_NOT_SUPPORTED), kind };
      if (!this.classes.has(apdu.cla)) return { response: statusOnly(SW.CLA_NOT_SUPPORTED), kind };
      if (!handler) return { response: statusOnly(SW.INS_NOT_SUPPORTED), kind };
      if (!handler.classes.includes(apdu.cla)) return { response: statusOnly(SW.CLA_NOT_SUPPORTED), kind };
      if (apdu.extended && !this.extendedLength) return { response: statusOnly(SW.WRONG_LENGTH), kind };
      let result;
      try {
        result = handler.run(this, apdu);
      } catch (e) {
        if (e instanceof CardStatus) return { response: statusOnly(e.sw), kind };
        throw e;
      }
      // GET RESPONSE shapes its own answer (it serves the pending data, possibly in pieces).
      if (handler.shapesOwnResponse) return { response: withStatus(result.data ?? new Uint8Array(0), result.sw), kind };
      const shaped = shapeResponse(apdu, result, protocol);
      if (shaped.pending) this.pending = shaped.pending;
      return { response: shaped.response, kind };
    } catch {
      // A bug in a handler must not take the reader down: answer "no precise diagnosis".
      this.pending = undefined;
      return { response: statusOnly(SW.NO_PRECISE_DIAGNOSIS), kind };
    }
  }

  // ---- helpers for handlers ----

  random(length: number): Uint8Array {
    return this.randomSource(length);
  }

  /** Makes `df` current (and `ef` current inside it); the security state is lost when the DF changes. */
  select(df: DedicatedFile, ef?: ElementaryFile): void {
    if (df !== this.currentDf) {
      this.authenticated.clear();
      this.currentDf = df;
    }
    this.currentEf = ef;
  }

  /** Throws 6982 unless `condition` holds in the current security state of the file's DF. */
  requireAccess(condition: AccessCondition): void {
    if (condition.type === 'always') return;
    if (condition.type === 'key' && this.authenticated.has(condition.ref)) return;
    throw new CardStatus(SW.SECURITY_STATUS_NOT_SATISFIED);
  }

  /** Takes the pending challenge (one use); throws 6985 when there is none. */
  takeChallenge(): Uint8Array {
    const c = this.challenge;
    if (!c) throw new CardStatus(SW.CONDITIONS_NOT_SATISFIED);
    this.challenge = undefined;
    return c;
  }
}
