// The simulated Resident Health Card: the card OS with the ISO command set plus the DF03 index-flag
// commands, the full file tree of the file map, keys diversified from the (test) master keys for this
// card's card8 and province, personalised from a profile. ATR per docs/HEALTHCARD-SECURITY.md.
import { KEYS, type KeyName } from '../../apdu/healthcard/file-map.ts';
import { buildAtr } from '../card-os/atr.ts';
import { CardOs } from '../card-os/card-os.ts';
import { commandTable } from '../card-os/command-table.ts';
import { isoCommands } from '../card-os/iso-commands.ts';
import type { HealthCardProfile } from '../personalisation/profile.ts';
import { provinceOfProfile, validateProfile } from '../personalisation/profile-schema.ts';
import { cardKey, city8Of, testMasterKey, type MasterKeyProvider } from './health-card-keys.ts';
import { buildHealthCardTree, type CardKeys, type HealthCardTree } from './health-card/health-card-tree.ts';
import { eraseIndexFlag, setIndexFlag } from './health-card/index-flag-commands.ts';
import { personaliseHealthCard } from './health-card/personalise.ts';

/** Historical bytes after card8: "WS10". */
const HEALTH_CARD_ATR_SUFFIX = Uint8Array.of(0x57, 0x53, 0x31, 0x30);

/**
 * TA1 of the simulated health card: Fi = 512, Di = 32 (etu = 16 clocks: 250 kbit/s at a 4 MHz card
 * clock), the TA1 of the CPU cards common in Chinese card programmes (docs/HEALTHCARD-SECURITY.md).
 */
const HEALTH_CARD_TA1 = 0x96;

/**
 * 3B 9C 96 80 01 ‖ card8 ‖ "WS10" ‖ TCK: TA1 = 96, T=0 and T=1, card8 = the first 8 historical bytes
 * (ATR bytes 5..12). A T=0-only card (some issuers' cards) answers 3B 1C 96 ‖ card8 ‖ "WS10": the same
 * historical bytes, so the same card8. `ta1: null` gives the ATR without TA1 (default rate only).
 */
function healthCardAtr(card8: Uint8Array, protocols: ReadonlyArray<0 | 1> = [0, 1], ta1: number | null = HEALTH_CARD_TA1): Uint8Array {
  if (card8.length !== 8) throw new RangeError('card8 is 8 bytes');
  const historical = new Uint8Array(12);
  historical.set(card8);
  historical.set(HEALTH_CARD_ATR_SUFFIX, 8);
  return buildAtr(protocols, historical, ta1 === null ? {} : { ta1 });
}

function healthCardCommands() {
  return commandTable(isoCommands(), new Map([[0xd2, setIndexFlag], [0x0c, eraseIndexFlag]]));
}

export interface HealthCardOptions {
  /** Master keys, default the doc's test master keys. */
  masterKey?: MasterKeyProvider;
  /** Challenge byte source; default a PRNG seeded from the ATR. */
  random?: (length: number) => Uint8Array;
  label?: string;
  /** Transmission protocols the card offers (default T=0 and T=1); [0] makes a T=0-only card. */
  protocols?: ReadonlyArray<0 | 1>;
}

export class SimHealthCard extends CardOs {
  constructor(
    readonly tree: HealthCardTree,
    readonly card8: Uint8Array,
    readonly province: string,
    options: HealthCardOptions,
  ) {
    super({
      label: options.label ?? 'health-card',
      atr: healthCardAtr(card8, options.protocols ?? [0, 1]),
      protocols: options.protocols ?? [0, 1],
      mf: tree.mf,
      commands: healthCardCommands(),
      random: options.random,
    });
  }

  /** Tries left of a card key (diagnostics and tests). */
  triesLeft(name: KeyName): number | undefined {
    const def = KEYS[name];
    return def.cardRef === undefined ? undefined : this.tree.dfs[def.df].keys.get(def.cardRef)?.triesLeft;
  }
}

/** Builds a health card from a profile (validated first: ProfileError on a bad one). */
export function createHealthCard(profile: HealthCardProfile, options: HealthCardOptions = {}): SimHealthCard {
  const p = validateProfile(profile);
  const card8 = Uint8Array.from(Buffer.from(p.card8, 'hex'));
  const province = provinceOfProfile(p);
  const city8 = city8Of(province);
  const masterKey = options.masterKey ?? testMasterKey;
  const keys = {} as CardKeys;
  for (const def of Object.values(KEYS)) keys[def.name] = cardKey(def, card8, city8, masterKey);
  const blocked = new Set(p.keysBlocked ?? []);
  const tree = buildHealthCardTree(keys, (name) => (blocked.has(name) ? 0 : (p.keyTries?.[name] ?? 15)));
  const photo = p.photo ? Uint8Array.from(Buffer.from(p.photo, 'base64')) : null;
  personaliseHealthCard(tree, p, photo);
  return new SimHealthCard(tree, card8, province, options);
}
