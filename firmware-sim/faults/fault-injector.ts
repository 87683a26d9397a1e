// Scriptable, seedable fault injection. A fault is a plain JSON object (FaultSpec), so the same
// faults come from tests (faults.inject({...})), scenario files and the control channel.
// Card faults hook into the reader around APDUs; link faults wrap the host link's bytes; device
// faults (reset, unplug/replug, SAM missing, wrong SAM PIN) act through the simulator.
import type { ApduFault, ReaderFaultHooks, SimulatedReader } from '../reader/simulated-reader.ts';
import { SimError } from '../control/sim-errors.ts';
import { FaultRandom } from './fault-random.ts';
import { LinkNoise } from './link-noise.ts';

export type FaultSpec =
  /** The card leaves before the N-th APDU (not executed), during it (executed, response lost) or after it (response delivered). */
  | { fault: 'remove-card'; slot?: number; when?: 'before' | 'during' | 'after'; apdu: number | 'random'; maxApdu?: number }
  /** The card stops answering at the N-th APDU, or at once when apdu is absent. */
  | { fault: 'mute-card'; slot?: number; apdu?: number }
  /** Every APDU of the slot takes extraMs longer (modelled; real when speed > 0). 0 clears. */
  | { fault: 'slow-card'; slot?: number; extraMs: number }
  /** Bit flips on the host link at `rate` per byte. 0 clears. */
  | { fault: 'corrupt-bytes'; rate: number; direction?: LinkDirection }
  /** Whole frames lost on the host link at `rate` per frame. 0 clears. */
  | { fault: 'drop-frames'; rate: number; direction?: LinkDirection }
  /** The reader reboots: cards powered down, the host must say hello again. */
  | { fault: 'reset-reader' }
  /** The serial line goes away (port closed, USB unplugged) and, after forMs, comes back. No forMs = stays away until `replug`. */
  | { fault: 'unplug'; forMs?: number }
  | { fault: 'replug' }
  /** The SAM is taken out of its slot. */
  | { fault: 'sam-missing'; slot?: number }
  /** The SAM is replaced by one whose PIN is `pin` (so the host's configured PIN is wrong). */
  | { fault: 'wrong-sam-pin'; pin?: string; slot?: number }
  /** Clears every fault rule (not the effects already happened). */
  | { fault: 'clear' };

export type FaultName = FaultSpec['fault'];
export type LinkDirection = 'to-host' | 'to-device' | 'both';

/** What the injector needs from the simulator for device-level faults. */
export interface FaultTarget {
  readonly reader: SimulatedReader;
  /** The reader reboots: cards powered down and the host forgotten (it must say hello again). */
  resetReader(): Promise<void>;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  /** Puts a SAM configured with `pin` in the slot. */
  insertSamWithPin(slot: number, pin: string): void;
}

interface RemoveRule {
  slot: number;
  when: 'before' | 'during' | 'after';
  apdu: number;
}

export const FAULT_NAMES: readonly FaultName[] = [
  'remove-card', 'mute-card', 'slow-card', 'corrupt-bytes', 'drop-frames', 'reset-reader', 'unplug', 'replug', 'sam-missing', 'wrong-sam-pin', 'clear',
];

export class FaultInjector {
  readonly seed: number;
  /** Noise on bytes the device sends to the host. */
  readonly toHost: LinkNoise;
  /** Noise on bytes the host sends to the device. */
  readonly toDevice: LinkNoise;
  /** Every fault injected, in order (names and slots only): for diagnostics and test assertions. */
  readonly log: string[] = [];

  #random: FaultRandom;
  #removals: RemoveRule[] = [];
  #mutes: Array<{ slot: number; apdu: number }> = [];
  #slow = new Map<number, number>();
  #target?: FaultTarget;
  #replugTimer?: NodeJS.Timeout;

  constructor(seed = 1) {
    this.seed = seed;
    this.#random = new FaultRandom(seed);
    this.toHost = new LinkNoise(seed * 2 + 1);
    this.toDevice = new LinkNoise(seed * 2 + 2);
  }

  /** Connects the injector to a simulator (done by createSimulator). */
  attach(target: FaultTarget): void {
    this.#target = target;
    target.reader.faults = this.hooks;
  }

  /** The reader hooks (installed on the reader by attach). */
  readonly hooks: ReaderFaultHooks = {
    beforeApdu: (slot, n): ApduFault | undefined => {
      const i = this.#removals.findIndex((r) => r.slot === slot && r.apdu === n && r.when !== 'after');
      if (i >= 0) {
        const [rule] = this.#removals.splice(i, 1);
        this.log.push(`remove-card slot ${slot} ${rule.when} apdu ${n}`);
        return rule.when === 'before' ? 'remove-before' : 'remove-during';
      }
      const m = this.#mutes.findIndex((r) => r.slot === slot && r.apdu === n);
      if (m >= 0) {
        this.#mutes.splice(m, 1);
        this.log.push(`mute-card slot ${slot} apdu ${n}`);
        return 'mute';
      }
      return undefined;
    },
    afterApdu: (slot, n) => {
      const i = this.#removals.findIndex((r) => r.slot === slot && r.apdu === n && r.when === 'after');
      if (i < 0) return undefined;
      this.#removals.splice(i, 1);
      this.log.push(`remove-card slot ${slot} after apdu ${n}`);
      return 'remove';
    },
    extraDelayUs: (slot) => this.#slow.get(slot) ?? 0,
  };

  /** Injects one fault; validates it first (SIM_BAD_COMMAND on a malformed spec). */
  async inject(spec: FaultSpec): Promise<void> {
    const f = checkFault(spec);
    switch (f.fault) {
      case 'remove-card': {
        const apdu = f.apdu === 'random' ? this.#random.int(1, f.maxApdu ?? 20) : f.apdu;
        this.#removals.push({ slot: f.slot ?? 1, when: f.when ?? 'before', apdu });
        return;
      }
      case 'mute-card':
        if (f.apdu === undefined) {
          this.#needTarget().reader.setMute(f.slot ?? 1, true);
          this.log.push(`mute-card slot ${f.slot ?? 1}`);
        } else {
          this.#mutes.push({ slot: f.slot ?? 1, apdu: f.apdu });
        }
        return;
      case 'slow-card':
        if (f.extraMs === 0) this.#slow.delete(f.slot ?? 1);
        else this.#slow.set(f.slot ?? 1, f.extraMs * 1000);
        this.log.push(`slow-card slot ${f.slot ?? 1} +${f.extraMs} ms`);
        return;
      case 'corrupt-bytes':
        for (const n of this.#noises(f.direction)) n.settings = { ...n.settings, corruptRate: f.rate };
        this.log.push(`corrupt-bytes ${f.rate}`);
        return;
      case 'drop-frames':
        for (const n of this.#noises(f.direction)) n.settings = { ...n.settings, dropRate: f.rate };
        this.log.push(`drop-frames ${f.rate}`);
        return;
      case 'reset-reader':
        this.log.push('reset-reader');
        await this.#needTarget().resetReader();
        return;
      case 'unplug': {
        const target = this.#needTarget();
        this.log.push(`unplug${f.forMs !== undefined ? ` ${f.forMs} ms` : ''}`);
        clearTimeout(this.#replugTimer);
        await target.unplug();
        if (f.forMs !== undefined) {
          this.#replugTimer = setTimeout(() => {
            this.log.push('replug');
            target.replug().catch(() => undefined);
          }, f.forMs);
        }
        return;
      }
      case 'replug':
        clearTimeout(this.#replugTimer);
        this.log.push('replug');
        await this.#needTarget().replug();
        return;
      case 'sam-missing':
        this.log.push(`sam-missing slot ${f.slot ?? 0x11}`);
        this.#needTarget().reader.removeCard(f.slot ?? 0x11);
        return;
      case 'wrong-sam-pin':
        this.log.push(`wrong-sam-pin slot ${f.slot ?? 0x11}`);
        this.#needTarget().insertSamWithPin(f.slot ?? 0x11, f.pin ?? '654321');
        return;
      case 'clear':
        this.clear();
        return;
    }
  }

  /** Removes every pending rule and link noise; a muted card stays muted until re-inserted. */
  clear(): void {
    this.#removals = [];
    this.#mutes = [];
    this.#slow.clear();
    this.toHost.settings = { corruptRate: 0, dropRate: 0 };
    this.toDevice.settings = { corruptRate: 0, dropRate: 0 };
    clearTimeout(this.#replugTimer);
    this.log.push('clear');
  }

  /** Pending "remove at APDU N" rules (for tests of seeded random removal). */
  pendingRemovals(): ReadonlyArray<Readonly<RemoveRule>> {
    return this.#removals.map((r) => ({ ...r }));
  }

  counters(): Record<string, number> {
    return {
      'faults.bytesCorrupted': this.toHost.corrupted + this.toDevice.corrupted,
      'faults.framesDropped': this.toHost.dropped + this.toDevice.dropped,
      'faults.injected': this.log.length,
    };
  }

  dispose(): void {
    clearTimeout(this.#replugTimer);
  }

  #noises(direction: LinkDirection = 'both'): LinkNoise[] {
    return direction === 'to-host' ? [this.toHost] : direction === 'to-device' ? [this.toDevice] : [this.toHost, this.toDevice];
  }

  #needTarget(): FaultTarget {
    if (!this.#target) throw new SimError('SIM_BAD_COMMAND', 'this fault needs a running simulator (attach the injector first)');
    return this.#target;
  }
}

const SLOT_IDS = new Set([0x01, 0x02, 0x11, 0x12, 0x13, 0x14]);

function bad(message: string): never {
  throw new SimError('SIM_BAD_COMMAND', message);
}

function checkSlot(slot: unknown): void {
  if (slot !== undefined && !(typeof slot === 'number' && SLOT_IDS.has(slot))) bad('slot must be 1, 2 or 17–20 (0x11–0x14)');
}

function checkRate(rate: unknown): void {
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) bad('rate must be a number from 0 to 1');
}

function checkCount(n: unknown, name: string): void {
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1_000_000)) bad(`${name} must be a positive integer`);
}

/** Validates a fault spec from untrusted input (scenario file, control channel). */
export function checkFault(spec: unknown): FaultSpec {
  if (!spec || typeof spec !== 'object') bad('a fault is an object with a "fault" name');
  const f = spec as Record<string, unknown>;
  if (!FAULT_NAMES.includes(f.fault as FaultName)) bad(`unknown fault; one of ${FAULT_NAMES.join(', ')}`);
  checkSlot(f.slot);
  switch (f.fault as FaultName) {
    case 'remove-card':
      if (f.when !== undefined && !['before', 'during', 'after'].includes(f.when as string)) bad('when must be before, during or after');
      if (f.apdu !== 'random') checkCount(f.apdu, 'apdu');
      if (f.maxApdu !== undefined) checkCount(f.maxApdu, 'maxApdu');
      break;
    case 'mute-card':
      if (f.apdu !== undefined) checkCount(f.apdu, 'apdu');
      break;
    case 'slow-card':
      if (typeof f.extraMs !== 'number' || !(f.extraMs >= 0 && f.extraMs <= 600_000)) bad('extraMs must be 0..600000');
      break;
    case 'corrupt-bytes':
    case 'drop-frames':
      checkRate(f.rate);
      if (f.direction !== undefined && !['to-host', 'to-device', 'both'].includes(f.direction as string)) bad('direction must be to-host, to-device or both');
      break;
    case 'unplug':
      if (f.forMs !== undefined && !(typeof f.forMs === 'number' && f.forMs >= 0 && f.forMs <= 3_600_000)) bad('forMs must be 0..3600000');
      break;
    case 'wrong-sam-pin':
      if (f.pin !== undefined && !(typeof f.pin === 'string' && /^\d{4,12}$/.test(f.pin))) bad('pin must be 4–12 digits');
      break;
    default:
      break;
  }
  return f as FaultSpec;
}
