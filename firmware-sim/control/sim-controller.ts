// Executes SimCommands against a running simulator. Scenario runner, control channel and stdin all
// go through `SimController.execute`, so the three surfaces behave the same.
import { hexUpper } from '../../common/hex.ts';
import { withIsoTransmission } from '../../apdu/iso-transmit.ts';
import type { FaultSpec } from '../faults/fault-injector.ts';
import type { ScanOptions } from '../qr-scanner/qr-scanner.ts';
import { sampleScanText } from '../qr-scanner/sample-codes.ts';
import { COMMAND_HELP, type CardSpec, type ExpectSpec, type SimCommand } from './sim-commands.ts';
import { SimError } from './sim-errors.ts';

/** What the controller needs from the simulator. */
export interface ControlTarget {
  insertCard(slot: number, card: CardSpec): Promise<void>;
  removeCard(slot: number): boolean;
  scan(text: string, options?: ScanOptions): Promise<void>;
  injectFault(spec: FaultSpec): Promise<void>;
  setSpeed(speed: number): void;
  status(): Promise<unknown>;
  modelledTime(): unknown;
  /** The reader's device events (for expect event=…). */
  onEvent?(listener: (event: { type: string; slot?: number }) => void): () => void;
  /** One APDU to the card in a slot (for expect apdu=…), powering it on first if needed. */
  transmit?(slot: number, apdu: Uint8Array): Promise<Uint8Array>;
}

/** An expect step that did not hold: the scenario fails with this message. */
class ExpectationFailed extends SimError {
  constructor(message: string) {
    super('SIM_EXPECTATION_FAILED', message);
  }
}

export type CommandResult = { ok: true; result?: unknown } | { ok: false; error: { code: string; message: string } };

export class SimController {
  #target: ControlTarget;
  #closed = false;
  #waits = new Set<() => void>();
  /** Events since the last event expectation was met (bounded). */
  #events: Array<{ type: string; slot?: number }> = [];
  #eventWaiters = new Set<() => void>();
  /** The last scanned text, only for `expect qr=…` (never logged or returned). */
  #lastScan: string | undefined;
  #verifier: Promise<{ verify(text: string): Promise<{ code: string; kind: string; scheme: string | null }> }> | undefined;

  constructor(target: ControlTarget) {
    this.#target = target;
    target.onEvent?.((e) => {
      if (e.type !== 'card.inserted' && e.type !== 'card.removed' && e.type !== 'qr.scanned') return;
      this.#events.push({ type: e.type, ...(e.slot !== undefined ? { slot: e.slot } : {}) });
      if (this.#events.length > 1000) this.#events.shift();
      for (const wake of this.#eventWaiters) wake();
    });
  }

  /** Runs one command; resolves with its result, throws a typed error on failure. */
  async execute(command: SimCommand): Promise<unknown> {
    const t = this.#target;
    switch (command.cmd) {
      case 'insert': {
        const slot = command.slot ?? 0x01;
        await t.insertCard(slot, command.card ?? { kind: slot >= 0x11 ? 'sam' : 'health' });
        return { slot };
      }
      case 'remove': {
        const slot = command.slot ?? 0x01;
        return { slot, removed: t.removeCard(slot) };
      }
      case 'scan':
        this.#lastScan = command.text;
        await t.scan(command.text, { ending: command.ending, bounce: command.bounce, bounceIntervalMs: command.bounceIntervalMs });
        return undefined;
      case 'sample': {
        // The text itself is not returned: QR payloads stay out of logs and answers.
        const text = sampleScanText(command.kind);
        this.#lastScan = text;
        await t.scan(text, { ending: command.ending, bounce: command.bounce, bounceIntervalMs: command.bounceIntervalMs });
        return { kind: command.kind };
      }
      case 'expect':
        return this.#expect(command.expect);
      case 'fault':
        await t.injectFault(command.spec);
        return undefined;
      case 'wait':
        await this.#wait(command.ms);
        return undefined;
      case 'speed':
        t.setSpeed(command.value);
        return { speed: command.value };
      case 'status':
        return t.status();
      case 'time':
        return t.modelledTime();
      case 'help':
        return COMMAND_HELP;
    }
  }

  /** Like execute, but never throws: for the control channel and stdin. */
  async run(command: SimCommand): Promise<CommandResult> {
    try {
      return { ok: true, result: await this.execute(command) };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { ok: false, error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) } };
    }
  }

  async #expect(e: ExpectSpec): Promise<unknown> {
    if ('card' in e) {
      const status = (await this.#target.status()) as { slots?: Array<{ slot: number; card: string }> };
      const s = status.slots?.find((x) => x.slot === e.slot);
      if (!s) throw new ExpectationFailed(`expected slot 0x${e.slot.toString(16)} to be ${e.card}, but the reader has no such slot`);
      if (s.card !== e.card) throw new ExpectationFailed(`expected slot 0x${e.slot.toString(16)} to be ${e.card}, but it is ${s.card}`);
      return { slot: e.slot, card: s.card };
    }
    if ('event' in e) {
      if (!this.#target.onEvent) throw new ExpectationFailed('this simulator does not report events to expect steps');
      const within = e.within ?? 2000;
      const deadline = Date.now() + within;
      for (;;) {
        const i = this.#events.findIndex((x) => x.type === e.event && (e.slot === undefined || x.slot === e.slot));
        if (i >= 0) {
          this.#events.splice(0, i + 1); // consumed, with everything before it
          return { event: e.event, ...(e.slot !== undefined ? { slot: e.slot } : {}) };
        }
        const left = deadline - Date.now();
        if (left <= 0 || this.#closed) {
          const seen = this.#events.map((x) => x.type + (x.slot !== undefined ? `@${x.slot}` : '')).join(', ') || 'none';
          throw new ExpectationFailed(`expected event ${e.event}${e.slot !== undefined ? ` in slot ${e.slot}` : ''} within ${within} ms; events since the last match: ${seen}`);
        }
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.#eventWaiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          this.#eventWaiters.add(wake);
        });
      }
    }
    if ('apdu' in e) {
      if (!this.#target.transmit) throw new ExpectationFailed('this simulator cannot send APDUs for expect steps');
      let response: Uint8Array;
      try {
        // T=0: 61xx means "the answer is waiting": the ISO layer fetches it with GET RESPONSE, as a host does.
        // A 6Cxx stays the answer (SIMULATOR.md): a step checks what the card says to the APDU it wrote.
        const transmit = this.#target.transmit.bind(this.#target);
        const iso = withIsoTransmission({ transmit: (c) => transmit(e.slot, c) });
        response = await iso.transmit(Uint8Array.from(Buffer.from(e.apdu, 'hex')), { iso: { leRetry: false } });
      } catch (err) {
        throw new ExpectationFailed(`expected ${e.apdu} to answer ${e.sw}, but it failed: ${(err as { code?: string }).code ?? (err as Error).message}`);
      }
      const hex = hexUpper(response);
      const sw = hex.slice(-4);
      const data = hex.slice(0, -4);
      if (sw !== e.sw) throw new ExpectationFailed(`expected ${e.apdu} to answer ${e.sw}, but the card answered ${sw}`);
      if (e.data !== undefined && !data.startsWith(e.data)) throw new ExpectationFailed(`expected the answer to ${e.apdu} to start with ${e.data}, but it starts with ${data.slice(0, e.data.length) || '(nothing)'}`);
      return { sw, bytes: data.length / 2 };
    }
    // qr: the verdict a daemon trusting the TEST-ONLY demo bundle gives the last scan.
    if (this.#lastScan === undefined) throw new ExpectationFailed(`expected QR verdict ${e.qr}, but nothing was scanned yet`);
    const r = await (await this.#demoVerifier()).verify(this.#lastScan);
    const got = `${r.code}${e.kind ? ' ' + r.kind : ''}${e.scheme ? '/' + (r.scheme ?? 'none') : ''}`;
    const want = `${e.qr}${e.kind ? ' ' + e.kind : ''}${e.scheme ? '/' + e.scheme : ''}`;
    if (got !== want) throw new ExpectationFailed(`expected the last scan to verify as ${want}, but it is ${got}`);
    return { qr: r.code, kind: r.kind, ...(r.scheme ? { scheme: r.scheme } : {}) };
  }

  #demoVerifier(): Promise<{ verify(text: string): Promise<{ code: string; kind: string; scheme: string | null }> }> {
    this.#verifier ??= (async () => {
      const [{ buildDemoTrustBundle, demoAnchorPublicKey }, { TrustStore }, { Verifier }] = await Promise.all([
        import('../../qr/demo-trust.ts'),
        import('../../qr/trust-store.ts'),
        import('../../qr/verifier.ts'),
      ]);
      const trust = new TrustStore({ anchors: [demoAnchorPublicKey()] });
      await trust.install(buildDemoTrustBundle(Math.floor(Date.now() / 1000)));
      return new Verifier({ trust });
    })();
    return this.#verifier;
  }

  /** Ends pending waits (on shutdown). */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waits) wake();
    for (const wake of this.#eventWaiters) wake();
  }

  #wait(ms: number): Promise<void> {
    if (this.#closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waits.add(wake);
    });
  }
}
