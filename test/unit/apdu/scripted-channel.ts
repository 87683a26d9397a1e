// A scripted fake CardChannel for unit tests of the decorators: answers from a list of
// [expected command hex, response hex] pairs and records what was sent.
import type { CardChannel, BatchCommand, BatchResult } from '../../../apdu/card-channel.ts';
import { runBatchSequentially } from '../../../apdu/batch.ts';

export const h = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s/g, '').match(/../g) ?? []).map((x) => parseInt(x, 16)));
export const hx = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();

export class ScriptedChannel implements CardChannel {
  sent: string[] = [];
  batches = 0;
  transmitBatch?: (c: ReadonlyArray<BatchCommand>) => Promise<BatchResult>;
  constructor(private script: Array<[string, string]>, batch = false) {
    if (batch) this.transmitBatch = (c) => { this.batches++; return runBatchSequentially({ transmit: (x) => this.answer(x) }, c); };
  }
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.answer(command);
  }
  private async answer(command: Uint8Array): Promise<Uint8Array> {
    const step = this.script.shift();
    const sent = hx(command);
    this.sent.push(sent);
    if (!step) throw new Error(`unscripted command ${sent}`);
    if (step[0] !== '*' && step[0].replace(/\s/g, '').toUpperCase() !== sent) throw new Error(`expected ${step[0]}, got ${sent}`);
    return h(step[1]);
  }
}
