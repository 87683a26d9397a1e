// The write journal on its own: intent and outcome lines, what a restart finds, acknowledgement,
// a torn last line, damage in the middle, another live daemon's open write, an unwritable directory.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cardIdentityHash, JOURNAL_FILE, summariseWrite, WriteJournal } from '../../../daemon/journal/write-journal.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yika-journal-'));
  dirs.push(d);
  return d;
}
function logs(): { warn: Array<[object, string]>; info: Array<[object, string]>; log: { warn(o: object, m: string): void; info(o: object, m: string): void } } {
  const warn: Array<[object, string]> = [];
  const info: Array<[object, string]> = [];
  return { warn, info, log: { warn: (o, m) => warn.push([o, m]), info: (o, m) => info.push([o, m]) } };
}
const ATR = Uint8Array.from([0x3b, 0x8c, 0x80, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x57, 0x53, 0x31, 0x30, 0x00]);
const INTENT = { readerId: 'sim-1', slot: 1, card: cardIdentityHash(ATR), what: summariseWrite({ items: { 11: '王小明', 16: '13812345678' }, photo: new Uint8Array(3), outpatient: [{ slot: 2 }] }) };

describe('WriteJournal', () => {
  it('a write with its outcome is not reported; one without is, after the restart, until acknowledged', () => {
    const dir = stateDir();
    const j1 = new WriteJournal(dir);
    const done = j1.begin(INTENT);
    j1.end(done.id, { result: 'ok' });
    const failed = j1.begin(INTENT);
    j1.end(failed.id, { result: 'error', code: 'PARTIAL_WRITE' });
    const cut = j1.begin(INTENT);
    // No close: as after kill -9 (every line is fsync'd when written).
    expect(j1.interrupted()).toEqual([]);

    const l = logs();
    const j2 = new WriteJournal(dir, l.log);
    expect(j2.interrupted()).toEqual([{ ...cut, detectedAt: expect.any(String) }]);
    expect(j2.interrupted()[0].what).toEqual({ items: [11, 16], photo: 'set', outpatient: [2] });
    expect(l.warn.map(([, m]) => m)).toEqual(['a card write was interrupted (the daemon stopped mid-write): read the card back, then acknowledge it']);
    j2.close();

    // Still reported at the next start (nobody acknowledged it), then acknowledged, then gone for good.
    const j3 = new WriteJournal(dir);
    expect(j3.interrupted().map((w) => w.id)).toEqual([cut.id]);
    expect(j3.acknowledge(cut.id).id).toBe(cut.id);
    expect(j3.interrupted()).toEqual([]);
    expect(() => j3.acknowledge(cut.id)).toThrow(expect.objectContaining({ code: 'WRITE_NOT_FOUND' }));
    j3.close();
    expect(new WriteJournal(dir).interrupted()).toEqual([]);
  });

  it('keeps no cardholder values: item numbers, slots and a card hash only', () => {
    const dir = stateDir();
    const j = new WriteJournal(dir);
    j.begin(INTENT);
    const text = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
    expect(text).not.toContain('王小明');
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain('0102030405060708');
    expect(INTENT.card).toMatch(/^[0-9a-f]{16}$/);
    expect(cardIdentityHash(ATR)).not.toBe(cardIdentityHash(Uint8Array.from([...ATR.subarray(0, 4), 9, ...ATR.subarray(5)])));
  });

  it('a torn last line (crash mid-append) is ignored without a warning, and the file is whole again after the start', () => {
    const dir = stateDir();
    const j1 = new WriteJournal(dir);
    const cut = j1.begin(INTENT);
    const other = j1.begin(INTENT);
    // The outcome of `other` was being appended when the power went.
    const file = join(dir, JOURNAL_FILE);
    appendFileSync(file, JSON.stringify({ v: 1, t: 'outcome', id: other.id, at: new Date().toISOString(), result: 'ok' }).slice(0, 30));
    const l = logs();
    const j2 = new WriteJournal(dir, l.log);
    expect(j2.interrupted().map((w) => w.id).sort()).toEqual([cut.id, other.id].sort());
    expect(l.warn.filter(([, m]) => /unreadable/.test(m))).toEqual([]);
    // New lines go to a clean file: an acknowledgement written now is read back at the next start.
    j2.acknowledge(cut.id);
    j2.close();
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(new WriteJournal(dir).interrupted().map((w) => w.id)).toEqual([other.id]);
  });

  it('a damaged line in the middle is skipped with a warning; the rest still counts', () => {
    const dir = stateDir();
    const j1 = new WriteJournal(dir);
    const a = j1.begin(INTENT);
    appendFileSync(join(dir, JOURNAL_FILE), '{"v":1,"t":"intent","id":\n');
    const b = j1.begin(INTENT);
    j1.end(a.id, { result: 'ok' });
    const l = logs();
    expect(new WriteJournal(dir, l.log).interrupted().map((w) => w.id)).toEqual([b.id]);
    expect(l.warn.some(([, m]) => /unreadable line skipped/.test(m))).toBe(true);
  });

  it("an open write of another running daemon (same state directory) is not reported, and kept", () => {
    const dir = stateDir();
    const line = { v: 1, t: 'intent', id: 'w-other', at: new Date().toISOString(), pid: process.ppid, run: 'elsewhere', ...INTENT };
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify(line) + '\n');
    const l = logs();
    expect(new WriteJournal(dir, l.log).interrupted()).toEqual([]);
    expect(l.warn.some(([, m]) => /another running daemon/.test(m))).toBe(true);
    expect(readFileSync(join(dir, JOURNAL_FILE), 'utf8')).toContain('w-other');
  });

  it('an unwritable state directory: the journal runs in memory and says why (for /v1/health)', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path under a regular file instead.
      const dir = stateDir();
      writeFileSync(join(dir, 'file'), '');
      const j = new WriteJournal(join(dir, 'file', 'yika'));
      expect(j.problem).toMatch(/cannot be kept in .*ENOTDIR/);
      expect(j.begin(INTENT).id).toMatch(/^w-/);
      return;
    }
    const dir = stateDir();
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o500);
    const j = new WriteJournal(join(dir, 'ro', 'yika'));
    expect(j.problem).toMatch(/cannot be kept in .*EACCES/);
  });
});
