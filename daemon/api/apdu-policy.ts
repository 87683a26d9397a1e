// Which raw APDUs the raw routes (POST …/slots/:slot/apdu and …/batch) refuse unless the caller's
// token carries apdu.restricted. The health-card routes do their own PIN and key work inside the
// daemon; a raw caller that can spend a retry counter can destroy a SAM (3 wrong VERIFYs block its
// PIN) or a card key (wrong EXTERNAL AUTHENTICATEs block it for good), and a raw caller that can
// talk to a verified SAM can use it as an oracle for authentication cryptograms (80 DE / 80 FA).
// So: every command to a SAM slot, and to any slot the commands below (by INS, whatever the CLA:
// secure-messaging and chaining bits do not change what a command does).

/** INS bytes refused on every slot, with what they do (for the error message). */
const RESTRICTED_INS: ReadonlyMap<number, string> = new Map([
  [0x20, 'VERIFY (spends the PIN retry counter)'],
  [0x21, 'VERIFY (spends the PIN retry counter)'],
  [0x24, 'CHANGE REFERENCE DATA / PIN UNBLOCK'],
  [0x26, 'DISABLE VERIFICATION REQUIREMENT'],
  [0x28, 'ENABLE VERIFICATION REQUIREMENT'],
  [0x2c, 'RESET RETRY COUNTER'],
  [0x5e, 'CHANGE PIN'],
  [0x82, 'EXTERNAL AUTHENTICATE (spends the key retry counter)'],
  [0x86, 'GENERAL AUTHENTICATE'],
  [0x87, 'GENERAL AUTHENTICATE'],
  [0x88, 'INTERNAL AUTHENTICATE'],
  [0x2a, 'PERFORM SECURITY OPERATION'],
  [0xde, 'key derivation (SAM 80 DE)'],
  [0xfa, 'cipher / MAC with a SAM key (80 FA)'],
  [0xd4, 'WRITE KEY'],
  [0x16, 'CARD BLOCK'],
  [0x18, 'APPLICATION UNBLOCK'],
  [0x1e, 'APPLICATION BLOCK'],
  [0x04, 'DEACTIVATE FILE'],
  [0x44, 'ACTIVATE FILE'],
  [0xe0, 'CREATE FILE'],
  [0xe4, 'DELETE FILE'],
  [0xe6, 'TERMINATE DF'],
  [0xe8, 'TERMINATE EF'],
  [0xfe, 'TERMINATE CARD USAGE'],
  [0xc2, 'ENVELOPE (can carry any command)'],
  [0xc3, 'ENVELOPE (can carry any command)'],
]);

/** SAM slots are 0x11–0x1F on every backend (PROTOCOL.md slot numbering). */
function isSamSlot(slot: number, kind?: string): boolean {
  return kind === 'sam' || (slot >= 0x11 && slot <= 0x1f);
}

/** Why the policy refuses this raw command without apdu.restricted, or undefined when it does not. */
export function restrictedReason(slot: number, slotKind: string | undefined, apdu: Uint8Array): string | undefined {
  if (isSamSlot(slot, slotKind)) return `raw commands to a SAM slot (0x${slot.toString(16)})`;
  const cla = apdu[0];
  const ins = apdu[1];
  // PC/SC pseudo-APDUs (CLA FF): direct transmit (INS 00) tunnels any command to the chip.
  if (cla === 0xff && ins === 0x00) return 'PC/SC direct transmit (FF 00), which can carry any command';
  const what = RESTRICTED_INS.get(ins);
  return what ? `${what} (INS ${ins.toString(16).toUpperCase().padStart(2, '0')})` : undefined;
}
