// Wraps the firmware simulator's SimulatedReader (which implements ReaderOperations directly) as a
// ReaderDevice, without any link: enough for the reader model's unit tests.
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { protocolDevice } from '../../../daemon/devices/protocol-device.ts';
import type { ReaderDevice } from '../../../daemon/devices/reader-device.ts';
import type { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import type { SlotStatus } from '../../../protocol/operations.ts';

export async function simReaderDevice(key = 'test-1', options: ConstructorParameters<typeof SimulatedReader>[0] = {}): Promise<{ device: ReaderDevice; sim: SimulatedReader }> {
  const sim = new SimulatedReader(options);
  const hello = await sim.hello({ versions: [1], maxFrame: 65536 });
  const device = protocolDevice({
    kind: 'sim',
    key,
    ops: sim,
    hello,
    secure: { policy: 'off', state: 'unsupported' },
    subscribe: (l) => sim.on(l),
    close: async () => {},
  });
  return { device, sim };
}

/**
 * Attaches `device` to `registry` and resolves once the reader's first slot-status read after the
 * attach has been applied to its model (the registry starts that read on its own; the tests begin
 * from a model in step with the device, without guessing how long the read takes).
 */
export async function attachSettled(registry: ReaderRegistry, device: ReaderDevice): Promise<void> {
  let applied!: () => void;
  const done = new Promise<void>((r) => (applied = r));
  (device as { initialStatus?: () => Promise<SlotStatus[]> }).initialStatus = async () => {
    try {
      return await device.ops.slotStatus();
    } finally {
      setImmediate(applied); // after the registry's continuation (a microtask) applied the answer
    }
  };
  registry.attached(device);
  await done;
}
