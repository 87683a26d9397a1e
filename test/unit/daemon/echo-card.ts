// A tiny SimCard for daemon unit tests: answers every APDU with its own header as data ‖ 9000, and
// VERIFY (INS 20) with 9000. It lets the tests see exactly which command reached the card, in order.
import type { CardAnswer, SimCard } from '../../../firmware-sim/sim-card.ts';

export class EchoCard implements SimCard {
  readonly label = 'echo';
  readonly protocols = [0, 1] as const;
  readonly seen: string[] = [];
  powerOn(): Uint8Array {
    return Uint8Array.from([0x3b, 0x02, 0x14, 0x50]);
  }
  powerOff(): void {}
  reset(): Uint8Array {
    return this.powerOn();
  }
  process(command: Uint8Array): CardAnswer {
    this.seen.push(Buffer.from(command).toString('hex'));
    if (command[1] === 0x20) return { response: Uint8Array.from([0x90, 0x00]), kind: 'other' };
    return { response: Uint8Array.from([...command.subarray(0, 4), 0x90, 0x00]), kind: 'read' };
  }
}
