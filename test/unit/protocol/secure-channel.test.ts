import { afterEach, describe, expect, it } from 'vitest';
import { Sm2PrivateKey, toHex } from '../../../crypto/index.ts';
import { RECORD_MARKER } from '../../../protocol/frame-channel.ts';
import { HostSession } from '../../../protocol/host-session.ts';
import { DeviceSession } from '../../../protocol/device-session.ts';
import { createLinkPair } from '../../../protocol/link.ts';
import { encodeRequest } from '../../../protocol/messages.ts';
import { issueDeviceCertificate, verifyDeviceCertificate } from '../../../protocol/secure/device-certificate.ts';
import { MAX_SEQ_GAP, RECORD_OVERHEAD, SecureRecordLayer, SecureRecordError, type DirectionKeys } from '../../../protocol/secure/record-layer.ts';
import { TEST_CA_ID, testCaKey, testDeviceIdentity, testHostKey, testTrustedCa } from '../../../protocol/secure/test-ca.ts';
import { FakeReader } from './fake-reader.ts';
import { openHarness, SELECT_MF, type Harness } from './session-harness.ts';
import { until } from '../../support/until.ts';

const trust = () => ({ hostKey: testHostKey(), trustedCas: [testTrustedCa()] });
const secureDevice = (extra = {}) => ({ secure: { identity: testDeviceIdentity('FAKE-0001'), ...extra } });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let h: Harness | undefined;
afterEach(async () => {
  await h?.host.close();
  h = undefined;
});

function keys(seed: number): DirectionKeys {
  return { enc: new Uint8Array(16).fill(seed), mac: new Uint8Array(16).fill(seed + 1) };
}
function pair(rekeyInterval?: number) {
  const a = keys(1);
  const b = keys(3);
  return { tx: new SecureRecordLayer({ send: a, receive: b }, rekeyInterval), rx: new SecureRecordLayer({ send: b, receive: a }, rekeyInterval) };
}
const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);

describe('record layer (suite 1: SM4-CTR + HMAC-SM3-128, encrypt-then-MAC)', () => {
  it('has a fixed format: C1 ‖ seq(8) ‖ ciphertext ‖ tag(16)', () => {
    const { tx, rx } = pair();
    const r0 = tx.seal(msg(10));
    expect(r0.length).toBe(10 + RECORD_OVERHEAD);
    expect(r0[0]).toBe(RECORD_MARKER);
    expect(hex(r0.subarray(1, 9))).toBe('0000000000000000');
    expect(hex(tx.seal(msg(10)).subarray(1, 9))).toBe('0000000000000001');
    expect(hex(rx.open(r0))).toBe(hex(msg(10)));
    expect(hex(r0.subarray(9, 19))).not.toBe(hex(msg(10)));
  });

  it('rejects a flipped bit anywhere (marker, seq, ciphertext, tag), counted by reason', () => {
    const { tx } = pair();
    const record = tx.seal(msg(40));
    for (let bit = 0; bit < record.length * 8; bit += 5) {
      const { rx } = pair();
      const bad = record.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      expect(() => rx.open(bad)).toThrow(SecureRecordError);
    }
  });

  it('rejects replayed, reordered and truncated records', () => {
    const { tx, rx } = pair();
    const r = [tx.seal(msg(5)), tx.seal(msg(6)), tx.seal(msg(7))];
    rx.open(r[0]);
    expect(() => rx.open(r[0])).toThrowError(expect.objectContaining({ reason: 'replay' }));
    rx.open(r[2]); // r[1] lost on the line: a gap is allowed
    expect(() => rx.open(r[1])).toThrowError(expect.objectContaining({ reason: 'replay' })); // reordered
    const { tx: tx2, rx: rx2 } = pair();
    const full = tx2.seal(msg(50));
    expect(() => rx2.open(full.subarray(0, full.length - 1))).toThrowError(expect.objectContaining({ reason: 'tag' }));
    expect(() => rx2.open(full.subarray(0, 20))).toThrowError(expect.objectContaining({ reason: 'short' }));
    expect(hex(rx2.open(full))).toBe(hex(msg(50))); // the intact record is still accepted after the failed attempts
    expect(rx.counters.rejected.replay).toBe(2);
    expect(rx.counters.skipped).toBe(1);
  });

  it('rejects a sequence number that jumps too far (no unbounded ratchet work)', () => {
    const { tx, rx } = pair();
    const r = tx.seal(msg(5));
    r.set([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 1);
    expect(() => rx.open(r)).toThrowError(expect.objectContaining({ reason: 'gap' }));
    expect(MAX_SEQ_GAP).toBe(1024);
  });

  it('re-keys every rekeyInterval records in both directions, also across lost records', () => {
    const { tx, rx } = pair(4);
    const records = Array.from({ length: 20 }, (_, i) => tx.seal(msg(i + 1)));
    for (let i = 0; i < 20; i++) if (i % 5 !== 3) expect(hex(rx.open(records[i]))).toBe(hex(msg(i + 1)));
    expect(tx.counters.rekeys).toBe(4);
    expect(rx.counters.rekeys).toBe(4);
    // Same plaintext, same position in a later epoch → a different ciphertext (new key).
    const { tx: t2 } = pair(4);
    const a = Array.from({ length: 5 }, () => t2.seal(msg(8)));
    expect(hex(a[0].subarray(9, 17))).not.toBe(hex(a[4].subarray(9, 17)));
  });
});

describe('device certificate', () => {
  it('verifies against the trusted CA and refuses an unknown CA, a forged signature, an expired cert', () => {
    const id = testDeviceIdentity('SN-1');
    const { body } = verifyDeviceCertificate(id.certificate, [testTrustedCa()], new Date('2026-01-01'));
    expect(body).toMatchObject({ serial: 'SN-1', vendor: 'Yika', ca: TEST_CA_ID });
    expect(hex(body.publicKey)).toBe(hex(id.key.publicKey.toBytes()));
    const otherCa = Sm2PrivateKey.generate();
    expect(() => verifyDeviceCertificate(id.certificate, [{ id: TEST_CA_ID, publicKey: otherCa.publicKey }])).toThrowError(expect.objectContaining({ code: 'DEVICE_UNTRUSTED' }));
    expect(() => verifyDeviceCertificate(id.certificate, [{ id: 'another', publicKey: testCaKey().publicKey }])).toThrowError(expect.objectContaining({ code: 'DEVICE_UNTRUSTED' }));
    const forged = { tbs: id.certificate.tbs.slice(), sig: id.certificate.sig };
    forged.tbs[forged.tbs.length - 3] ^= 1;
    expect(() => verifyDeviceCertificate(forged, [testTrustedCa()])).toThrowError(expect.objectContaining({ code: 'DEVICE_UNTRUSTED' }));
    const old = testDeviceIdentity('SN-1', { notAfter: 1_700_000_000 });
    expect(() => verifyDeviceCertificate(old.certificate, [testTrustedCa()])).toThrowError(/not valid at this time/);
  });
  it('is deterministic (test CA) and compact', () => {
    const a = testDeviceIdentity('SN-2').certificate;
    const b = testDeviceIdentity('SN-2').certificate;
    expect(hex(a.tbs)).toBe(hex(b.tbs));
    expect(a.tbs.length + a.sig.length).toBeLessThan(250);
  });
});

describe('secure channel over the sessions', () => {
  it('opens with an authenticated device and carries every operation in records', async () => {
    h = await openHarness({ trust: trust() }, secureDevice());
    expect(h.host.secureChannel).toMatchObject({ state: 'open', suite: 'SM2-KX/SM4-CTR/HMAC-SM3-128', peer: { serial: 'FAKE-0001', ca: TEST_CA_ID } });
    const sealed: Uint8Array[] = [];
    h.setTap((p) => (sealed.push(p), p));
    await h.host.powerOn(1);
    expect(hex(await h.host.transmit(1, SELECT_MF))).toBe('3f009000');
    expect(sealed.length).toBe(4);
    expect(sealed.every((p) => p[0] === RECORD_MARKER)).toBe(true);
    // The APDU never appears in clear on the line.
    expect(sealed.some((p) => hex(p).includes(hex(SELECT_MF)))).toBe(false);
    expect(h.device.secure).toBe(true);
    // The state shown in the reader list never carries key material.
    const shown = JSON.stringify(h.host.secureChannel);
    expect(shown).toContain('"sealed"');
    expect(shown).not.toMatch(/"enc"|"mac"/);
  });

  it('deviceReset re-opens the channel; requests made meanwhile wait for it instead of leaking out in plaintext', async () => {
    h = await openHarness({ trust: trust(), maxInFlight: 4 }, secureDevice());
    const plaintext: Uint8Array[] = [];
    h.setTap((p, from) => {
      if (from === 'host' && p[0] !== RECORD_MARKER) plaintext.push(p);
      return p;
    });
    const reset = h.host.deviceReset();
    const during = [h.host.slotStatus(1), h.host.slotStatus(0x11), h.host.deviceInfo()];
    await reset;
    const results = await Promise.all(during);
    expect(results[0]).toEqual([{ slot: 1, card: 'present' }]);
    expect(h.host.secureChannel.state).toBe('open');
    expect(h.device.secure).toBe(true);
    // Only hello, scOpen and scFinish travelled in plaintext.
    const { decodeRequest } = await import('../../../protocol/messages.ts');
    expect(plaintext.map((p) => decodeRequest(p).op)).toEqual(['hello', 'scOpen', 'scFinish']);
  });

  it('re-keys across a long session (small interval on both sides)', async () => {
    h = await openHarness({ trust: { ...trust(), rekeyInterval: 3 } }, secureDevice({ rekeyInterval: 3 }));
    await h.host.powerOn(1);
    for (let i = 0; i < 20; i++) await h.host.transmit(1, SELECT_MF);
    expect(h.host.secureChannel.records!.counters.rekeys).toBeGreaterThanOrEqual(6);
  });

  async function attack(from: 'host' | 'device', mutate: (p: Uint8Array, saved: Uint8Array[]) => Uint8Array | null | Uint8Array[]) {
    h = await openHarness({ trust: trust() }, secureDevice());
    await h.host.powerOn(1);
    const saved: Uint8Array[] = [];
    let armed = true;
    h.setTap((p, dir) => {
      if (dir !== from || p[0] !== RECORD_MARKER || !armed) return p;
      saved.push(p);
      const r = mutate(p, saved);
      if (r !== p && r !== null) armed = false;
      return r;
    });
    const closed = new Promise((r) => h!.host.once('close', r));
    const results = await Promise.allSettled([h.host.transmit(1, SELECT_MF), h.host.transmit(1, SELECT_MF), h.host.transmit(1, SELECT_MF)]);
    return { closed: (await closed) as { code: string }, results };
  }

  it('tears down on a tampered record from the device', async () => {
    const { closed, results } = await attack('device', (p) => {
      const q = p.slice();
      q[12] ^= 0x80;
      return q;
    });
    expect(closed.code).toBe('SECURE_CHANNEL_REJECTED');
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(h!.host.secureChannel.records!.counters.rejected.tag).toBe(1);
  });

  it('tears down on a tampered record from the host (the device reports and drops the channel)', async () => {
    const { closed } = await attack('host', (p) => {
      const q = p.slice();
      q[q.length - 1] ^= 1;
      return q;
    });
    expect(closed.code).toBe('SECURE_CHANNEL_REJECTED');
    expect(h!.device.counters.recordErrors).toBeGreaterThanOrEqual(1);
    expect(h!.device.counters.secureTeardowns).toBe(1);
    expect(h!.device.secure).toBe(false);
    expect(h!.device.isReady).toBe(false);
  });

  it('rejects a replayed record', async () => {
    const { closed } = await attack('device', (p, saved) => (saved.length === 2 ? [p, saved[0]] : p));
    expect(closed.code).toBe('SECURE_CHANNEL_REJECTED');
    expect(h!.host.secureChannel.records!.counters.rejected.replay).toBe(1);
  });

  it('rejects reordered records', async () => {
    let held: Uint8Array | undefined;
    const { closed } = await attack('host', (p) => {
      if (!held) {
        held = p;
        return null;
      }
      return [p, held];
    });
    expect(closed.code).toBe('SECURE_CHANNEL_REJECTED');
    expect(h!.device.records ?? null).toBe(null);
  });

  it('rejects a truncated record', async () => {
    const { closed } = await attack('device', (p) => p.subarray(0, p.length - 4));
    expect(closed.code).toBe('SECURE_CHANNEL_REJECTED');
  });

  it('rejects a plaintext message injected into the open channel', async () => {
    h = await openHarness({ trust: trust() }, secureDevice());
    const closed = new Promise((r) => h!.host.once('close', r));
    h.deviceLink.write(new (await import('../../../protocol/framing.ts')).FrameEncoder().encode(Uint8Array.of(0x83, 0xa2, 0x69, 0x64, 0x01, 0xa2, 0x6f, 0x6b, 0xc3, 0xa1, 0x78, 0x00)));
    expect(await closed).toMatchObject({ code: 'SECURE_CHANNEL_REJECTED' });
  });

  it('lets a restarted host say hello again in plaintext (the device resets its channel)', async () => {
    h = await openHarness({ trust: trust() }, secureDevice());
    expect(h.device.secure).toBe(true);
    const { FrameEncoder } = await import('../../../protocol/framing.ts');
    const closed = new Promise((r) => h!.host.once('close', r));
    h.hostLink.write(new FrameEncoder().encode(encodeRequest(77, 'hello', [{ versions: [1], maxFrame: 1024 }])));
    // The old host session sees a plaintext answer inside its channel and closes; the device is ready again in plaintext.
    expect(await closed).toMatchObject({ code: 'SECURE_CHANNEL_REJECTED' });
    expect(h.device.secure).toBe(false);
    expect(h.device.counters.secureTeardowns).toBe(1);
  });
});

describe('host secure policy', () => {
  it("'required' against a device without the channel → SECURE_CHANNEL_UNSUPPORTED", async () => {
    await expect(openHarness({ secure: 'required', trust: trust() })).rejects.toMatchObject({ code: 'SECURE_CHANNEL_UNSUPPORTED' });
  });
  it("'preferred' against a device without the channel → plaintext, state off with a reason", async () => {
    h = await openHarness({ secure: 'preferred', trust: trust() });
    expect(h.host.secureChannel).toMatchObject({ state: 'off', reason: 'the device does not support the secure channel' });
  });
  it("'preferred' without trust configuration → off; 'required' without it → SECURE_CHANNEL_NO_TRUST", async () => {
    h = await openHarness({ secure: 'preferred' }, secureDevice());
    expect(h.host.secureChannel.state).toBe('off');
    await h.host.close();
    await expect(openHarness({ secure: 'required' }, secureDevice())).rejects.toMatchObject({ code: 'SECURE_CHANNEL_NO_TRUST' });
  });
  it("'off' against a device that requires the channel → SECURE_CHANNEL_REQUIRED", async () => {
    await expect(openHarness({ secure: 'off' }, secureDevice({ require: true }))).rejects.toMatchObject({ code: 'SECURE_CHANNEL_REQUIRED' });
  });
  it('a device requiring the channel refuses plaintext operations', async () => {
    const [a, b] = createLinkPair();
    new DeviceSession(b, new FakeReader(), secureDevice({ require: true }));
    const { FrameEncoder, FrameDecoder } = await import('../../../protocol/framing.ts');
    const { decodeDeviceMessage } = await import('../../../protocol/messages.ts');
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const inbox: unknown[] = [];
    a.onData((x) => dec.push(x).forEach((p) => inbox.push(decodeDeviceMessage(p))));
    a.write(enc.encode(encodeRequest(1, 'hello', [{ versions: [1], maxFrame: 1024 }])));
    a.write(enc.encode(encodeRequest(2, 'powerOn', [1])));
    a.write(enc.encode(encodeRequest(3, 'ping', [])));
    await until('three answers', () => inbox.length >= 3);
    expect(inbox[1]).toMatchObject({ kind: 'error', id: 2, name: 'SECURE_CHANNEL_REQUIRED' });
    expect(inbox[2]).toMatchObject({ kind: 'result', id: 3 });
    a.close();
  });
  it('refuses a device signed by an untrusted CA, and one whose certificate names another serial', async () => {
    const rogueCa = Sm2PrivateKey.generate();
    await expect(openHarness({ trust: trust() }, { secure: { identity: testDeviceIdentity('FAKE-0001', { caKey: rogueCa }) } })).rejects.toMatchObject({ code: 'DEVICE_UNTRUSTED' });
    await expect(openHarness({ trust: trust() }, { secure: { identity: testDeviceIdentity('OTHER-SERIAL') } })).rejects.toMatchObject({ code: 'DEVICE_UNTRUSTED' });
  });
  it('refuses a device that holds a valid certificate but not its private key (S_B mismatch)', async () => {
    const stolen = testDeviceIdentity('FAKE-0001').certificate;
    await expect(openHarness({ trust: trust() }, { secure: { identity: { key: Sm2PrivateKey.generate(), certificate: stolen } } })).rejects.toMatchObject({ code: 'DEVICE_UNTRUSTED' });
  });
  it('a device with paired hosts refuses another host key (HOST_NOT_PAIRED) and accepts a paired one', async () => {
    const paired = testHostKey('front desk 1');
    await expect(openHarness({ trust: trust() }, secureDevice({ pairedHosts: [paired.publicKey.toBytes()] }))).rejects.toMatchObject({ code: 'HOST_NOT_PAIRED' });
    h = await openHarness({ trust: { hostKey: paired, trustedCas: [testTrustedCa()] } }, secureDevice({ pairedHosts: [paired.publicKey.toBytes()] }));
    expect(h.host.secureChannel.state).toBe('open');
  });
  it('issues certificates with any CA key (vendor factory path)', () => {
    const ca = Sm2PrivateKey.generate();
    const dev = Sm2PrivateKey.generate();
    const cert = issueDeviceCertificate(ca, { serial: 'X', vendor: 'V', model: 'M', publicKey: dev.publicKey.toBytes(), notBefore: 0, notAfter: 4_000_000_000, ca: 'v-ca' });
    expect(toHex(verifyDeviceCertificate(cert, [{ id: 'v-ca', publicKey: ca.publicKey }]).body.publicKey)).toBe(toHex(dev.publicKey.toBytes()));
  });
});

describe('record layer, independent cross-check with OpenSSL primitives', () => {
  it('matches C1 ‖ seq ‖ sm4-ctr(IV = seq ‖ 0^8) ‖ HMAC-SM3[0..16) computed with node:crypto', async () => {
    const { createCipheriv, createHmac } = await import('node:crypto');
    const send = { enc: Uint8Array.from({ length: 16 }, (_, i) => i), mac: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i) };
    const layer = new SecureRecordLayer({ send, receive: send });
    const message = Buffer.from('82a2696401a26f70a470696e67', 'hex');
    layer.seal(message); // seq 0
    const record = layer.seal(message); // seq 1
    const seq = Buffer.from('0000000000000001', 'hex');
    const iv = Buffer.concat([seq, Buffer.alloc(8)]);
    const c = createCipheriv('sm4-ctr', send.enc, iv).update(message);
    const header = Buffer.concat([Buffer.of(0xc1), seq, c]);
    const tag = createHmac('sm3', send.mac).update(header).digest().subarray(0, 16);
    expect(hex(record)).toBe(Buffer.concat([header, tag]).toString('hex'));
  });
});
