// The SM secure channel (PROTOCOL.md 10): required means required, the handshake opens and carries
// operations, and the record layer refuses tampered, replayed, injected, unexpected and far-ahead
// records and re-keys every 65,536 seqs. The bad records are made by a tap on a real host session.
import { RECORD_MARKER } from '../../../protocol/frame-channel.ts';
import { packMap } from '../../../protocol/messages.ts';
import type { PayloadTap } from '../session-tap.ts';
import type { RawClient } from '../raw-client.ts';
import {
  CheckFailed,
  CheckSkipped,
  needChannelOpen,
  needHello,
  needSecureChannel,
  outcomeOf,
  pingAnswered,
  readyRaw,
  requestError,
  sleep,
  type CheckContext,
  type ConformanceCheck,
} from './check-kit.ts';
import { handshakeErrors } from './secure-handshake.ts';

/** A tap that passes everything but the next record after arm(), which `change` rewrites. */
function nextRecordTap(change: (record: Uint8Array) => Uint8Array | Uint8Array[]): { tap: PayloadTap; arm(): void } {
  let armed = false;
  return {
    tap: (p) => {
      if (!armed || p[0] !== RECORD_MARKER) return p;
      armed = false;
      return change(p);
    },
    arm: () => {
      armed = true;
    },
  };
}

function sendRawRecord(raw: RawClient): void {
  // A well-formed record (marker, seq 0, 17 bytes of "ciphertext", 16 of tag) that no key opens.
  const rec = new Uint8Array(1 + 8 + 17 + 16);
  rec[0] = RECORD_MARKER;
  for (let i = 9; i < rec.length; i++) rec[i] = (i * 29 + 7) & 0xff;
  raw.writePayload(rec);
}

async function tamperedRecord(ctx: CheckContext): Promise<string> {
  needChannelOpen(ctx);
  const flipTagBit = nextRecordTap((p) => {
    const q = p.slice();
    q[q.length - 5] ^= 0x10;
    return q;
  });
  const s = await ctx.session({ secure: 'required', timeouts: { slotStatus: 1500 * ctx.scale }, tap: flipTagBit.tap });
  await s.slotStatus();
  flipTagBit.arm();
  const outcome = await outcomeOf(s.slotStatus(), 'executed');
  if (outcome === 'executed') throw new CheckFailed('the tampered request was executed');
  // Torn down: the device needs a new hello (a new session proves the device recovered).
  const again = await ctx.session({ secure: 'required' });
  await again.ping();
  return `tampered request → ${outcome}`;
}

async function plaintextInside(ctx: CheckContext): Promise<string> {
  needChannelOpen(ctx);
  let plaintext: Uint8Array = new Uint8Array(0);
  const inject = nextRecordTap((p) => [plaintext, p]);
  const s = await ctx.session({ secure: 'required', tap: inject.tap });
  const raw = ctx.raw();
  const id = raw.id();
  plaintext = packMap({ id, op: 'slotStatus' });
  inject.arm();
  await s.ping().catch(() => undefined);
  const teardown = await raw.waitFor(0, 1000 * ctx.scale);
  const m = await raw.waitFor(id, 300 * ctx.scale);
  if (m && m.kind === 'result') throw new CheckFailed('the plaintext request was executed inside the channel');
  if (m) throw new CheckFailed(`the plaintext request got an answer of its own (${m.kind === 'error' ? m.name : m.kind}); the teardown's id-0 error must be the only one`);
  if (!teardown || teardown.kind !== 'error' || teardown.name !== 'SECURE_CHANNEL_FAILED') throw new CheckFailed('no id-0 SECURE_CHANNEL_FAILED: the channel was not torn down');
  return 'not executed, no answer of its own; id 0 SECURE_CHANNEL_FAILED';
}

async function recordSeq(ctx: CheckContext): Promise<string> {
  needChannelOpen(ctx);
  const s = await ctx.session({ secure: 'required', timeouts: { ping: 1500 * ctx.scale } });
  const first = s.skipRecordSeq(0) === 0 ? s.skipRecordSeq(1023) : s.skipRecordSeq(1023);
  await s.ping().catch((e: { code?: string }) => {
    throw new CheckFailed(`the first record with seq ${first} was refused (${e.code ?? e})`);
  });
  const far = s.skipRecordSeq(1024);
  const outcome = await outcomeOf(s.ping(), 'answered');
  if (outcome === 'answered') throw new CheckFailed(`a record ${far - first} seqs ahead (more than 1024) was accepted`);
  return `first record seq ${first} accepted; seq ${far} (+${far - first}) → ${outcome}`;
}

async function rekey(ctx: CheckContext): Promise<string> {
  needChannelOpen(ctx);
  const s = await ctx.session({ secure: 'required', timeouts: { ping: 1500 * ctx.scale } });
  let seq = 0;
  // Hop 1024 seqs per ping (the largest accepted gap) up to and over the 65,536 boundary.
  while (seq < 65_536 + 2048) {
    seq = s.skipRecordSeq(1023);
    await s.ping().catch((e: { code?: string }) => {
      throw new CheckFailed(`a record with seq ${seq} (epoch ${Math.floor(seq / 65_536)}) was refused (${e.code ?? e})`);
    });
  }
  await s.slotStatus();
  return `records up to seq ${seq + 1} accepted across the 65,536 boundary`;
}

export const SECURE_CHANNEL_CHECKS: ConformanceCheck[] = [
  {
    id: 'secure.required',
    title: 'a device that requires the secure channel refuses plaintext operations',
    level: 'must',
    async run(ctx) {
      const h = needHello(ctx);
      if (h.secureChannel !== 'required') throw new CheckSkipped(`secure channel ${h.secureChannel}`);
      return requestError(await readyRaw(ctx), ctx, { op: 'slotStatus' }, 'SECURE_CHANNEL_REQUIRED');
    },
  },
  {
    id: 'secure.handshake',
    title: 'the SM secure channel opens (certificate, SM2 key exchange, confirmations) and carries operations',
    level: 'must',
    async run(ctx) {
      needChannelOpen(ctx, 'give the vendor CA key (--ca-key, --ca-id) or --test-ca');
      const t = performance.now();
      const s = await ctx.session({ secure: 'required' });
      const ms = performance.now() - t;
      await s.slotStatus();
      await s.ping();
      const info = s.secureChannel;
      return `${info.suite}, device ${info.peer?.serial} (CA ${info.peer?.ca}), open in ${ms.toFixed(0)} ms`;
    },
  },
  {
    id: 'secure.tampered-record',
    title: 'a tampered record is rejected and the channel is torn down',
    level: 'must',
    run: tamperedRecord,
  },
  {
    id: 'secure.replayed-record',
    title: 'a replayed record is not executed twice',
    level: 'must',
    async run(ctx) {
      needChannelOpen(ctx);
      const replay = nextRecordTap((p) => [p, p]);
      const s = await ctx.session({ secure: 'required', tap: replay.tap });
      replay.arm();
      await s.ping().catch(() => undefined);
      await sleep(300 * ctx.scale);
      const c = s.counters;
      if (c.unexpectedResponses + c.lateResponses > 0 && !s.closed) throw new CheckFailed('the replayed request was answered again');
      return s.closed ? `channel torn down (${s.closeReason?.code})` : 'replay ignored';
    },
  },
  {
    id: 'secure.plaintext-inside',
    title: 'a plaintext request inside the open channel is not executed',
    level: 'must',
    run: plaintextInside,
  },
  {
    id: 'secure.handshake-errors',
    title: 'handshake errors: unknown suite, invalid point, scFinish without scOpen, other requests during the handshake → SECURE_CHANNEL_FAILED; ping keeps it',
    level: 'must',
    run: handshakeErrors,
  },
  {
    id: 'secure.record-without-channel',
    title: 'a record while no channel is open is not executed and answered with id 0 SECURE_CHANNEL_FAILED',
    level: 'must',
    async run(ctx) {
      needSecureChannel(ctx);
      const raw = await readyRaw(ctx);
      sendRawRecord(raw);
      const m = await raw.waitFor(0, 1500 * ctx.scale);
      if (!m || m.kind !== 'error' || m.name !== 'SECURE_CHANNEL_FAILED') throw new CheckFailed(`a record in READY got ${m ? (m.kind === 'error' ? m.name : m.kind) : 'no answer'}, not id 0 SECURE_CHANNEL_FAILED`);
      if (!(await pingAnswered(raw, ctx))) throw new CheckFailed('ping afterwards not answered (the state must not change)');
      return 'id 0 SECURE_CHANNEL_FAILED; still READY';
    },
  },
  {
    id: 'secure.record-seq',
    title: 'the first record may carry seq 0 … 1023 (the last accepted seq starts at −1); a jump of more than 1024 tears the channel down',
    level: 'must',
    run: recordSeq,
  },
  {
    id: 'secure.rekey',
    title: 'records from seq 65,536 on use the keys ratcheted ⌊seq/65536⌋ times',
    level: 'must',
    run: rekey,
  },
];
