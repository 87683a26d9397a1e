// One command language for every way of driving the simulator from outside: scenario files, the
// control channel (HTTP) and yika-sim's stdin. A command is a plain object; `parseCommandLine` reads
// the human form (`insert 1 health seed=7`), `normaliseStep` the scenario form (`- insert: {...}`).
import { checkFault, type FaultSpec } from '../faults/fault-injector.ts';
import type { ScanEnding } from '../qr-scanner/qr-scanner.ts';
import { SAMPLE_KINDS, type SampleKind } from '../qr-scanner/sample-codes.ts';
import { parseSlotId } from '../../protocol/slot-id.ts';
import { SimError } from './sim-errors.ts';

export const CARD_KINDS = ['health', 'sam', 'blank', 'mute', '6d00', 'transit'] as const;
export type CardKind = (typeof CARD_KINDS)[number];

/** A card described in data: what a scenario or the control channel inserts. */
export interface CardSpec {
  kind: CardKind;
  /** health: the synthetic cardholder's seed (default: the simulator's seed). */
  seed?: number;
  /** health: a profile file path (JSON/YAML) or a profile object. */
  profile?: string | Record<string, unknown>;
  /** sam: its PIN (default the simulator's samPin). */
  pin?: string;
  /** sam: the province it serves (two digits). */
  province?: string;
}

export type SimCommand =
  | { cmd: 'insert'; slot?: number; card?: CardSpec }
  | { cmd: 'remove'; slot?: number }
  | { cmd: 'scan'; text: string; ending?: ScanEnding; bounce?: number; bounceIntervalMs?: number }
  /** Scans a ready-made text: a demo EHC1 code (valid, expired, revoked, tampered), legacy or garbage. */
  | { cmd: 'sample'; kind: SampleKind; ending?: ScanEnding; bounce?: number; bounceIntervalMs?: number }
  | { cmd: 'fault'; spec: FaultSpec }
  | { cmd: 'wait'; ms: number }
  | { cmd: 'speed'; value: number }
  /** Checks the simulator's state; a mismatch fails the scenario with a clear message. */
  | { cmd: 'expect'; expect: ExpectSpec }
  | { cmd: 'status' }
  | { cmd: 'time' }
  | { cmd: 'help' };

export const CARD_STATES = ['absent', 'present', 'powered', 'mute'] as const;
export const EXPECT_EVENTS = ['card.inserted', 'card.removed', 'qr.scanned'] as const;

/** What an `expect` step checks (SIMULATOR.md "Expect steps"). */
export type ExpectSpec =
  /** The state of a slot now. */
  | { slot: number; card: (typeof CARD_STATES)[number] }
  /** The reader emitted this event since the previous event expectation (waits up to `within` ms, default 2000). */
  | { event: (typeof EXPECT_EVENTS)[number]; slot?: number; within?: number }
  /** A read result: the card in `slot` answers this APDU with `sw` (and data starting with `data`, hex). */
  | { apdu: string; slot: number; sw: string; data?: string }
  /** The verdict a daemon trusting the TEST-ONLY demo bundle gives the last scanned text: code, kind, scheme. */
  | { qr: string; kind?: string; scheme?: string };

export const COMMAND_HELP = `commands (stdin, control channel POST /line, scenario steps):
  insert [SLOT] [KIND] [seed=N] [profile=FILE] [pin=DIGITS] [province=NN]
                                                             KIND: ${CARD_KINDS.join(', ')} (default health; sam in 0x11–0x14)
                                                             sam: province=NN serves that province; seed=N serves the
                                                             province of the health card with seed N (default: the
                                                             simulator's seed)
  remove [SLOT]                                              take the card out (default slot 1)
  scan TEXT [ending=none|cr|lf|crlf] [bounce=N]              QR scanner reads TEXT (rest of the line)
  sample KIND [ending=…] [bounce=N]                          scan a ready-made text; KIND: ${SAMPLE_KINDS.join(', ')}
                                                             (EHC1 codes from the TEST-ONLY demo issuer)
  fault NAME [key=value …]                                   e.g. fault remove-card slot=1 when=before apdu=3
                                                             NAME: remove-card, mute-card, slow-card, corrupt-bytes,
                                                             drop-frames, reset-reader, unplug, replug, sam-missing,
                                                             wrong-sam-pin, clear
  wait MS                                                    pause (scenarios)
  speed F                                                    0 = no delays, 1 = real time
  expect slot=1 card=present | expect event=card.inserted [slot=1] [within=MS]
  expect apdu=HEX slot=1 sw=9000 [data=HEXPREFIX] | expect qr=VALID [kind=payment] [scheme=wechat]
                                                             fail the scenario unless it holds
  status | time | help
slots: 1 contact, 2 contactless, 0x11–0x14 (17–20, sam1–sam4) SAM`;

function bad(message: string): never {
  throw new SimError('SIM_BAD_COMMAND', message);
}

const SLOTS = new Set([0x01, 0x02, 0x11, 0x12, 0x13, 0x14]);

/** A slot of this reader, from JSON (a number) or text (protocol/slot-id.ts: 17, 0x11 or sam1). */
function parseSlot(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? parseSlotId(value) : undefined;
  if (n === undefined || !SLOTS.has(n)) bad('slot must be 1, 2 or 0x11–0x14 (17–20, sam1–sam4)');
  return n;
}

function parseNumber(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) bad(`${name} must be a number from ${min} to ${max}`);
  return n;
}

export function checkCardSpec(value: unknown): CardSpec {
  if (!value || typeof value !== 'object') bad('a card is an object with a kind');
  const c = value as Record<string, unknown>;
  if (!CARD_KINDS.includes(c.kind as CardKind)) bad(`card kind must be one of ${CARD_KINDS.join(', ')}`);
  const spec: CardSpec = { kind: c.kind as CardKind };
  if (c.seed !== undefined) spec.seed = parseNumber(c.seed, 'seed', 0, 2 ** 32 - 1);
  if (c.profile !== undefined) {
    if (typeof c.profile !== 'string' && (typeof c.profile !== 'object' || c.profile === null)) bad('profile must be a file path or an object');
    spec.profile = c.profile as CardSpec['profile'];
  }
  if (c.pin !== undefined) {
    if (typeof c.pin !== 'string' && typeof c.pin !== 'number') bad('pin must be digits');
    spec.pin = String(c.pin);
    if (!/^\d{4,12}$/.test(spec.pin)) bad('pin must be 4–12 digits');
  }
  if (c.province !== undefined) {
    spec.province = String(c.province);
    if (!/^\d{2}/.test(spec.province)) bad('province must start with two digits');
  }
  return spec;
}

function checkExpect(value: unknown): ExpectSpec {
  if (!value || typeof value !== 'object') bad('expect needs an object: {slot, card} | {event} | {apdu, slot, sw} | {qr}');
  const e = value as Record<string, unknown>;
  if (e.card !== undefined) {
    if (!CARD_STATES.includes(e.card as never)) bad(`expect card must be one of ${CARD_STATES.join(', ')}`);
    return { slot: parseSlot(e.slot ?? 1), card: e.card as (typeof CARD_STATES)[number] };
  }
  if (e.event !== undefined) {
    if (!EXPECT_EVENTS.includes(e.event as never)) bad(`expect event must be one of ${EXPECT_EVENTS.join(', ')}`);
    return {
      event: e.event as (typeof EXPECT_EVENTS)[number],
      ...(e.slot !== undefined ? { slot: parseSlot(e.slot) } : {}),
      ...(e.within !== undefined ? { within: parseNumber(e.within, 'within', 0, 600_000) } : {}),
    };
  }
  if (e.apdu !== undefined) {
    const hex = (v: unknown, name: string, even = true): string => {
      const s = String(v ?? '').replace(/\s+/g, '').toUpperCase();
      if (!/^[0-9A-F]*$/.test(s) || (even && s.length % 2)) bad(`expect ${name} must be hex`);
      return s;
    };
    const apdu = hex(e.apdu, 'apdu');
    if (apdu.length < 8) bad('expect apdu must be at least 4 bytes');
    const sw = hex(e.sw ?? '9000', 'sw');
    if (sw.length !== 4) bad('expect sw must be 4 hex digits');
    return { apdu, slot: parseSlot(e.slot ?? 1), sw, ...(e.data !== undefined ? { data: hex(e.data, 'data', false) } : {}) };
  }
  if (e.qr !== undefined) {
    if (typeof e.qr !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(e.qr)) bad('expect qr must be a result code such as VALID or NOT_EHC1');
    return { qr: e.qr, ...(typeof e.kind === 'string' ? { kind: e.kind } : {}), ...(typeof e.scheme === 'string' ? { scheme: e.scheme } : {}) };
  }
  return bad('expect needs card, event, apdu or qr');
}

/** Checks a command object from untrusted input. */
export function checkCommand(value: unknown): SimCommand {
  if (!value || typeof value !== 'object') bad('a command is an object with "cmd"');
  const c = value as Record<string, unknown>;
  switch (c.cmd) {
    case 'insert':
      return { cmd: 'insert', ...(c.slot !== undefined ? { slot: parseSlot(c.slot) } : {}), ...(c.card !== undefined ? { card: checkCardSpec(c.card) } : {}) };
    case 'remove':
      return { cmd: 'remove', ...(c.slot !== undefined ? { slot: parseSlot(c.slot) } : {}) };
    case 'scan':
    case 'sample': {
      let out: SimCommand;
      if (c.cmd === 'scan') {
        if (typeof c.text !== 'string' || c.text.length === 0) bad('scan needs text');
        out = { cmd: 'scan', text: c.text };
      } else {
        if (!SAMPLE_KINDS.includes(c.kind as SampleKind)) bad(`sample kind must be one of ${SAMPLE_KINDS.join(', ')}`);
        out = { cmd: 'sample', kind: c.kind as SampleKind };
      }
      if (c.ending !== undefined) {
        if (!['none', 'cr', 'lf', 'crlf'].includes(c.ending as string)) bad('ending must be none, cr, lf or crlf');
        out.ending = c.ending as ScanEnding;
      }
      if (c.bounce !== undefined) out.bounce = parseNumber(c.bounce, 'bounce', 0, 20);
      if (c.bounceIntervalMs !== undefined) out.bounceIntervalMs = parseNumber(c.bounceIntervalMs, 'bounceIntervalMs', 0, 10_000);
      return out;
    }
    case 'fault':
      return { cmd: 'fault', spec: checkFault(c.spec) };
    case 'wait':
      return { cmd: 'wait', ms: parseNumber(c.ms, 'ms', 0, 3_600_000) };
    case 'speed':
      return { cmd: 'speed', value: parseNumber(c.value, 'speed', 0, 1000) };
    case 'expect':
      return { cmd: 'expect', expect: checkExpect(c.expect) };
    case 'status':
    case 'time':
    case 'help':
      return { cmd: c.cmd };
    default:
      return bad(`unknown command; try "help"`);
  }
}

/** key=value words → an object (numbers stay strings; the checks convert). */
function keyValues(words: string[]): { positional: string[]; named: Record<string, string> } {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) named[w.slice(0, eq)] = w.slice(eq + 1);
    else positional.push(w);
  }
  return { positional, named };
}

const NUMERIC_FAULT_KEYS = new Set(['slot', 'apdu', 'maxApdu', 'extraMs', 'rate', 'forMs']);

/** Parses one human command line (or a JSON command object on one line). Empty/comment lines → undefined. */
export function parseCommandLine(line: string): SimCommand | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      bad('the line starts with { but is not valid JSON');
    }
    return checkCommand(parsed);
  }
  const [word, ...rest] = text.split(/\s+/);
  const cmd = word.toLowerCase();
  if (cmd === 'scan') {
    // The text is the rest of the line, minus trailing option words.
    const parts = text.slice(word.length).trim().split(/\s+/);
    const opts: Record<string, string> = {};
    while (parts.length > 1 && /^(ending|bounce|bounceIntervalMs)=\S+$/.test(parts[parts.length - 1])) {
      const [k, v] = parts.pop()!.split('=');
      opts[k] = v;
    }
    return checkCommand({ cmd: 'scan', text: parts.join(' '), ...opts });
  }
  const { positional, named } = keyValues(rest);
  switch (cmd) {
    case 'insert': {
      let slot: string | undefined;
      let kind: string | undefined;
      for (const p of positional) {
        if (/^(0x[0-9a-f]+|\d+)$/i.test(p) && slot === undefined) slot = p;
        else kind = p;
      }
      const slotNum = slot !== undefined ? parseSlot(slot) : (named.slot !== undefined ? parseSlot(named.slot) : undefined);
      const defaultKind = slotNum !== undefined && slotNum >= 0x11 ? 'sam' : 'health';
      const card: Record<string, unknown> = { kind: kind ?? named.kind ?? defaultKind };
      for (const k of ['seed', 'profile', 'pin', 'province']) if (named[k] !== undefined) card[k] = named[k];
      return checkCommand({ cmd: 'insert', ...(slotNum !== undefined ? { slot: slotNum } : {}), card });
    }
    case 'remove':
      return checkCommand({ cmd: 'remove', ...(positional[0] ?? named.slot ? { slot: positional[0] ?? named.slot } : {}) });
    case 'sample':
      return checkCommand({ cmd: 'sample', kind: positional[0] ?? named.kind, ...Object.fromEntries(Object.entries(named).filter(([k]) => k !== 'kind')) });
    case 'fault': {
      const spec: Record<string, unknown> = { fault: positional[0] };
      for (const [k, v] of Object.entries(named)) {
        spec[k] = NUMERIC_FAULT_KEYS.has(k) && !(k === 'apdu' && v === 'random') ? (k === 'slot' ? parseSlot(v) : Number(v)) : v;
      }
      return checkCommand({ cmd: 'fault', spec });
    }
    case 'wait':
      return checkCommand({ cmd: 'wait', ms: positional[0] ?? named.ms });
    case 'speed':
      return checkCommand({ cmd: 'speed', value: positional[0] ?? named.value });
    case 'expect':
      return checkCommand({ cmd: 'expect', expect: named });
    default:
      return checkCommand({ cmd });
  }
}

/**
 * Scenario steps accept the command form (`{cmd: insert, slot: 1}`) and a shorthand with the
 * command as the only key: `insert: {slot: 1, kind: health, seed: 7}`, `remove: 1`, `scan: TEXT`,
 * `fault: {fault: remove-card, apdu: 3}`, `wait: 200`, `speed: 1`.
 */
export function normaliseStep(step: unknown, index: number): SimCommand {
  try {
    if (typeof step === 'string') {
      const c = parseCommandLine(step);
      if (!c) bad('an empty step');
      return c;
    }
    if (!step || typeof step !== 'object' || Array.isArray(step)) bad('a step is an object or a command line');
    const s = step as Record<string, unknown>;
    if ('cmd' in s) return checkCommand(s);
    const keys = Object.keys(s);
    if (keys.length !== 1) bad('a shorthand step has exactly one key (the command)');
    const [cmd] = keys;
    const v = s[cmd];
    switch (cmd) {
      case 'insert': {
        const o = (v && typeof v === 'object' ? v : { slot: v }) as Record<string, unknown>;
        const { slot, card, ...rest } = o;
        const slotNum = slot !== undefined ? parseSlot(slot) : undefined;
        const cardSpec = card ?? { kind: slotNum !== undefined && slotNum >= 0x11 ? 'sam' : 'health', ...rest };
        return checkCommand({ cmd: 'insert', ...(slotNum !== undefined ? { slot: slotNum } : {}), card: cardSpec });
      }
      case 'remove':
        return checkCommand({ cmd: 'remove', ...(v !== null && v !== undefined ? { slot: typeof v === 'object' ? (v as { slot?: unknown }).slot : v } : {}) });
      case 'scan':
        return checkCommand(typeof v === 'string' ? { cmd: 'scan', text: v } : { cmd: 'scan', ...(v as object) });
      case 'sample':
        return checkCommand(typeof v === 'string' ? { cmd: 'sample', kind: v } : { cmd: 'sample', ...(v as object) });
      case 'fault':
        return checkCommand({ cmd: 'fault', spec: typeof v === 'string' ? { fault: v } : v });
      case 'wait':
        return checkCommand({ cmd: 'wait', ms: v });
      case 'speed':
        return checkCommand({ cmd: 'speed', value: v });
      case 'expect':
        return checkCommand({ cmd: 'expect', expect: v });
      default:
        return checkCommand({ cmd });
    }
  } catch (e) {
    if (e instanceof SimError) throw new SimError(e.code, `step ${index + 1}: ${e.message}`);
    throw e;
  }
}
