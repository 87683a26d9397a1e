// secure.handshake-errors (PROTOCOL.md 10.2, 1.2 D4): the handshake's error answers, driven raw
// because a good host never sends them, and a ping in the middle of a good handshake that keeps it.
import { Sm2PrivateKey, Sm2PublicKey, sm2KeyExchange } from '../../../crypto/index.ts';
import type { WireMap } from '../../../protocol/messages.ts';
import { parseCertificateBody } from '../../../protocol/secure/device-certificate.ts';
import type { RawClient } from '../raw-client.ts';
import { CheckFailed, expectResult, needHello, pingAnswered, readyRaw, requestError, type CheckContext } from './check-kit.ts';

/** A public key (x, y) = (1, 1): not on the curve. */
function offCurvePoint(): Uint8Array {
  const bad = new Uint8Array(65);
  bad[0] = 0x04;
  bad[32] = 1;
  bad[64] = 1;
  return bad;
}

/** The host side of the raw handshake: scOpen with a fresh ephemeral key, scFinish with the key exchange's confirmation. */
class RawHandshake {
  private readonly hostKey = Sm2PrivateKey.generate();

  constructor(
    private readonly raw: RawClient,
    private readonly ctx: CheckContext,
  ) {}

  /** An scOpen with a valid host key and a fresh ephemeral, changed by `change`. */
  scOpen(change: WireMap = {}): WireMap {
    return { op: 'scOpen', suites: [1], hostKey: this.hostKey.publicKey.toBytes(), ephemeral: Sm2PrivateKey.generate().publicKey.toBytes(), ...change };
  }

  async open(): Promise<{ eph: Sm2PrivateKey; fields: Record<string, unknown> }> {
    const eph = Sm2PrivateKey.generate();
    const id = this.raw.id();
    const m = await this.raw.request({ id, ...this.scOpen({ ephemeral: eph.publicKey.toBytes() }) }, 5000 * this.ctx.scale);
    expectResult(m, 'scOpen');
    return { eph, fields: m!.kind === 'result' ? m!.fields : {} };
  }

  async finish(opened: { eph: Sm2PrivateKey; fields: Record<string, unknown> }, what: string): Promise<void> {
    const cert = opened.fields.cert as { tbs: Uint8Array; sig: Uint8Array };
    const deviceKey = Sm2PublicKey.fromBytes(parseCertificateBody(cert.tbs).publicKey);
    const kx = sm2KeyExchange({ role: 'initiator', self: { priv: this.hostKey }, peer: { pub: deviceKey }, selfEphemeral: { priv: opened.eph }, peerEphemeralPub: opened.fields.ephemeral as Uint8Array, keyLength: 32 });
    const id = this.raw.id();
    expectResult(await this.raw.request({ id, op: 'scFinish', confirm: kx.confirmSelf }, 5000 * this.ctx.scale), what);
  }
}

export async function handshakeErrors(ctx: CheckContext): Promise<string> {
  const h = needHello(ctx);
  const raw = await readyRaw(ctx);
  if (h.secureChannel === 'none') {
    return requestError(raw, ctx, { op: 'scOpen', suites: [1], hostKey: new Uint8Array(65), ephemeral: new Uint8Array(65) }, 'UNKNOWN_OPERATION');
  }
  const hs = new RawHandshake(raw, ctx);
  const seen: string[] = [];
  const refused = async (map: WireMap, what: string) => {
    await requestError(raw, ctx, map, 'SECURE_CHANNEL_FAILED', 2000);
    seen.push(what);
  };
  await refused(hs.scOpen({ suites: [99] }), 'suite 99');
  await refused(hs.scOpen({ ephemeral: offCurvePoint() }), 'R_A off the curve');
  await refused(hs.scOpen({ hostKey: offCurvePoint() }), 'P_A off the curve');
  await refused({ op: 'scFinish', confirm: new Uint8Array(32) }, 'scFinish without scOpen');
  await hs.open();
  await refused({ op: 'slotStatus' }, 'slotStatus during the handshake');
  await refused({ op: 'scFinish', confirm: new Uint8Array(32) }, 'scFinish after the handshake was abandoned');
  await hs.open();
  await refused(hs.scOpen(), 'a second scOpen');
  // A good handshake with a ping in the middle: the ping is answered and the handshake goes on.
  const opened = await hs.open();
  if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping during the handshake not answered');
  await hs.finish(opened, 'scFinish after a ping during the handshake');
  seen.push('ping kept the handshake');
  return seen.join('; ');
}
