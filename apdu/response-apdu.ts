// ISO/IEC 7816-4 response APDUs: data ‖ SW1 SW2.

import { ApduFormatError } from './apdu-errors.ts';

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
  sw1: number;
  sw2: number;
}

export function parseResponse(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) throw new ApduFormatError('APDU_TOO_SHORT', `response of ${bytes.length} bytes, at least 2 needed`);
  const sw1 = bytes[bytes.length - 2];
  const sw2 = bytes[bytes.length - 1];
  return { data: bytes.slice(0, -2), sw: (sw1 << 8) | sw2, sw1, sw2 };
}

export function encodeResponse(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = (sw >> 8) & 0xff;
  out[data.length + 1] = sw & 0xff;
  return out;
}

/** Status word of a response APDU (0 when the response is malformed). */
export function statusWord(bytes: Uint8Array): number {
  return bytes.length < 2 ? 0 : (bytes[bytes.length - 2] << 8) | bytes[bytes.length - 1];
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
