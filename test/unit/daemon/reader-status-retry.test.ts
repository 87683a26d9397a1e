// A reader attached with a card already in its slot: when the first slot-status query is lost (a slow
// link on a loaded PC times out), the registry asks again, so the card does not stay "absent" until
// it is reinserted. Observed: `yikad --sim` under load answered NO_CARD for the whole run.
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import type { ReaderDevice } from '../../../daemon/devices/reader-device.ts';
import { ProtocolError } from '../../../protocol/protocol-errors.ts';
import { until } from '../../support/until.ts';
import { EchoCard } from './echo-card.ts';
import { simReaderDevice } from './sim-reader-device.ts';

async function attachWithLostQueries(lost: number) {
  const { device, sim } = await simReaderDevice();
  sim.insertCard(1, new EchoCard());
  let calls = 0;
  const flaky: ReaderDevice = Object.create(device);
  flaky.initialStatus = () => {
    calls++;
    if (calls <= lost) return Promise.reject(new ProtocolError('PROTOCOL_TIMEOUT', 'slotStatus: no answer'));
    return device.ops.slotStatus();
  };
  const warnings: Array<Record<string, unknown>> = [];
  const registry = new ReaderRegistry({ events: new EventBus(), lockTimeoutMs: 1000, trace: { enabled: false, maskData: true }, log: { info() {}, warn: (o) => void warnings.push(o as Record<string, unknown>) } });
  registry.attached(flaky);
  return { reader: registry.get('sim-1'), calls: () => calls, warnings, registry };
}

describe('slot states after attach', () => {
  it('retries a lost status query and then shows the card that was already inserted', async () => {
    const { reader, calls, warnings } = await attachWithLostQueries(2);
    expect(reader.toJSON().slots[0].card).toBe('absent');
    await until('the card to show as present', () => reader.toJSON().slots[0].card === 'present', 15_000);
    expect(calls()).toBe(3);
    expect(warnings.map((w) => [w.code, w.retry])).toEqual([
      ['PROTOCOL_TIMEOUT', true],
      ['PROTOCOL_TIMEOUT', true],
    ]);
  }, 20_000);

  it('stops retrying once the device is detached', async () => {
    const { reader, calls, registry } = await attachWithLostQueries(100);
    await until('the first query', () => calls() >= 1);
    registry.detached('sim', 'test-1', 'unplugged');
    const before = calls();
    // An absence ("no more queries"): no condition can show it, so this waits past the retry backoff.
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls()).toBe(before);
    expect(reader.online).toBe(false);
  });
});
