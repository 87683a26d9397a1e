// GET CHALLENGE (00 84) and EXTERNAL AUTHENTICATE (00 82) of docs/HEALTHCARD-SECURITY.md: the host
// proves it knows the DF's key by encrypting our challenge; success sets that key's security state
// in the current DF, failure counts down the key's retry counter (63Cx, then 6983 blocked).
import type { CommandApdu } from '../command-apdu.ts';
import type { CardOs } from '../card-os.ts';
import type { CardResponse, Handler } from '../command-table.ts';
import { authenticationCryptogram, sessionKeys } from '../session-keys.ts';
import { CardStatus, SW, verifyFailed } from '../status-words.ts';

const CHALLENGE_LENGTH = 8;
/** Trailing byte of the EXTERNAL AUTHENTICATE data naming the algorithm. */
const ALGORITHM_SM4 = 0x01;

export const getChallenge: Handler = {
  kind: 'crypto',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.p1 !== 0 || command.p2 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
    if (command.le === undefined || command.data.length > 0) throw new CardStatus(SW.WRONG_LENGTH);
    // The challenge is 8 bytes whatever Le says; the transmission rules answer 6C08 to a wrong Le.
    const challenge = card.random(CHALLENGE_LENGTH);
    card.challenge = challenge;
    return { data: Uint8Array.from(challenge), sw: SW.OK };
  },
};

export const externalAuthenticate: Handler = {
  kind: 'crypto',
  classes: [0x00],
  run(card: CardOs, command: CommandApdu): CardResponse {
    if (command.p1 !== 0) throw new CardStatus(SW.INCORRECT_P1P2);
    if (command.data.length !== 0x11) throw new CardStatus(SW.WRONG_LENGTH);
    const key = card.currentDf.keys.get(command.p2);
    if (!key) throw new CardStatus(SW.REFERENCED_DATA_NOT_FOUND);
    if (key.triesLeft === 0) throw new CardStatus(SW.AUTHENTICATION_BLOCKED);
    const challenge = card.takeChallenge();
    if (command.data[16] !== ALGORITHM_SM4) throw new CardStatus(SW.WRONG_DATA);
    const cryptogram = command.data.subarray(0, 8);
    const hostConstant = command.data.subarray(8, 16);
    const expected = authenticationCryptogram(sessionKeys(key.key, challenge).enc, hostConstant);
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= expected[i] ^ cryptogram[i];
    if (diff !== 0) {
      key.triesLeft -= 1;
      card.authenticated.delete(key.ref);
      return { sw: verifyFailed(key.triesLeft) };
    }
    key.triesLeft = key.maxTries;
    card.authenticated.add(key.ref);
    return { sw: SW.OK };
  },
};
