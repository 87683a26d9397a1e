// StreamLink honours the stream's backpressure on a real serial line (socat PTY pair, serialport on
// both ends): a reader that reads slowly still gets every 128 KiB frame intact and in order, a writer
// that awaits its writes holds at most one frame beyond the stream's high-water mark, and a link that
// closes while frames are held back fails those writes with LINK_CLOSED instead of hanging.
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, FrameEncoder, MAX_MAX_FRAME } from '../../protocol/framing.ts';
import { streamLink, type StreamByteLink } from '../../protocol/link.ts';
import { socatAvailable, startSocatPair, type SocatPair } from '../support/socat.ts';
import { until } from '../support/until.ts';

const hasSocat = socatAvailable();
if (!hasSocat) console.warn('SKIPPED link-backpressure-pty tests: socat is not installed (apt-get install socat)');

const FRAME_PAYLOAD = 128 * 1024;

/** Payload i: its index, then bytes from a small LCG seeded by i (a swapped or corrupted frame shows). */
function payload(i: number): Uint8Array {
  const p = new Uint8Array(FRAME_PAYLOAD);
  new DataView(p.buffer).setUint32(0, i);
  let x = (i + 1) * 2_654_435_761;
  for (let k = 4; k < p.length; k++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    p[k] = x >>> 24;
  }
  return p;
}

async function openPort(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('error', () => {}); // the reader end errors too when socat goes away
  return port;
}

/** Reads at most `chunk` bytes per step, one step per timer tick: far slower than the writer. */
function slowReader(port: SerialPort, onBytes: (bytes: Buffer) => void, chunk = 4096): { start(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  const step = (): void => {
    if (!running) return;
    const n = Math.min(chunk, port.readableLength);
    if (n > 0) onBytes(port.read(n) as Buffer);
    else port.read(0); // asks the port for more
    timer = setTimeout(step, 2);
  };
  return {
    start() {
      running = true;
      step();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
}

describe.skipIf(!hasSocat)('StreamLink backpressure on a PTY pair', () => {
  let pair: SocatPair | undefined;
  let link: StreamByteLink | undefined;
  let readerPort: SerialPort | undefined;
  let reader: { stop(): void } | undefined;

  afterEach(async () => {
    reader?.stop();
    link?.close('test over');
    if (readerPort?.isOpen) await new Promise<void>((r) => readerPort!.close(() => r()));
    await pair?.close();
    pair = link = readerPort = reader = undefined;
  });

  async function setUp(): Promise<{ writerPort: SerialPort; link: StreamByteLink; readerPort: SerialPort }> {
    pair = await startSocatPair({ prefix: 'yika-backpressure-' });
    readerPort = await openPort(pair.b);
    readerPort.pause(); // nothing is read until the test's slow reader runs
    const writerPort = await openPort(pair.a);
    link = streamLink(writerPort, pair.a);
    return { writerPort, link, readerPort };
  }

  it('a slow reader gets every frame intact and in order; an awaiting writer holds at most one frame beyond the high-water mark', async () => {
    const { writerPort, link, readerPort } = await setUp();
    const decoder = new FrameDecoder(FRAME_PAYLOAD);
    const received: Uint8Array[] = [];
    const slow = slowReader(readerPort, (bytes) => received.push(...decoder.push(bytes)));
    reader = slow;
    const encoder = new FrameEncoder(MAX_MAX_FRAME);
    const frames = Array.from({ length: 18 }, (_, i) => encoder.encode(payload(i)));
    const longestFrame = Math.max(...frames.map((f) => f.length));

    // A burst written without awaiting: the link holds it back (in order), nothing is lost.
    const burst = 6;
    const settledOrder: number[] = [];
    const burstWrites = Promise.all(frames.slice(0, burst).map((f, i) => link.write(f).then(() => settledOrder.push(i))));
    burstWrites.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
    const burstBytes = frames.slice(0, burst).reduce((n, f) => n + f.length, 0);
    expect(link.queuedBytes).toBe(burstBytes); // all of it waits: the reader has read nothing yet
    slow.start();
    await burstWrites;
    expect(settledOrder).toEqual([0, 1, 2, 3, 4, 5]);

    // A writer that awaits each write: the link never holds more than the stream's mark plus one frame.
    const bound = writerPort.writableHighWaterMark + longestFrame;
    let maxQueued = 0;
    let waitedForDrain = 0;
    for (let i = burst; i < frames.length; i++) {
      const written = link.write(frames[i]);
      maxQueued = Math.max(maxQueued, link.queuedBytes);
      let settled = false;
      void written.then(() => (settled = true));
      await Promise.resolve();
      await Promise.resolve(); // a write the stream took at once has settled by now
      if (!settled) waitedForDrain++;
      await written;
    }
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(bound);
    expect(waitedForDrain).toBeGreaterThan(0); // the stream did push back

    await until('every frame at the slow reader', () => received.length >= frames.length, 60_000);
    expect(decoder.counters).toMatchObject({ crcErrors: 0, cobsErrors: 0, shortFrames: 0, oversizeFrames: 0 });
    expect(received.map((p) => new DataView(p.buffer, p.byteOffset).getUint32(0))).toEqual(frames.map((_, i) => i));
    for (const [i, p] of received.entries()) expect(Buffer.from(p).equals(payload(i))).toBe(true);
  });

  it('a line that goes away while frames are held back fails those writes with LINK_CLOSED, never a hang', async () => {
    const { link } = await setUp();
    const encoder = new FrameEncoder(MAX_MAX_FRAME);
    const writes = Array.from({ length: 6 }, (_, i) => link.write(encoder.encode(payload(i))));
    expect(link.queuedBytes).toBeGreaterThan(4 * FRAME_PAYLOAD);
    process.kill(pair!.pid, 'SIGTERM'); // the reader is unplugged: socat and its PTYs go away
    const outcomes = await Promise.allSettled(writes);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    // The kernel and socat buffer less than two frames: at most the first may have gone out.
    expect(rejected.length).toBeGreaterThanOrEqual(5);
    for (const o of rejected) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'LINK_CLOSED' });
    expect(outcomes.findIndex((o) => o.status === 'rejected')).toBe(outcomes.length - rejected.length); // a failed write is never followed by a sent one
    await until('the link to report the close', () => link.closed);
    expect(link.queuedBytes).toBe(0);
    expect(() => link.write(Uint8Array.of(1))).toThrowError(expect.objectContaining({ code: 'LINK_CLOSED' }));
  });

  it('closing the link here fails the held writes at once with LINK_CLOSED', async () => {
    const { link } = await setUp();
    const encoder = new FrameEncoder(MAX_MAX_FRAME);
    const writes = Array.from({ length: 4 }, (_, i) => link.write(encoder.encode(payload(i))));
    link.close('host shut down');
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'LINK_CLOSED' });
    expect(link.queuedBytes).toBe(0);
  });
});
