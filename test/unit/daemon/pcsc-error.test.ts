// pcsclite reports failures as text with the PC/SC code; the daemon must turn them into the error a
// user can act on (card removed, reader offline), never a 500.
import { describe, expect, it } from 'vitest';
import { pcscError } from '../../../daemon/devices/pcsc-backend.ts';

describe('pcscError', () => {
  it.each([
    ['SCardTransmit error: Card was removed.(0x80100069)', 'CARD_REMOVED'],
    ['SCardConnect error: No smart card inserted.(0x8010000C)', 'NO_CARD'],
    ['SCardConnect error: Card is unresponsive.(0x80100066)', 'CARD_MUTE'],
    ['SCardTransmit error: Card was reset.(0x80100068)', 'CARD_NOT_POWERED'],
    ['SCardTransmit error: Service not available.(0x8010001D)', 'LINK_CLOSED'],
    ['SCardTransmit error: Reader is unavailable.(0x80100017)', 'LINK_CLOSED'],
    ['SCardTransmit error: No readers available.(0x8010002E)', 'LINK_CLOSED'],
    ['SCardTransmit error: Transaction failed.(0x80100016)', 'CARD_PROTOCOL_ERROR'],
  ])('%s → %s', (text, code) => {
    const e = pcscError(new Error(text), 1);
    expect(e.code).toBe(code);
    expect(e.code).not.toBe('INTERNAL');
  });
});
