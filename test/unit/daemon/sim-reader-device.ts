// Wraps the firmware simulator's SimulatedReader (which implements ReaderOperations directly) as a
// ReaderDevice, without any link: enough for the reader model's unit tests.
import { SimulatedReader } from '../../../firmware-sim/reader/simulated-reader.ts';
import { protocolDevice } from '../../../daemon/devices/protocol-device.ts';
import type { ReaderDevice } from '../../../daemon/devices/reader-device.ts';

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
