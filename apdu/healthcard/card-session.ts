// The host's view of one powered health card during a read or a write: which DF is selected, which
// keys are authenticated there, the card's card8/city8, and link statistics. Selecting another DF
// drops the security state (the card does the same), so callers group their work per DF.

import { neverSent, type BatchCommand, type CardChannel } from '../card-channel.ts';
import { withIsoTransmission } from '../iso-transmit.ts';
import { command } from '../command-apdu.ts';
import { parseResponse, statusWord, swHex } from '../response-apdu.ts';
import { parseBerTlv, findBerTlv } from '../tlv.ts';
import { parseAtr } from '../atr.ts';
import { swExpected } from '../batch.ts';
import { isYikaError } from '../../common/yika-error.ts';
import { DEDICATED_FILES, ELEMENTARY_FILES, KEYS, TLV_ITEM_LENGTHS, type DfName, type KeyName } from './file-map.ts';
import { decodeCn } from './codecs.ts';
import { HealthCardError } from './health-card-errors.ts';
import { city8Of, type SamAuthorizer } from './sam-authorizer.ts';

export interface LinkStats {
  /** Link round trips to the card: one per transmit, one per transmitBatch. */
  roundTrips: number;
  /** Card commands executed. */
  cardCommands: number;
  /** SAM commands sent by the authorizer during this operation. */
  samCommands: number;
}

export interface CardSessionOptions {
  /** The ATR of this power-on: card8 = its first 8 historical bytes. */
  atr?: Uint8Array;
  /** card8 directly (instead of the ATR). */
  card8?: Uint8Array;
  authorizer?: SamAuthorizer;
  /** Use transmitBatch when the channel offers it (default true). */
  useBatch?: boolean;
  /** Most commands per batch (default 32). */
  maxBatch?: number;
}

/** card8 = the first 8 historical bytes of the ATR (docs/HEALTHCARD-SECURITY.md). */
function card8FromAtr(atr: Uint8Array): Uint8Array {
  const historical = parseAtr(atr).historical;
  if (historical.length < 8) throw new HealthCardError('CARD8_UNKNOWN', 'the ATR has fewer than 8 historical bytes');
  return historical.slice(0, 8);
}

/** How far CardSession.run got: filled in as it goes, read after it throws. */
export interface RunProgress {
  /** Leading commands that were answered with an expected status word. */
  acknowledged: number;
  /**
   * Commands after those that were handed to the transport but got no answer (card removed, link
   * dropped, timeout): the card may or may not have executed them. 0 when the failure was a refusal
   * or happened before sending.
   */
  inFlight: number;
  /** The status word of the command (at index `acknowledged`) whose answer stopped the run. */
  refusedSw?: number;
}

const DDF1_NAME_BYTES = DEDICATED_FILES.DDF1.dfName;

export class CardSession {
  readonly channel: CardChannel;
  readonly stats: LinkStats = { roundTrips: 0, cardCommands: 0, samCommands: 0 };
  private currentDf: DfName | undefined;
  private readonly authenticated = new Set<KeyName>();
  private card8Value: Uint8Array | undefined;
  cityCode: string | undefined;
  private readonly samCommandsAtStart: number;

  constructor(card: CardChannel, readonly options: CardSessionOptions) {
    // Count at the link (below the ISO rules, so GET RESPONSE rounds count too).
    const counted: CardChannel = {
      transmit: (c, o) => { this.stats.roundTrips++; this.stats.cardCommands++; return card.transmit(c, o); },
    };
    if (card.transmitBatch && options.useBatch !== false) {
      const batch = card.transmitBatch.bind(card);
      counted.transmitBatch = async (cmds, o) => {
        this.stats.roundTrips++;
        const r = await batch(cmds, o);
        this.stats.cardCommands += r.responses.length;
        return r;
      };
    }
    this.channel = withIsoTransmission(counted);
    this.card8Value = options.card8 ?? (options.atr ? card8FromAtr(options.atr) : undefined);
    this.samCommandsAtStart = options.authorizer?.samCommands ?? 0;
  }

  finishStats(): LinkStats {
    this.stats.samCommands = (this.options.authorizer?.samCommands ?? 0) - this.samCommandsAtStart;
    return { ...this.stats };
  }

  get card8(): Uint8Array | undefined {
    return this.card8Value;
  }

  /**
   * Runs commands in as few round trips as the channel allows; every command must end with an
   * expected SW (default 9000). Returns the responses; throws CARD_READ_FAILED / CARD_WRITE_FAILED
   * naming `file` on the first unexpected SW. `progress`, when given, says afterwards how far the
   * commands got (what a writer needs to report exactly what reached the card).
   */
  async run(
    file: string | ((commandIndex: number) => string),
    commands: BatchCommand[],
    failure: 'CARD_READ_FAILED' | 'CARD_WRITE_FAILED' = 'CARD_READ_FAILED',
    progress: RunProgress = { acknowledged: 0, inFlight: 0 },
  ): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const max = this.options.maxBatch ?? 32;
    progress.acknowledged = 0;
    progress.inFlight = 0;
    progress.refusedSw = undefined;
    const nameOf = (i: number): string => (typeof file === 'string' ? file : file(i));
    const fail = (i: number, sw: number): never => {
      const name = nameOf(i);
      progress.refusedSw = sw;
      throw new HealthCardError(failure, `${name}: command ${i + 1} of ${commands.length} answered ${swHex(sw)}`, { file: name, sw: swHex(sw) });
    };
    const broke = (i: number, e: unknown): never => {
      const name = nameOf(i);
      throw new HealthCardError(failure, `${name}: the exchange failed`, { file: name, causeCode: isYikaError(e) ? e.code : 'ERROR' }, { cause: e });
    };
    let sending = 0;
    try {
      if (this.channel.transmitBatch && commands.length > 1) {
        for (let start = 0; start < commands.length; start += max) {
          const part = commands.slice(start, start + max);
          sending = part.length;
          const r = await this.channel.transmitBatch(part);
          sending = 0;
          out.push(...r.responses);
          if (r.stoppedAt !== undefined) {
            progress.acknowledged = start + r.stoppedAt;
            fail(start + r.stoppedAt, statusWord(r.responses[r.stoppedAt]));
          }
          progress.acknowledged = start + r.responses.length;
          // Cut short before the next command was sent (the card left between two parts).
          if (r.interrupted) broke(start + r.responses.length, r.interrupted);
          if (r.responses.length !== part.length) {
            // A device that ran fewer commands and says neither why nor where it stopped: the rest is unknown.
            progress.inFlight = part.length - r.responses.length;
            fail(start + r.responses.length, 0);
          }
        }
      } else {
        for (let i = 0; i < commands.length; i++) {
          sending = 1;
          const r = await this.channel.transmit(commands[i].apdu);
          sending = 0;
          out.push(r);
          if (!swExpected(statusWord(r), commands[i].expect)) fail(i, statusWord(r));
          progress.acknowledged = i + 1;
        }
      }
    } catch (e) {
      if (e instanceof HealthCardError) throw e;
      // The commands handed to the transport got no answer, unless it proves they never left.
      if (sending > 0 && !neverSent(e)) progress.inFlight = sending;
      broke(progress.acknowledged, e);
    }
    return out;
  }

  /** SELECT MF then DDF1 by FID, and check the DF name WS.SYS.DDF01 (a transit card has a DDF1 too). */
  async identify(): Promise<void> {
    const any = [{ sw: 0x0000, mask: 0x0000 }];
    const [, ddf1] = await this.run('DDF1', [
      { apdu: command(0x00, 0xa4, 0x00, 0x00, [0x3f, 0x00]), expect: any },
      { apdu: command(0x00, 0xa4, 0x00, 0x00, [0xdd, 0xf1]), expect: any },
    ]);
    const r = parseResponse(ddf1);
    if (r.sw !== 0x9000 || !fciNames(r.data, DDF1_NAME_BYTES)) {
      throw new HealthCardError('NOT_A_HEALTH_CARD', 'the card has no DDF1 named WS.SYS.DDF01', { sw: swHex(r.sw) });
    }
    // SELECT MF left DDF1: the card dropped its security state, so do we.
    this.currentDf = undefined;
    this.enteredDf('DDF1');
  }

  /** Selects a DF (by FID, ISO search order: DDF1 is the parent of DF01–03, which are siblings). */
  async selectDf(df: DfName): Promise<void> {
    if (this.currentDf === df) return;
    if (df === 'DDF1') { await this.identify(); return; }
    if (this.currentDf === undefined) await this.identify();
    const fid = DEDICATED_FILES[df].fid;
    const [resp] = await this.run(df, [{ apdu: command(0x00, 0xa4, 0x00, 0x00, [fid >> 8, fid & 0xff]) }]);
    if (!fciNames(parseResponse(resp).data, DEDICATED_FILES[df].dfName)) {
      throw new HealthCardError('CARD_DATA_MALFORMED', `${df}: the FCI does not carry the expected AID`, { file: df });
    }
    this.enteredDf(df);
  }

  private enteredDf(df: DfName): void {
    if (this.currentDf !== df) this.authenticated.clear();
    this.currentDf = df;
  }

  /** The DF whose files the next EF SELECT reaches. */
  get df(): DfName | undefined {
    return this.currentDf;
  }

  /** EXTERNAL AUTHENTICATE `key` in its DF (selected first) unless already done there. */
  async authenticate(key: KeyName): Promise<void> {
    const def = KEYS[key];
    await this.selectDf(def.df);
    if (this.authenticated.has(key)) return;
    const authorizer = this.options.authorizer;
    if (!authorizer) throw new HealthCardError('NO_SAM', `reading or writing in ${def.df} needs ${key}, which needs a SAM`);
    if (def.cardRef === undefined) throw new RangeError(`${key} is not an authentication key`);
    await authorizer.externalAuthenticate(this.channel, { keyRef: def.cardRef, samKey: def.sam, card8: this.requireCard8(), city8: this.requireCity8() });
    this.authenticated.add(key);
  }

  requireCard8(): Uint8Array {
    if (!this.card8Value) throw new HealthCardError('CARD8_UNKNOWN', 'authorisation needs card8: pass the ATR of this power-on');
    return this.card8Value;
  }

  requireCity8(): Uint8Array {
    if (!this.cityCode) throw new HealthCardError('CARD_DATA_MALFORMED', 'the card has no city code (item 57), needed for key diversification', { itemNo: 57 });
    return city8Of(this.cityCode);
  }

  /** Reads the card's city code (item 57, DDF1/EF05, free read) unless known. */
  async loadCityCode(): Promise<string> {
    if (this.cityCode) return this.cityCode;
    await this.selectDf('DDF1');
    const ef = ELEMENTARY_FILES.find((f) => f.id === 'DDF1/EF05')!;
    const record = ef.recordItems!.indexOf(0x39) + 1;
    const [, resp] = await this.run(ef.id, [
      { apdu: command(0x00, 0xa4, 0x00, 0x00, [ef.fid >> 8, ef.fid & 0xff]) },
      { apdu: command(0x00, 0xb2, record, 0x04, [], TLV_ITEM_LENGTHS[0x39] + 2) },
    ]);
    const data = parseResponse(resp).data;
    if (data.length !== TLV_ITEM_LENGTHS[0x39] + 2 || data[0] !== 0x39) {
      throw new HealthCardError('CARD_DATA_MALFORMED', 'DDF1/EF05: the city code record is malformed', { file: ef.id, itemNo: 57 });
    }
    const city = decodeCn(data.subarray(2), 57);
    if (!city) throw new HealthCardError('CARD_DATA_MALFORMED', 'the card has no city code (item 57), needed for key diversification', { itemNo: 57 });
    this.cityCode = city;
    return city;
  }

  /** Forget the selected DF (e.g. the card was reset by someone else). */
  invalidate(): void {
    this.currentDf = undefined;
    this.authenticated.clear();
  }
}

function fciNames(fci: Uint8Array, name: Uint8Array): boolean {
  try {
    const n = findBerTlv(parseBerTlv(fci), 0x84);
    return !!n && n.value.length === name.length && n.value.every((b, i) => b === name[i]);
  } catch {
    return false;
  }
}

