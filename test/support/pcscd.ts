// Test helper around the production pcscd launcher (daemon/devices/pcscd-launcher.ts: one pcscd per
// machine behind the lock /tmp/yika-test-pcscd.lock, the quickack namespace, the vpcd relays). Only
// tests under test/integration/pcsc-*, the benches and the reliability block pcscd-restart
// (test/reliability/faults/pcscd-restart.ts) start pcscd. What is the tests' own:
// - startPcscd() waits up to 5 min for the lock (test files run in parallel forks and take turns) and
//   cleans up if the test process exits without release();
// - connectVpcdCard() plugs a SimCard of the test process into vsmartcard's virtual reader (TCP 35963 =
//   "Virtual PCD 00 00", 35964 = "Virtual PCD 00 01"), for tests that do not need the full simulator.
import net from 'node:net';
import { launchPcscd, type LaunchPcscdOptions, type PcscdHandle } from '../../daemon/devices/pcscd-launcher.ts';
import type { SimCard } from '../../firmware-sim/sim-card.ts';
import { VPCD_HANG_UP, VpcdMessageReader, answerVpcdMessage, encodeVpcdMessage, type VpcdCard } from '../../firmware-sim/transports/vpcd-codec.ts';

export { pcscUnavailableReason, type PcscdHandle } from '../../daemon/devices/pcscd-launcher.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** launchPcscd() for a test file: a 5 min lock wait by default, and cleanup at exit without release(). */
export async function startPcscd(options: LaunchPcscdOptions = {}): Promise<PcscdHandle> {
  const pcscd = await launchPcscd({ ...options, lockTimeoutMs: options.lockTimeoutMs ?? 300_000 });
  const onExit = () => pcscd.abandon();
  process.once('exit', onExit);
  return {
    ...pcscd,
    async release() {
      process.off('exit', onExit);
      await pcscd.release();
    },
  };
}

export interface VpcdCardHandle {
  /** Closing the socket is "card removed" for vpcd. */
  remove(): Promise<void>;
  readonly connected: boolean;
}

/** A SimCard in this process as vpcd's card (T=1, as pcsc-lite picks it); a mute card answers nothing. */
function simCardForVpcd(card: SimCard): VpcdCard {
  let atr: Uint8Array | undefined = card.mute ? undefined : card.powerOn();
  return {
    powerOff: async () => card.powerOff(),
    powerOn: async () => void (atr = card.mute ? undefined : card.powerOn()),
    reset: async () => void (atr = card.mute ? undefined : card.reset()),
    atr: async () => atr,
    apdu: async (command) => (card.mute ? undefined : card.process(command, 1).response),
  };
}

/**
 * Inserts `card` into vpcd's virtual reader by connecting to its TCP port (vpcd is the server), with
 * the simulator's vpcd codec (firmware-sim/transports/vpcd-codec.ts: what is answered, and why a mute
 * card hangs up). Hung up, it stays out (unlike the simulator's client, which connects again).
 */
export async function connectVpcdCard(card: SimCard, port = 35963, host = '127.0.0.1', timeoutMs = 10_000): Promise<VpcdCardHandle> {
  const deadline = Date.now() + timeoutMs;
  let socket: net.Socket | undefined;
  while (!socket) {
    try {
      socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`vpcd is not listening on ${host}:${port} (${(e as Error).message})`);
      await sleep(100);
    }
  }
  const s = socket;
  s.setNoDelay(true);
  const vpcdCard = simCardForVpcd(card);
  const messages = new VpcdMessageReader();
  // vpcd sends one message and waits for its answer; the chain keeps answers in order anyway.
  let chain: Promise<void> = Promise.resolve();
  s.on('data', (chunk: Buffer) => {
    for (const message of messages.push(chunk)) {
      chain = chain.then(async () => {
        const answer = await answerVpcdMessage(vpcdCard, message);
        if (s.destroyed || answer === undefined) return;
        if (answer === VPCD_HANG_UP) s.destroy(); // no answer (a mute card): for vpcd the card is gone
        else s.write(encodeVpcdMessage(answer));
      });
    }
  });
  s.on('error', () => {});
  let connected = true;
  s.on('close', () => (connected = false));
  return {
    get connected() {
      return connected;
    },
    remove: () =>
      new Promise<void>((resolve) => {
        if (!connected) return resolve();
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 500).unref();
      }),
  };
}
