// A full health-card read with SAM authorization over a batching transport (the wire protocol to the
// simulated reader, its transmitBatch, the reader model's batch channel, the health-card service)
// with the card on T=0: every SELECT of a DF answers 61xx there, so a batch that ran on past it would
// lose the FCI (PROTOCOL.md transmitBatch: the device stops at 61xx/6Cxx whatever `expect` says).
// The decoded result must equal the T=1 read of the same card.
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../support/until.ts';
import { createSimulator, type Simulator } from '../../../firmware-sim/index.ts';
import { createHealthCard, generateProfile } from '../../../firmware-sim/cards/index.ts';
import { connectProtocolDevice } from '../../../daemon/devices/protocol-connect.ts';
import { EventBus } from '../../../daemon/events/event-bus.ts';
import { ReaderRegistry } from '../../../daemon/readers/reader-registry.ts';
import { HealthCardService } from '../../../daemon/services/health-card-service.ts';
import type { HostSession } from '../../../protocol/host-session.ts';

const SEED = 11;
const open: Array<{ sim: Simulator; session: HostSession }> = [];

afterEach(async () => {
  for (const { sim, session } of open.splice(0)) {
    await session.close();
    await sim.close();
  }
});

async function readCard(protocols: ReadonlyArray<0 | 1>, options: { batch?: boolean } = {}) {
  const profile = generateProfile(SEED);
  const sim = createSimulator({ seed: SEED, cards: { 0x01: createHealthCard(profile, { protocols }) } });
  const { device, session } = await connectProtocolDevice(sim.connectInProcess(), { kind: 'sim', key: 'sim', secure: 'off' });
  open.push({ sim, session });
  const registry = new ReaderRegistry({ events: new EventBus(), lockTimeoutMs: 10_000 });
  registry.attached(device);
  await until('card present', () => registry.find('sim-1')?.toJSON().slots[0].card === 'present');
  const service = new HealthCardService({ registry, samPin: '123456' });
  const read = await service.read('sim-1', { batch: options.batch ?? true, files: ['all'] });
  const [status] = await session.slotStatus(0x01);
  const counters = (await sim.reader.deviceInfo()).counters;
  return { read, protocol: status.protocol, batches: counters.batches ?? 0, stopped: counters.batchesStopped ?? 0 };
}

describe('health-card read with authorization over transmitBatch, card on T=0', () => {
  it('decodes exactly what the T=1 read decodes', async () => {
    const t1 = await readCard([0, 1]);
    const t0 = await readCard([0]);
    expect(t1.protocol).toBe(1);
    expect(t0.protocol).toBe(0);
    expect(t0.batches).toBeGreaterThan(0);
    // On T=0 the batches stop at the 61xx of every DF SELECT; the host fetches and resumes.
    expect(t0.stopped).toBeGreaterThan(t1.stopped);
    expect(Object.keys(t0.read.files).length).toBeGreaterThan(10);
    expect(t0.read.files).toEqual(t1.read.files);
    expect(t0.read.card).toEqual(t1.read.card);
    // Authorised files were read (the SAM, itself T=0, did its 80DE/80FA + GET RESPONSE dialogue).
    expect(t0.read.files['DF01/EF05']).toBeDefined();
    expect(t0.read.files['DF02/EF05']).toBeDefined();
  });

  it('reads the same on T=0 with and without batching', async () => {
    const batched = await readCard([0]);
    const single = await readCard([0], { batch: false });
    expect(batched.read.files).toEqual(single.read.files);
    expect(batched.read.roundTrips).toBeLessThan(single.read.roundTrips);
  });
});
