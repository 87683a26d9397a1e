// Small helpers for the sim-card tests: hex in/out and an exchange that returns hex + SW.
import type { SimCard } from '../../../firmware-sim/sim-card.ts';
// sm-crypto is an independent (pure-JS) SM3/SM4 implementation: the tests recompute the doc's maths
// with it rather than with the code under test.
import smCrypto from 'sm-crypto';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

export interface Exchange {
  data: string;
  sw: string;
  kind: string;
}

export function tx(card: SimCard, apdu: string | Uint8Array, protocol: 0 | 1 = 1): Exchange {
  const answer = card.process(typeof apdu === 'string' ? hex(apdu) : apdu, protocol);
  const r = answer.response;
  return { data: toHex(r.subarray(0, r.length - 2)), sw: toHex(r.subarray(r.length - 2)), kind: answer.kind };
}

const { sm4: libSm4, sm3: libSm3 } = smCrypto as {
  sm4: { encrypt(data: number[], key: number[], opts: object): number[]; decrypt(data: number[], key: number[], opts: object): number[] };
  sm3(data: number[]): string;
};

/** Reference SM4-ECB (no padding). */
export function refSm4Ecb(key: Uint8Array, data: Uint8Array): Uint8Array {
  return Uint8Array.from(libSm4.encrypt([...data], [...key], { padding: 'none', output: 'array' }));
}

function refSm3(data: Uint8Array): Uint8Array {
  return hex(libSm3([...data]));
}

/** The doc's maths recomputed with the reference implementation. */
export const reference = {
  masterKey(p1: number, p2: number): Uint8Array {
    return refSm3(Uint8Array.from([...Buffer.from('YIKA-TEST-MK'), p1, p2])).slice(0, 16);
  },
  div(key: Uint8Array, d8: Uint8Array): Uint8Array {
    return refSm4Ecb(key, Uint8Array.from([...d8, ...d8.map((b) => ~b & 0xff)]));
  },
  city8(province: string): Uint8Array {
    return Uint8Array.from(Buffer.from(`${province}000000`, 'ascii'));
  },
  cardKey(p1: number, p2: number, card8: Uint8Array, province: string): Uint8Array {
    const mk = reference.masterKey(p1, p2);
    return p1 === 0x47 || p1 === 0x48 ? reference.div(reference.div(mk, reference.city8(province)), card8) : reference.div(mk, card8);
  },
  sessionKeys(key: Uint8Array, r: Uint8Array): { enc: Uint8Array; mac: Uint8Array } {
    return {
      enc: refSm4Ecb(key, Uint8Array.from([...r, 0, 0, 0, 0, 0, 0, 0, 0])),
      mac: refSm4Ecb(key, Uint8Array.from([...r, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
    };
  },
  cryptogram(skEnc: Uint8Array, p: Uint8Array): Uint8Array {
    const c = refSm4Ecb(skEnc, Uint8Array.from([...p, 0, 0, 0, 0, 0, 0, 0, 0]));
    return c.slice(0, 8).map((b, i) => b ^ c[8 + i]);
  },
  mac4(skMac: Uint8Array, data: Uint8Array): Uint8Array {
    const padded = new Uint8Array((Math.floor(data.length / 16) + 1) * 16);
    padded.set(data);
    padded[data.length] = 0x80;
    let chain: Uint8Array = new Uint8Array(16);
    for (let i = 0; i < padded.length; i += 16) chain = refSm4Ecb(skMac, chain.map((b, j) => b ^ padded[i + j]));
    return chain.slice(0, 4);
  },
};

export const HOST_CONSTANT = hex('59494B41484F5354'); // "YIKAHOST"

/** The first 8 historical bytes of the ATR (after TS, T0 and the interface bytes T0/TDi announce). */
export function card8Of(atr: Uint8Array): Uint8Array {
  let y = atr[1] >> 4;
  let i = 2;
  for (;;) {
    const td = y & 8 ? atr[i + ((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1))] : undefined;
    i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1);
    if (td === undefined) break;
    y = td >> 4;
  }
  return atr.slice(i, i + 8);
}

/** Sends a T=0 command to the SAM and fetches 61xx data with GET RESPONSE, as a host does. */
export function samCommand(sam: SimCard, apdu: string): Exchange {
  const first = tx(sam, apdu, 0);
  if (!first.sw.startsWith('61')) return first;
  return tx(sam, `00C00000${first.sw.slice(2)}`, 0);
}

/**
 * The doc's RK/UK flow through the simulated SAM: GET CHALLENGE on the card, 80 DE, 80 FA, GET RESPONSE,
 * XOR of the halves, EXTERNAL AUTHENTICATE. Returns the card's SW.
 */
export function authenticateWithSam(card: SimCard, sam: SimCard, samIndex: readonly [number, number], cardRef: number, cardAtr: Uint8Array, cityCode: string): string {
  const r = tx(card, '0084000008');
  if (r.sw !== '9000') return r.sw;
  const [p1, p2] = samIndex;
  const twoLevel = p1 === 0x47 || p1 === 0x48;
  const data = toHex(card8Of(cardAtr)) + (twoLevel ? toHex(reference.city8(cityCode.slice(0, 2))) : '') + r.data;
  const setup = samCommand(sam, `80DE${p1.toString(16)}${p2.toString(16).padStart(2, '0')}${(data.length / 2).toString(16).padStart(2, '0')}${data}`);
  if (setup.sw !== '9000') throw new Error(`SAM 80DE ${setup.sw}`);
  const c = samCommand(sam, `80FA000010${toHex(HOST_CONSTANT)}0000000000000000`);
  if (c.sw !== '9000') throw new Error(`SAM 80FA ${c.sw}`);
  const cb = hex(c.data);
  const cryptogram = cb.slice(0, 8).map((b, i) => b ^ cb[8 + i]);
  return tx(card, `008200${cardRef.toString(16).padStart(2, '0')}11${toHex(cryptogram)}${toHex(HOST_CONSTANT)}01`).sw;
}
