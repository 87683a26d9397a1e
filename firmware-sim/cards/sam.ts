// The simulated SAM (docs/HEALTHCARD-SECURITY.md "SAM commands"): T=0 only, PIN with 3 tries, its
// files, key diversification + session set-up (80 DE), encryption and MAC (80 FA), GET RESPONSE.
// It serves one province (city8); its keys come from the test master keys unless given.
import { KEYS } from '../../apdu/healthcard/file-map.ts';
import { buildAtr } from '../card-os/atr.ts';
import { CardOs } from '../card-os/card-os.ts';
import type { CommandTable } from '../card-os/command-table.ts';
import { readBinary } from '../card-os/handlers/binary.ts';
import { getResponse } from '../card-os/handlers/get-response.ts';
import { select } from '../card-os/handlers/select.ts';
import { city8Of, isTwoLevel, samKey, testMasterKey, type MasterKeyProvider } from './health-card-keys.ts';
import { changePin, verifyPin } from './sam/pin-commands.ts';
import { samFileTree } from './sam/sam-files.ts';
import { samCipher, setUpSession } from './sam/session-commands.ts';
import { pinToBcd } from '../../apdu/healthcard/sam-authorizer.ts';
import { SamState, type SamKeyEntry } from './sam/sam-state.ts';

export interface SamOptions {
  /** Province the SAM serves: two digits ("11") or any city code starting with them ("440300"). Default "11". */
  province?: string;
  /** PIN digits, default "123456". */
  pin?: string;
  /** PIN tries before blocking, default 3. */
  pinTries?: number;
  /** 20 digits, default derived from the province. */
  serial?: string;
  /** 12 digits, default "000000000001". */
  terminalId?: string;
  /** Master keys; default the test master keys of the doc. */
  masterKey?: MasterKeyProvider;
  label?: string;
}

/** The SAM ATR: T=0 only, historical bytes "YIKASAM1". */
export const SAM_ATR = buildAtr([0], new TextEncoder().encode('YIKASAM1'));

export class SimSam extends CardOs {
  constructor(
    readonly state: SamState,
    readonly province: string,
    options: { label: string; serial: string; terminalId: string },
  ) {
    const commands: CommandTable = new Map([
      [0xa4, select],
      [0xb0, readBinary],
      [0xc0, getResponse],
      [0x20, verifyPin(state)],
      [0x5e, changePin(state)],
      [0xde, setUpSession(state)],
      [0xfa, samCipher(state)],
    ]);
    super({
      label: options.label,
      atr: SAM_ATR,
      protocols: [0],
      mf: samFileTree({ serial: options.serial, terminalId: options.terminalId, province }),
      commands,
      extendedLength: false,
      onVolatileReset: () => state.clearVolatile(),
    });
  }

  get pinTriesLeft(): number {
    return this.state.pinTriesLeft;
  }
}

export function createSam(options: SamOptions = {}): SimSam {
  const province = (options.province ?? '11').slice(0, 2);
  const city8 = city8Of(province);
  const masterKey = options.masterKey ?? testMasterKey;
  const keys = new Map<number, SamKeyEntry>();
  for (const def of Object.values(KEYS)) {
    const [p1, p2] = def.sam;
    keys.set((p1 << 8) | p2, { p1, p2, key: samKey(p1, p2, city8, masterKey), twoLevel: isTwoLevel(p1) });
  }
  const state = new SamState(pinToBcd(options.pin ?? '123456'), options.pinTries ?? 3, keys);
  return new SimSam(state, province, {
    label: options.label ?? 'sam',
    serial: options.serial ?? `${province}${'0'.repeat(17)}1`,
    terminalId: options.terminalId ?? '000000000001',
  });
}
