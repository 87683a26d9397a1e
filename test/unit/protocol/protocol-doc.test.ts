// PROTOCOL.md must contain the generated examples and tables verbatim: the spec a vendor reads is
// what the code does. Regenerate with `node --import tsx test/unit/protocol/protocol-examples.ts --write`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../protocol/framing.ts';
import { decodeDeviceMessage, decodeRequest } from '../../../protocol/messages.ts';
import { BLOCKS, blockMarkers, PROTOCOL_MD, renderBlock, workedExamples } from './protocol-examples.ts';

const doc = readFileSync(PROTOCOL_MD, 'utf8');

describe('PROTOCOL.md', () => {
  for (const name of Object.keys(BLOCKS) as Array<keyof typeof BLOCKS>) {
    it(`contains the generated ${name} block verbatim`, () => {
      const { begin, end } = blockMarkers(name);
      expect(doc).toContain(`${begin}\n${renderBlock(name)}\n${end}`);
    });
  }

  it('has examples whose frames decode back to their payloads and messages', () => {
    const text = workedExamples();
    const frames = [...text.matchAll(/frame {3}\(\s*\d+ bytes\): ([0-9a-f ]+(?:\n {22}[0-9a-f ]+)*)/g)].map((m) => Uint8Array.from(Buffer.from(m[1].replace(/\s+/g, ''), 'hex')));
    expect(frames.length).toBeGreaterThan(15);
    for (const f of frames) {
      const [payload] = new FrameDecoder().push(f);
      expect(payload).toBeDefined();
      if (payload[0] === 0xc1) continue;
      const m = payload[1] === 0xa2 && payload[2] === 0x65 ? decodeDeviceMessage(payload) : tryBoth(payload);
      expect(m).toBeTruthy();
    }
  });

  it('prints the TEST-ONLY CA public key that test-ca.ts derives (1.2, D9)', async () => {
    const { testTrustedCa, TEST_CA_ID } = await import('../../../protocol/secure/test-ca.ts');
    const m = /id {3}(\S+)\n {2}key {2}([0-9a-f ]+)\n {10}([0-9a-f ]+)\n/.exec(doc);
    expect(m?.[1]).toBe(TEST_CA_ID);
    expect((m![2] + m![3]).replace(/\s+/g, '')).toBe(Buffer.from(testTrustedCa().publicKey.toBytes()).toString('hex'));
  });

  it('documents every operation, event and error code by name', () => {
    for (const op of ['hello', 'slotStatus', 'powerOn', 'powerOff', 'resetCard', 'setParams', 'transmit', 'transmitBatch', 'ping', 'deviceReset', 'deviceInfo', 'scOpen', 'scFinish']) {
      expect(doc).toMatch(new RegExp(`### ${op}\\b|### scOpen, scFinish`));
    }
    for (const ev of ['card.inserted', 'card.removed', 'qr.scanned', '`error`', '`busy`']) expect(doc).toContain(ev);
  });
});

function tryBoth(payload: Uint8Array): unknown {
  try {
    return decodeRequest(payload);
  } catch {
    return decodeDeviceMessage(payload);
  }
}
