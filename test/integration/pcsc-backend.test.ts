// The daemon's PC/SC backend against a real pcscd with vsmartcard's vpcd driver: reader discovery
// (two vpcd slots mapped to one logical reader), card insert/remove events, power and APDUs, and a
// pcscd restart survived without restarting the daemon.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcscBackend, loadPcsclite } from '../../daemon/devices/pcsc-backend.ts';
import { EventBus } from '../../daemon/events/event-bus.ts';
import type { DeliveredEvent } from '../../daemon/events/event-types.ts';
import { ReaderRegistry } from '../../daemon/readers/reader-registry.ts';
import { connectVpcdCard, pcscUnavailableReason, startPcscd, type PcscdHandle } from '../support/pcscd.ts';
import { EchoCard } from '../unit/daemon/echo-card.ts';
import { until } from '../support/until.ts';

const reason = pcscUnavailableReason() ?? (loadPcsclite().factory ? undefined : 'the pcsclite addon is not built');
if (reason) console.warn(`SKIPPED pcsc-backend tests: ${reason}`);

/** An echo card that can fall silent (a mute card from then on). */
class FallsSilentCard extends EchoCard {
  silent = false;
  get mute(): boolean {
    return this.silent;
  }
}

const vpcdPort = (a: { host: string; port: number }): [number, string] => [a.port, a.host];

describe.skipIf(!!reason)('PC/SC backend through pcscd + vpcd', () => {
  let pcscd: PcscdHandle;
  let backend: PcscBackend;
  const events = new EventBus();
  const seen: DeliveredEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const registry = new ReaderRegistry({ events, lockTimeoutMs: 10_000, trace: { enabled: true, maskData: false } });

  beforeAll(async () => {
    pcscd = await startPcscd({ quickack: true, cardsInProcess: true });
    backend = new PcscBackend({ settleMs: 300 });
    await backend.start(registry);
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await pcscd?.release();
  });

  it('maps the two vpcd slots to one logical reader with a user-card slot and SAM1', async () => {
    const reader = await until('the vpcd reader', () => registry.list().find((r) => r.toJSON().health === 'ok' && r.toJSON().slots.length === 2));
    expect(reader.id).toBe('pcsc-1');
    expect(reader.toJSON()).toMatchObject({ kind: 'pcsc', vendor: 'vsmartcard', model: 'vpcd', name: 'Virtual PCD 00' });
    expect(reader.toJSON().slots.map((s) => [s.slot, s.kind, s.label])).toEqual([
      [0x01, 'contact', 'user card'],
      [0x11, 'sam', 'SAM1'],
    ]);
    expect(backend.status().available).toBe(true);
  });

  it('sees a card inserted, powers it (shared mode), exchanges APDUs, and sees it removed', async () => {
    const reader = registry.get('pcsc-1');
    const card = new EchoCard();
    const vpcd = await connectVpcdCard(card, ...vpcdPort(await pcscd.vpcdAddress(35963)));
    await until('card.inserted', () => seen.find((e) => e.type === 'card.inserted' && e.readerId === 'pcsc-1' && e.slot === 1));
    const response = await reader.session('test', async (s) => {
      const atr = await s.ensurePowered(1);
      expect(Buffer.from(atr).toString('hex')).toBe('3b021450');
      return s.channel(1).transmit(Uint8Array.from([0x00, 0xb0, 0x12, 0x34, 0x00]));
    });
    expect(Buffer.from(response).toString('hex')).toBe('00b012349000');
    expect(card.seen).toContain('00b0123400');
    expect(reader.toJSON().slots[0]).toMatchObject({ card: 'powered', atr: '3B021450' });
    await vpcd.remove();
    await until('card.removed', () => seen.find((e) => e.type === 'card.removed' && e.readerId === 'pcsc-1' && e.slot === 1));
    expect(reader.toJSON().slots[0].card).toBe('absent');
    await expect(reader.session('after', (s) => s.channel(1).transmit(Uint8Array.from([0, 0xb0, 0, 0, 0])))).rejects.toMatchObject({ code: 'NO_CARD' });
  });

  it('a card that stops answering: the APDU fails with CARD_MUTE at once (no hang), then the slot is empty', async () => {
    const reader = registry.get('pcsc-1');
    const card = new FallsSilentCard();
    const vpcd = await connectVpcdCard(card, ...vpcdPort(await pcscd.vpcdAddress(35963)));
    try {
      await until('card present', () => reader.toJSON().slots[0].card === 'present');
      await reader.session('test', async (s) => {
        await s.ensurePowered(1);
        expect(Buffer.from(await s.channel(1).transmit(Uint8Array.from([0x00, 0xb0, 0x00, 0x00, 0x00]))).toString('hex')).toBe('00b000009000');
        card.silent = true;
        await expect(s.channel(1).transmit(Uint8Array.from([0x00, 0xb0, 0x00, 0x00, 0x00]))).rejects.toMatchObject({ code: 'CARD_MUTE' });
      });
      await until('slot empty', () => reader.toJSON().slots[0].card === 'absent');
    } finally {
      await vpcd.remove();
    }
  });

  it('survives a pcscd restart: offline while it is down, back under the same id after', async () => {
    const reader = registry.get('pcsc-1');
    await pcscd.stop();
    await until('offline', () => reader.toJSON().health === 'offline');
    // The readers' end (offline) and the context's error (backend unavailable) come in either order.
    await until('the backend saw pcscd go', () => !backend.status().available);
    expect(backend.status().detail).toMatch(/pcscd/);
    await pcscd.restart();
    await until('back online', () => reader.toJSON().health === 'ok', 30_000);
    expect(registry.list().map((r) => r.id)).toEqual(['pcsc-1']);
    const card = new EchoCard();
    const vpcd = await connectVpcdCard(card, ...vpcdPort(await pcscd.vpcdAddress(35963)));
    try {
      await until('card present', () => reader.toJSON().slots[0].card === 'present');
      const r = await reader.session('test', async (s) => {
        await s.ensurePowered(1);
        return s.channel(1).transmit(Uint8Array.from([0x00, 0xb2, 0x01, 0x04, 0x00]));
      });
      expect(Buffer.from(r).toString('hex')).toBe('00b201049000');
    } finally {
      await vpcd.remove();
    }
  }, 90_000);
});
