// Executes SimCommands against a running simulator. Scenario runner, control channel and stdin all
// go through `SimController.execute`, so the three surfaces behave the same.
import type { FaultSpec } from '../faults/fault-injector.ts';
import type { ScanOptions } from '../qr-scanner/qr-scanner.ts';
import { sampleScanText } from '../qr-scanner/sample-codes.ts';
import { COMMAND_HELP, type CardSpec, type SimCommand } from './sim-commands.ts';

/** What the controller needs from the simulator. */
export interface ControlTarget {
  insertCard(slot: number, card: CardSpec): Promise<void>;
  removeCard(slot: number): boolean;
  scan(text: string, options?: ScanOptions): Promise<void>;
  injectFault(spec: FaultSpec): Promise<void>;
  setSpeed(speed: number): void;
  status(): Promise<unknown>;
  modelledTime(): unknown;
}

export type CommandResult = { ok: true; result?: unknown } | { ok: false; error: { code: string; message: string } };

export class SimController {
  #target: ControlTarget;
  #closed = false;
  #waits = new Set<() => void>();

  constructor(target: ControlTarget) {
    this.#target = target;
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
        await t.scan(command.text, { ending: command.ending, bounce: command.bounce, bounceIntervalMs: command.bounceIntervalMs });
        return undefined;
      case 'sample':
        // The text itself is not returned: QR payloads stay out of logs and answers.
        await t.scan(sampleScanText(command.kind), { ending: command.ending, bounce: command.bounce, bounceIntervalMs: command.bounceIntervalMs });
        return { kind: command.kind };
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

  /** Ends pending waits (on shutdown). */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waits) wake();
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
