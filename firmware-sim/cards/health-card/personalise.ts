// Writes a profile's values into a freshly built health card tree: TLV items into their records, the
// photo (2-byte length ‖ bytes) into EF07, allergy/immunisation records newest first, visit files and
// their DF03 index flags. Values go through the shared codecs (apdu/healthcard/codecs.ts).
import { encodeValue } from '../../../apdu/healthcard/codecs.ts';
import { dataItem, itemsOfFile, type DataItem, type ItemFile } from '../../../apdu/healthcard/data-items.ts';
import { visitFilesOf, type FileId } from '../../../apdu/healthcard/file-map.ts';
import { RecordFile, TransparentFile } from '../../card-os/file-system.ts';
import type { HealthCardProfile, ItemValues } from '../../personalisation/profile.ts';
import type { HealthCardTree } from './health-card-tree.ts';
import { FLAG_VALID } from './index-flag-commands.ts';

function record(tree: HealthCardTree, id: FileId): RecordFile {
  const f = tree.files.get(id);
  if (!(f instanceof RecordFile)) throw new Error(`${id} is not a record file`);
  return f;
}

function transparent(tree: HealthCardTree, id: FileId): TransparentFile {
  const f = tree.files.get(id);
  if (!(f instanceof TransparentFile)) throw new Error(`${id} is not a transparent file`);
  return f;
}

function writeTlvItems(tree: HealthCardTree, items: ItemValues): void {
  for (const [key, value] of Object.entries(items)) {
    const item = dataItem(Number(key));
    if (item.tag === undefined) continue;
    const file = record(tree, item.file as FileId);
    const rec = file.records.find((r) => r[0] === item.tag);
    if (!rec) throw new Error(`no record for tag ${item.tag}`);
    rec.set(encodeValue(item.format, item.length, value ?? null, item.itemNo), 2);
  }
}

const layouts = new Map<ItemFile, DataItem[]>();
function layoutOf(group: ItemFile): DataItem[] {
  let items = layouts.get(group);
  if (!items) layouts.set(group, (items = itemsOfFile(group)));
  return items;
}

/** Encodes the fields of a raw layout (record or visit data area) at their offsets. */
function writeLayout(target: Uint8Array, group: ItemFile, values: ItemValues): void {
  for (const item of layoutOf(group)) {
    const value = values[item.itemNo];
    if (value === undefined || value === null) continue;
    target.set(encodeValue(item.format, item.length, value, item.itemNo), item.offset ?? 0);
  }
}

function writeRecords(file: RecordFile, group: ItemFile, list: ItemValues[] | undefined): void {
  (list ?? []).slice(0, file.records.length).forEach((values, i) => writeLayout(file.records[i], group, values));
}

function writeVisits(tree: HealthCardTree, indexId: 'DF03/EF05' | 'DF03/EF06', group: ItemFile, visits: Array<ItemValues | null> | undefined): void {
  const index = record(tree, indexId);
  const ids = visitFilesOf(indexId);
  (visits ?? []).slice(0, ids.length).forEach((values, i) => {
    if (!values) return;
    writeLayout(transparent(tree, ids[i]).data, group, values);
    index.records[i][0] = FLAG_VALID;
  });
}

export function personaliseHealthCard(tree: HealthCardTree, profile: HealthCardProfile, photo: Uint8Array | null): void {
  writeTlvItems(tree, profile.items);
  if (photo) {
    const ef = transparent(tree, 'DDF1/EF07');
    ef.data[0] = photo.length >> 8;
    ef.data[1] = photo.length & 0xff;
    ef.data.set(photo, 2);
  }
  writeRecords(record(tree, 'DF02/EF07'), 'DF02/EF07', profile.allergies);
  writeRecords(record(tree, 'DF02/EF08'), 'DF02/EF08', profile.immunisations);
  writeVisits(tree, 'DF03/EF05', 'DF03/EE', profile.inpatient);
  writeVisits(tree, 'DF03/EF06', 'DF03/ED', profile.outpatient);
}
