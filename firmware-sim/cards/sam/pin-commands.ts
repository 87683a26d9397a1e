// SAM PIN commands: VERIFY (00 20 00 00 Lc PIN; without data it reports the tries left) and
// CHANGE PIN (80 5E 00 00 Lc old ‖ FF ‖ new). 3 wrong PINs block the SAM (6983).
import type { CommandApdu } from '../../card-os/command-apdu.ts';
import type { Handler } from '../../card-os/command-table.ts';
import { CardStatus, SW, verifyFailed } from '../../card-os/status-words.ts';
import { isBcdPin, type SamState } from './sam-state.ts';

function samePin(a: Uint8Array, b: Uint8Array): boolean {
  let d = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) d |= a[i] ^ b[i];
  return d === 0;
}

function checkPin(state: SamState, candidate: Uint8Array): number | undefined {
  if (state.pinTriesLeft === 0) throw new CardStatus(SW.AUTHENTICATION_BLOCKED);
  if (!samePin(state.pin, candidate)) {
    state.pinTriesLeft -= 1;
    state.pinVerified = false;
    return state.pinTriesLeft === 0 ? SW.AUTHENTICATION_BLOCKED : verifyFailed(state.pinTriesLeft);
  }
  return undefined;
}

export function verifyPin(state: SamState): Handler {
  return {
    kind: 'crypto',
    classes: [0x00],
    run(_card, command: CommandApdu) {
      if (command.p1 !== 0 || command.p2 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
      if (command.data.length === 0) {
        if (command.le !== undefined) throw new CardStatus(SW.WRONG_LENGTH);
        if (state.pinTriesLeft === 0) return { sw: SW.AUTHENTICATION_BLOCKED };
        return { sw: state.pinVerified ? SW.OK : verifyFailed(state.pinTriesLeft) };
      }
      if (command.data.length < 2 || command.data.length > 6) throw new CardStatus(SW.WRONG_LENGTH);
      const failed = checkPin(state, command.data);
      if (failed !== undefined) return { sw: failed };
      state.pinTriesLeft = state.pinMaxTries;
      state.pinVerified = true;
      return { sw: SW.OK };
    },
  };
}

export function changePin(state: SamState): Handler {
  return {
    kind: 'crypto',
    classes: [0x80],
    run(_card, command: CommandApdu) {
      if (command.p1 !== 0 || command.p2 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
      const sep = command.data.indexOf(0xff);
      if (sep < 0) throw new CardStatus(SW.WRONG_DATA);
      const oldPin = command.data.subarray(0, sep);
      const newPin = command.data.slice(sep + 1);
      if (!isBcdPin(oldPin) || !isBcdPin(newPin)) throw new CardStatus(SW.WRONG_DATA);
      const failed = checkPin(state, oldPin);
      if (failed !== undefined) return { sw: failed };
      state.pin = newPin;
      state.pinTriesLeft = state.pinMaxTries;
      state.pinVerified = true;
      return { sw: SW.OK };
    },
  };
}
