// Card authorisation through the terminal's SAM (docs/HEALTHCARD-SECURITY.md): SAM PIN once per SAM
// power-on, EXTERNAL AUTHENTICATE of a card key (GET CHALLENGE → 80 DE → 80 FA → 00 82), and
// secure-messaging UPDATE RECORD (GET CHALLENGE → 80 DE → 80 FA 00 encrypt → 80 FA 05 MAC → 04 DC).
// The SAM does the maths; the host only XORs the two halves of the cryptogram block.
//
// Province check (CARD_FROM_OTHER_PROVINCE): a two-level key (SAM P1 47/48) only works for cards of
// the province the SAM serves, and a wrong cryptogram costs the card one of its 15 tries. So before a
// two-level set-up the host compares the card's province (first two digits of city8, i.e. of the
// card's city code, item 57) with the SAM's: the first two digits of the receiver id in SAM
// DF01/EF001A (bytes 9–16, BCD). One-level keys do not depend on the province and are not checked.

import type { CardChannel } from '../card-channel.ts';
import { command } from '../command-apdu.ts';
import { withIsoTransmission } from '../iso-transmit.ts';
import { parseResponse, swHex } from '../response-apdu.ts';
import { triesLeft } from '../status-words.ts';
import { hexUpper } from '../../common/hex.ts';
import { decodeCn } from './codecs.ts';
import { HealthCardError } from './health-card-errors.ts';

/** The host's 8-byte constant P of EXTERNAL AUTHENTICATE: "YIKAHOST". */
export const HOST_CONSTANT = Uint8Array.of(0x59, 0x49, 0x4b, 0x41, 0x48, 0x4f, 0x53, 0x54);
/** Trailing algorithm byte of EXTERNAL AUTHENTICATE: 01 = SM4. */
const ALGORITHM_SM4 = 0x01;

export interface SamInfo {
  /** EF0015 bytes 0–9, BCD digits. */
  serial: string;
  version: number;
  keyCardType: number;
  commandSetVersion: number;
  /** EF0016, BCD digits. */
  terminalId: string;
  /** EF001A. */
  keyIndex: number;
  /** Issuer id, hex (8 bytes). */
  issuerId: string;
  /** Receiver id, BCD digits (16). */
  receiverId: string;
  /** Two-digit province the SAM serves (first two digits of the receiver id). */
  province: string;
  startDate: string | null;
  endDate: string | null;
}

export interface ExternalAuthenticateParams {
  /** Card key reference (P2 of 00 82): 04/05 at DDF1, 84–87 in a DF. */
  keyRef: number;
  /** SAM key index (P1, P2 of 80 DE). */
  samKey: readonly [number, number];
  card8: Uint8Array;
  city8: Uint8Array;
}

export interface SecureUpdateParams {
  /** Record number (P1 of 04 DC). */
  record: number;
  /** The complete TLV (tag ‖ len ‖ value) to write. */
  tlv: Uint8Array;
  /** SAM index of the DF's secure-messaging key (STK). */
  stk: readonly [number, number];
  card8: Uint8Array;
  city8: Uint8Array;
}

export interface SamAuthorizerOptions {
  /** SAM PIN digits (test SAMs: "123456"). Never logged. */
  pin: string;
}

/** city8 = ASCII of the first two digits of the city code ‖ "000000". */
export function city8Of(cityCode: string): Uint8Array {
  if (!/^\d{2}/.test(cityCode)) throw new HealthCardError('ITEM_VALUE_INVALID', 'city code must start with two digits', { itemNo: 57 });
  return new TextEncoder().encode(`${cityCode.slice(0, 2)}000000`);
}

/** PIN digits → packed BCD (odd length F-padded): "123456" → 12 34 56. */
export function pinToBcd(pin: string): Uint8Array {
  if (!/^\d{4,12}$/.test(pin)) throw new HealthCardError('ITEM_VALUE_INVALID', 'SAM PIN must be 4–12 digits');
  const padded = pin.length % 2 ? `${pin}F` : pin;
  return Uint8Array.from(Buffer.from(padded, 'hex'));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class SamAuthorizer {
  private readonly sam: CardChannel | undefined;
  private readonly pin: string;
  private pinVerified = false;
  private info: SamInfo | undefined;
  /** SAM commands sent (for the caller's statistics). */
  samCommands = 0;

  constructor(samChannel: CardChannel | undefined, options: SamAuthorizerOptions) {
    // The SAM is T=0: data comes back as 61xx + GET RESPONSE, a wrong Le as 6Cxx.
    this.sam = samChannel ? withIsoTransmission(samChannel) : undefined;
    this.pin = options.pin;
  }

  /** The caller powered (or re-powered) the SAM: its PIN state and session are gone. */
  samPoweredOn(): void {
    this.pinVerified = false;
    this.info = undefined;
  }

  private channel(): CardChannel {
    if (!this.sam) throw new HealthCardError('NO_SAM', 'no SAM is available for this operation');
    return this.sam;
  }

  private async samTransmit(apdu: Uint8Array, sensitive?: 'command' | 'response' | 'both'): Promise<{ data: Uint8Array; sw: number }> {
    this.samCommands++;
    return parseResponse(await this.channel().transmit(apdu, sensitive ? { sensitive } : undefined));
  }

  /** Verifies the SAM PIN unless it was verified since the last power-on. */
  async verifyPin(): Promise<void> {
    if (this.pinVerified) return;
    const bcd = pinToBcd(this.pin);
    const { sw } = await this.samTransmit(command(0x00, 0x20, 0x00, 0x00, bcd), 'command');
    if (sw === 0x9000) { this.pinVerified = true; return; }
    const tries = triesLeft(sw);
    if (sw === 0x6983 || tries === 0) throw new HealthCardError('SAM_PIN_BLOCKED', 'the SAM PIN is blocked', { sw: swHex(sw) });
    if (tries !== undefined) throw new HealthCardError('SAM_PIN_WRONG', `the SAM refused the PIN, ${tries} tries left`, { sw: swHex(sw), triesLeft: tries });
    throw new HealthCardError('SAM_FAILED', `SAM VERIFY answered ${swHex(sw)}`, { sw: swHex(sw) });
  }

  private async readSamFile(fid: number, length: number): Promise<Uint8Array> {
    const sel = await this.samTransmit(command(0x00, 0xa4, 0x00, 0x00, [fid >> 8, fid & 0xff]));
    if (sel.sw !== 0x9000) throw new HealthCardError('SAM_FAILED', `SAM SELECT ${fid.toString(16).padStart(4, '0')} answered ${swHex(sel.sw)}`, { sw: swHex(sel.sw) });
    const r = await this.samTransmit(command(0x00, 0xb0, 0x00, 0x00, [], length));
    if (r.sw !== 0x9000 || r.data.length !== length) {
      throw new HealthCardError('SAM_FAILED', `SAM READ BINARY of ${fid.toString(16).padStart(4, '0')} answered ${swHex(r.sw)}`, { sw: swHex(r.sw) });
    }
    return r.data;
  }

  /** Reads MF/EF0015, MF/EF0016 and DF01/EF001A (cached until the next samPoweredOn()). */
  async readInfo(): Promise<SamInfo> {
    if (this.info) return this.info;
    const e15 = await this.readMf(0x0015, 14);
    const e16 = await this.readMf(0x0016, 6);
    const sel = await this.samTransmit(command(0x00, 0xa4, 0x00, 0x00, [0xdf, 0x01]));
    if (sel.sw !== 0x9000) throw new HealthCardError('SAM_FAILED', `SAM SELECT DF01 answered ${swHex(sel.sw)}`, { sw: swHex(sel.sw) });
    const e1a = await this.readSamFile(0x001a, 25);
    const receiverId = decodeCn(e1a.subarray(9, 17)) ?? '';
    this.info = {
      serial: decodeCn(e15.subarray(0, 10)) ?? '',
      version: e15[10], keyCardType: e15[11], commandSetVersion: e15[12],
      terminalId: decodeCn(e16) ?? '',
      keyIndex: e1a[0],
      issuerId: hexUpper(e1a.subarray(1, 9)),
      receiverId,
      province: receiverId.slice(0, 2),
      startDate: decodeCn(e1a.subarray(17, 21)),
      endDate: decodeCn(e1a.subarray(21, 25)),
    };
    return this.info;
  }

  private async readMf(fid: number, length: number): Promise<Uint8Array> {
    const mf = await this.samTransmit(command(0x00, 0xa4, 0x00, 0x00, [0x3f, 0x00]));
    if (mf.sw !== 0x9000) throw new HealthCardError('SAM_FAILED', `SAM SELECT MF answered ${swHex(mf.sw)}`, { sw: swHex(mf.sw) });
    return this.readSamFile(fid, length);
  }

  /** Throws CARD_FROM_OTHER_PROVINCE when the card's province (from city8) is not the SAM's. */
  async checkProvince(city8: Uint8Array): Promise<void> {
    const info = await this.readInfo();
    const cardProvince = new TextDecoder().decode(city8.subarray(0, 2));
    if (info.province !== cardProvince) {
      throw new HealthCardError('CARD_FROM_OTHER_PROVINCE', 'the card belongs to another province than the SAM serves', { cardProvince, samProvince: info.province });
    }
  }

  /** GET CHALLENGE on the card → R (8 bytes). */
  private async challenge(card: CardChannel): Promise<Uint8Array> {
    const r = parseResponse(await card.transmit(command(0x00, 0x84, 0x00, 0x00, [], 8)));
    if (r.sw !== 0x9000 || r.data.length !== 8) {
      throw new HealthCardError('CARD_AUTH_FAILED', `GET CHALLENGE answered ${swHex(r.sw)}`, { sw: swHex(r.sw) });
    }
    return r.data;
  }

  /** Before any challenge: the province check (two-level keys) and the SAM PIN. */
  private async prepare(samKey: readonly [number, number], card8: Uint8Array, city8: Uint8Array): Promise<void> {
    this.channel();
    if (card8.length !== 8 || city8.length !== 8) throw new HealthCardError('ITEM_VALUE_INVALID', 'card8 and city8 are 8 bytes each');
    if (samKey[0] === 0x47 || samKey[0] === 0x48) await this.checkProvince(city8);
    await this.verifyPin();
  }

  /** 80 DE: key diversification + session keys for this challenge. */
  private async setUpSession(samKey: readonly [number, number], card8: Uint8Array, city8: Uint8Array, challenge: Uint8Array): Promise<void> {
    const [p1, p2] = samKey;
    const twoLevel = p1 === 0x47 || p1 === 0x48;
    const data = twoLevel ? concat(card8, city8, challenge) : concat(card8, challenge);
    let r = await this.samTransmit(command(0x80, 0xde, p1, p2, data), 'both');
    if (r.sw === 0x6982) {
      // The SAM lost its PIN state (re-powered behind our back): verify again, once.
      this.pinVerified = false;
      await this.verifyPin();
      r = await this.samTransmit(command(0x80, 0xde, p1, p2, data), 'both');
    }
    if (r.sw === 0x6a88) throw new HealthCardError('SAM_KEY_NOT_FOUND', `the SAM has no key ${swHex((p1 << 8) | p2)}`, { samKey: swHex((p1 << 8) | p2) });
    if (r.sw !== 0x9000) throw new HealthCardError('SAM_FAILED', `SAM 80DE answered ${swHex(r.sw)}`, { sw: swHex(r.sw) });
  }

  private async samCipher(p1: 0x00 | 0x05, data: Uint8Array, expected: number): Promise<Uint8Array> {
    const r = await this.samTransmit(command(0x80, 0xfa, p1, 0x00, data), 'both');
    if (r.sw !== 0x9000 || r.data.length !== expected) {
      throw new HealthCardError('SAM_FAILED', `SAM 80FA${p1 === 0 ? '00' : '05'} answered ${swHex(r.sw)}`, { sw: swHex(r.sw) });
    }
    return r.data;
  }

  /** EXTERNAL AUTHENTICATE of one card key; the card keeps the security state in its current DF. */
  async externalAuthenticate(card: CardChannel, params: ExternalAuthenticateParams): Promise<void> {
    await this.prepare(params.samKey, params.card8, params.city8);
    const r = await this.challenge(card);
    await this.setUpSession(params.samKey, params.card8, params.city8, r);
    const c = await this.samCipher(0x00, concat(HOST_CONSTANT, new Uint8Array(8)), 16);
    const cryptogram = c.subarray(0, 8).map((b, i) => b ^ c[8 + i]);
    const resp = parseResponse(await card.transmit(command(0x00, 0x82, 0x00, params.keyRef, concat(cryptogram, HOST_CONSTANT, Uint8Array.of(ALGORITHM_SM4))), { sensitive: 'command' }));
    if (resp.sw === 0x9000) return;
    const keyRef = swHex(params.keyRef).slice(2);
    const tries = triesLeft(resp.sw);
    if (resp.sw === 0x6983 || tries === 0) throw new HealthCardError('CARD_KEY_BLOCKED', `card key ${keyRef} is blocked`, { keyRef, sw: swHex(resp.sw) });
    throw new HealthCardError('CARD_AUTH_FAILED', `card refused EXTERNAL AUTHENTICATE for key ${keyRef} (SW ${swHex(resp.sw)})`, {
      keyRef, sw: swHex(resp.sw), ...(tries !== undefined ? { triesLeft: tries } : {}),
    });
  }

  /** Secure-messaging UPDATE RECORD (CLA 04) of one TLV record in the card's current EF. */
  async secureUpdateRecord(card: CardChannel, params: SecureUpdateParams): Promise<void> {
    const update = await this.secureUpdateRecordCommand(card, params);
    const resp = parseResponse(await card.transmit(update, { sensitive: 'command' }));
    if (resp.sw !== 0x9000) {
      throw new HealthCardError('CARD_WRITE_FAILED', `secure UPDATE RECORD ${params.record} answered ${swHex(resp.sw)}`, { record: params.record, sw: swHex(resp.sw) });
    }
  }

  /**
   * Everything of a secure-messaging UPDATE RECORD up to the card command itself: GET CHALLENGE on the
   * card, session keys, encryption and MAC in the SAM. Returns the command APDU (04 DC …), valid for
   * this challenge only; the caller sends it (with `sensitive: 'command'`), so it knows exactly whether
   * the one command that changes the card was sent and answered.
   */
  async secureUpdateRecordCommand(card: CardChannel, params: SecureUpdateParams): Promise<Uint8Array> {
    if (params.tlv.length > 0xff - 1) throw new HealthCardError('ITEM_VALUE_TOO_LONG', 'TLV too long for one secure-messaging record');
    await this.prepare(params.stk, params.card8, params.city8);
    const r = await this.challenge(card);
    await this.setUpSession(params.stk, params.card8, params.city8, r);
    // Plain = L ‖ TLV ‖ 80 00… to a multiple of 16 (ISO/IEC 9797-1 method 2).
    const unpadded = concat(Uint8Array.of(params.tlv.length), params.tlv, Uint8Array.of(0x80));
    const plain = new Uint8Array(Math.ceil(unpadded.length / 16) * 16);
    plain.set(unpadded);
    const encrypted = await this.samCipher(0x00, plain, plain.length);
    const lc = encrypted.length + 4;
    const header = Uint8Array.of(0x04, 0xdc, params.record, 0x04, lc);
    const mac = await this.samCipher(0x05, concat(header, encrypted), 4);
    return concat(header, encrypted, mac);
  }
}
