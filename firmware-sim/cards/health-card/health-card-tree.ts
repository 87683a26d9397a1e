// The Resident Health Card file tree built from the shared file map (apdu/healthcard/file-map.ts), so
// the simulated card and the host can never disagree on a FID, a size, a key or an access rule.
// Every file starts unwritten: TLV records as tag ‖ len ‖ FF…, everything else FF.
import {
  DEDICATED_FILES, ELEMENTARY_FILES, KEYS, MF, TLV_ITEM_LENGTHS, fciOf,
  type DfName, type ElementaryFile as FileSpec, type FileId, type KeyName,
} from '../../../apdu/healthcard/file-map.ts';
import {
  ALWAYS, DedicatedFile, RecordFile, TransparentFile, afterKey,
  type AccessCondition, type ElementaryFile,
} from '../../card-os/file-system.ts';
import { INDEX_FLAG_PURPOSE } from './index-flag-commands.ts';

export interface HealthCardTree {
  mf: DedicatedFile;
  dfs: Record<DfName, DedicatedFile>;
  files: Map<FileId, ElementaryFile>;
}

/** The key material of one card: Kcard per key name (the STKs included). */
export type CardKeys = Record<KeyName, Uint8Array>;

function keyCondition(name: KeyName | 'free'): AccessCondition {
  if (name === 'free') return ALWAYS;
  const ref = KEYS[name].cardRef;
  if (ref === undefined) throw new Error(`key ${name} has no card reference`);
  return afterKey(ref);
}

function buildFile(spec: FileSpec): ElementaryFile {
  const access = { read: keyCondition(spec.readKey), update: keyCondition(spec.updateKey), updateMode: spec.updateMode };
  switch (spec.content) {
    case 'tlv-records': {
      const items = spec.recordItems ?? [];
      const file = new RecordFile(spec.fid, 'linear', items.map((t) => TLV_ITEM_LENGTHS[t] + 2), access);
      items.forEach((tag, i) => {
        file.records[i][0] = tag;
        file.records[i][1] = TLV_ITEM_LENGTHS[tag];
      });
      return file;
    }
    case 'cyclic-records':
      return new RecordFile(spec.fid, 'cyclic', Array(spec.recordCount ?? 0).fill(spec.recordSize ?? 0), access);
    case 'index-flags':
      return new RecordFile(spec.fid, 'linear', Array(spec.recordCount ?? 0).fill(1), access, { purpose: INDEX_FLAG_PURPOSE });
    case 'photo':
    case 'visit':
      return new TransparentFile(spec.fid, spec.size ?? 0, access);
  }
}

export function buildHealthCardTree(keys: CardKeys, tries: (name: KeyName) => number): HealthCardTree {
  const mf = new DedicatedFile(MF.fid, MF.dfName, fciOf('MF'));
  const ddf1 = mf.add(new DedicatedFile(DEDICATED_FILES.DDF1.fid, DEDICATED_FILES.DDF1.dfName, fciOf('DDF1')));
  const dfs: Record<DfName, DedicatedFile> = {
    DDF1: ddf1,
    DF01: ddf1.add(new DedicatedFile(DEDICATED_FILES.DF01.fid, DEDICATED_FILES.DF01.dfName, fciOf('DF01'))),
    DF02: ddf1.add(new DedicatedFile(DEDICATED_FILES.DF02.fid, DEDICATED_FILES.DF02.dfName, fciOf('DF02'))),
    DF03: ddf1.add(new DedicatedFile(DEDICATED_FILES.DF03.fid, DEDICATED_FILES.DF03.dfName, fciOf('DF03'))),
  };
  const files = new Map<FileId, ElementaryFile>();
  for (const spec of ELEMENTARY_FILES) files.set(spec.id, dfs[spec.df].add(buildFile(spec)));
  for (const def of Object.values(KEYS)) {
    const df = dfs[def.df];
    if (def.cardRef === undefined) df.smKey = Uint8Array.from(keys[def.name]);
    else {
      df.addKey(def.cardRef, keys[def.name]);
      const key = df.keys.get(def.cardRef)!;
      key.triesLeft = Math.max(0, Math.min(key.maxTries, tries(def.name)));
    }
  }
  return { mf, dfs, files };
}
