// The write journal: a small append-only file in the daemon's state directory that records each card
// write before its first APDU (intent, fsync'd) and when it ends (outcome, fsync'd). An intent
// without an outcome at the next start is a write the daemon was cut short in (crash, kill -9, power
// loss): it is reported as interrupted — log, health, a write.interrupted event and
// GET /v1/writes/interrupted — until the HIS acknowledges it.
//
// Privacy: the journal holds no cardholder values, only item numbers, record/visit slots, the reader
// and slot, and a hash of the card's ATR (which card, not whose).
//
// File format (one JSON object per line, `v: 1`): {t:'intent', id, at, pid, run, readerId, slot, card,
// what}, {t:'outcome', id, at, result: 'ok'|'error', code?}, {t:'interrupted', …intent, detectedAt},
// {t:'ack', id, at}. A torn last line (a crash mid-append) is ignored; the file is rewritten with only
// what is still open at each start (write to a temp file, fsync, rename).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError } from '../../common/yika-error.ts';
import { sm3 } from '../../crypto/index.ts';
import type { InterruptedWrite as ApiInterruptedWrite } from '../api/schemas/writes.ts';

// Registers the module's codes in the catalogue (English + Chinese text, HTTP status by kind).
defineErrorCodes('journal', {
  WRITE_NOT_FOUND: {
    kind: 'not_found',
    description: 'No interrupted write with this id (it was acknowledged already, or never existed): GET /v1/writes/interrupted lists the open ones.',
    zh: '没有该编号的中断写卡记录（已确认过或不存在）：GET /v1/writes/interrupted 列出未确认的记录。',
  },
});

class WriteJournalError extends YikaError {}

// What the journal reports is what GET /v1/writes/interrupted answers: its schema is the one definition
// (daemon/api/schemas/writes.ts).
/** What a write request touches: item numbers and slots, never values. */
export type WriteSummary = ApiInterruptedWrite['what'];

/** A write as journaled when it begins (card: SM3 of the card's ATR, 16 hex digits: tells cards apart without naming anyone). */
export type WriteIntent = Omit<ApiInterruptedWrite, 'detectedAt'>;

export type InterruptedWrite = ApiInterruptedWrite;

type Line =
  | ({ v: 1; t: 'intent'; pid: number; run: string } & Omit<WriteIntent, 'startedAt'> & { at: string })
  | { v: 1; t: 'outcome'; id: string; at: string; result: 'ok' | 'error'; code?: string }
  | ({ v: 1; t: 'interrupted' } & InterruptedWrite)
  | { v: 1; t: 'ack'; id: string; at: string };

export interface WriteJournalLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export const JOURNAL_FILE = 'write-journal.jsonl';

/** The card identity the journal keeps: SM3 over a label and the ATR, 64 bits as hex. */
export function cardIdentityHash(atr: Uint8Array): string {
  const label = new TextEncoder().encode('yika write journal card\0');
  const input = new Uint8Array(label.length + atr.length);
  input.set(label);
  input.set(atr, label.length);
  return Buffer.from(sm3(input)).toString('hex').slice(0, 16);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class WriteJournal {
  private readonly open = new Map<string, WriteIntent>();
  private readonly interruptedWrites = new Map<string, InterruptedWrite>();
  private fd: number | undefined;
  private readonly run = randomBytes(6).toString('hex');
  /** Why the journal is not on disk (no state directory, or it cannot be written). */
  readonly problem: string | undefined;
  readonly file: string | undefined;

  /**
   * Opens (creating) the journal in `dir`, finds the writes a previous run left open, and rewrites the
   * file with what is still open. Without `dir` the journal lives in memory only (tests, embedding).
   * A directory that cannot be written is reported by `problem` (health) and the journal runs in memory.
   */
  constructor(dir: string | undefined, private readonly log?: WriteJournalLog) {
    if (!dir) return;
    const file = join(dir, JOURNAL_FILE);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.recover(file);
      this.fd = openSync(file, 'a', 0o600);
      this.file = file;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      this.problem = `the write journal cannot be kept in ${dir} (${code}): an interrupted card write would not be reported after a restart; fix the directory's permissions or set stateDir`;
      this.log?.warn({ dir, code }, 'write journal off');
    }
  }

  /** The writes cut short by an earlier run and not acknowledged yet, oldest first. */
  interrupted(): InterruptedWrite[] {
    return [...this.interruptedWrites.values()];
  }

  /** Records a write's intent (fsync'd) before its first APDU; returns its id. */
  begin(intent: Omit<WriteIntent, 'id' | 'startedAt'>): WriteIntent {
    const w: WriteIntent = { id: `w-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`, startedAt: new Date().toISOString(), ...intent };
    this.open.set(w.id, w);
    this.append({ v: 1, t: 'intent', id: w.id, at: w.startedAt, pid: process.pid, run: this.run, readerId: w.readerId, slot: w.slot, card: w.card, what: w.what });
    return w;
  }

  /** Records how a write ended (fsync'd): ok, or the error code it stopped with. */
  end(id: string, outcome: { result: 'ok' } | { result: 'error'; code: string }): void {
    if (!this.open.delete(id)) return;
    this.append({ v: 1, t: 'outcome', id, at: new Date().toISOString(), ...outcome });
  }

  /** The HIS has dealt with an interrupted write: it is no longer reported. */
  acknowledge(id: string): InterruptedWrite {
    const w = this.interruptedWrites.get(id);
    if (!w) throw new WriteJournalError('WRITE_NOT_FOUND', `No interrupted write "${id.slice(0, 40)}"`, { id: id.slice(0, 40) });
    this.append({ v: 1, t: 'ack', id, at: new Date().toISOString() });
    this.interruptedWrites.delete(id);
    this.log?.info({ writeId: id, readerId: w.readerId }, 'interrupted write acknowledged');
    return w;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: Line): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, JSON.stringify(line) + '\n');
    fsyncSync(this.fd);
  }

  /** Reads what an earlier run left, turns its open intents into interrupted writes, compacts the file. */
  private recover(file: string): void {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    const intents = new Map<string, Extract<Line, { t: 'intent' }>>();
    const carried = new Map<string, InterruptedWrite>();
    const now = new Date().toISOString();
    lines.forEach((raw, i) => {
      if (!raw.trim()) return;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
        if (line?.v !== 1 || typeof line.id !== 'string') throw new Error('not a journal line');
      } catch {
        // The last line may be torn by a crash mid-append; anything else is damage worth a warning.
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) this.log?.warn({ file, line: i + 1 }, 'write journal: unreadable line skipped');
        return;
      }
      if (line.t === 'intent') intents.set(line.id, line);
      else if (line.t === 'outcome') intents.delete(line.id);
      else if (line.t === 'interrupted') carried.set(line.id, line);
      else if (line.t === 'ack') {
        carried.delete(line.id);
        intents.delete(line.id);
      }
    });
    const stillOpen: Array<Extract<Line, { t: 'intent' }>> = [];
    for (const it of intents.values()) {
      // Another daemon with this state directory is running and may still finish it.
      if (it.pid !== process.pid && alive(it.pid) && it.run !== this.run) {
        this.log?.warn({ file, pid: it.pid }, 'write journal: another running daemon uses this state directory (one daemon per state directory)');
        stillOpen.push(it);
        continue;
      }
      carried.set(it.id, { id: it.id, readerId: it.readerId, slot: it.slot, card: it.card, startedAt: it.at, what: it.what, detectedAt: now });
    }
    for (const w of carried.values()) {
      this.interruptedWrites.set(w.id, w);
      this.log?.warn({ writeId: w.id, readerId: w.readerId, slot: w.slot, startedAt: w.startedAt, items: w.what.items }, 'a card write was interrupted (the daemon stopped mid-write): read the card back, then acknowledge it');
    }
    // Compact: only what is still open survives; temp file + fsync + rename, so a crash here loses nothing.
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (const it of stillOpen) writeSync(fd, JSON.stringify(it) + '\n');
      for (const w of carried.values()) writeSync(fd, JSON.stringify({ v: 1, t: 'interrupted', ...w }) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }
}

/** Summarises a write request by item numbers and slots (what the journal may keep). */
export function summariseWrite(request: {
  items?: Record<number, unknown>;
  photo?: unknown;
  addAllergies?: unknown[];
  addImmunisations?: unknown[];
  inpatient?: Array<{ slot: number }>;
  outpatient?: Array<{ slot: number }>;
  eraseInpatient?: number[];
  eraseOutpatient?: number[];
}): WriteSummary {
  const s: WriteSummary = { items: Object.keys(request.items ?? {}).map(Number).sort((a, b) => a - b) };
  if (request.photo !== undefined) s.photo = request.photo === null ? 'remove' : 'set';
  if (request.addAllergies?.length) s.allergies = request.addAllergies.length;
  if (request.addImmunisations?.length) s.immunisations = request.addImmunisations.length;
  if (request.inpatient?.length) s.inpatient = request.inpatient.map((v) => v.slot);
  if (request.outpatient?.length) s.outpatient = request.outpatient.map((v) => v.slot);
  if (request.eraseInpatient?.length) s.eraseInpatient = [...request.eraseInpatient];
  if (request.eraseOutpatient?.length) s.eraseOutpatient = [...request.eraseOutpatient];
  return s;
}
