// Test helper: one real pcscd per machine. Only tests under test/integration/pcsc-*, the benches and the
// reliability block pcscd-restart (test/reliability/faults/pcscd-restart.ts) may use it.
// - A lock file serialises test files that run in parallel forks (stale locks of dead pids are taken over).
// - pcscd runs in the foreground as our child (optionally inside a network namespace whose loopback
//   routes have `quickack 1`, which removes vpcd's ≈ 44 ms Nagle/delayed-ACK stall per message).
// - ready = /run/pcscd/pcscd.comm exists; stop = SIGTERM and wait for the process to be gone.
// - connectVpcdCard() plugs a SimCard into vsmartcard's virtual reader (TCP 35963 = "Virtual PCD 00 00",
//   35964 = "Virtual PCD 00 01"), for tests that do not need the full simulator process.
// - A card in the test process is outside pcscd's namespace and cannot reach vpcd's loopback port:
//   vpcdAddress() gives it a relay (host TCP → unix socket file → socat inside the namespace → vpcd),
//   every TCP leg with TCP_NODELAY and the inner one on the quickack loopback, so no leg stalls.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import type { SimCard } from '../../firmware-sim/sim-card.ts';
import { VPCD_HANG_UP, VpcdMessageReader, answerVpcdMessage, encodeVpcdMessage, type VpcdCard } from '../../firmware-sim/transports/vpcd-codec.ts';

export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const LOCK = '/tmp/yika-test-pcscd.lock';

export function pcscdBinary(): string | undefined {
  for (const p of ['/usr/sbin/pcscd', '/usr/bin/pcscd', '/sbin/pcscd']) if (existsSync(p)) return p;
  return undefined;
}

export function vpcdInstalled(): boolean {
  return ['/usr/lib/pcsc/drivers/serial/libifdvpcd.so', '/usr/lib/pcsc/drivers/serial/libifdvpcd.so.0.8'].some(existsSync) || existsSync('/etc/reader.conf.d/vpcd');
}

export function socatInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v socat'], { stdio: 'ignore' }).status === 0;
}

/** Why PC/SC tests cannot run here (undefined when they can). */
export function pcscUnavailableReason(): string | undefined {
  if (!pcscdBinary()) return 'pcscd is not installed (apt-get install pcscd)';
  if (!vpcdInstalled()) return 'vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)';
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(LOCK, 'utf8').trim() || '0');
      if (!owner || !pidAlive(owner)) {
        try {
          unlinkSync(LOCK);
        } catch {
          // another waiter took it over first
        }
        continue;
      }
      if (Date.now() > deadline) throw new Error(`pcscd lock ${LOCK} held by pid ${owner} for too long`);
      await sleep(200);
    }
  }
}

function releaseLock(): void {
  try {
    if (readFileSync(LOCK, 'utf8').trim() === String(process.pid)) unlinkSync(LOCK);
  } catch {
    // already gone
  }
}

/** A pcscd we did not start (a system service): tests must not stop it. */
function foreignPcscdRunning(): boolean {
  const r = spawnSync('pgrep', ['-x', 'pcscd'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

export interface PcscdHandle {
  /** The namespace pcscd runs in (when quickack was asked for and available). */
  netns?: string;
  /**
   * Stops pcscd (SIGTERM by default; SIGKILL for a crash, after which the stale socket and pid file
   * are removed) and waits for exit. The lock stays held until release().
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts pcscd again after stop() (e.g. to test a pcscd restart). */
  restart(): Promise<void>;
  /** Stops pcscd if running and releases the machine-wide lock. */
  release(): Promise<void>;
  /** Spawns a command inside pcscd's network namespace (or normally without one). */
  spawnNear(command: string, args: string[]): ChildProcess;
  /**
   * Where a card running in this process connects to reach vpcd's TCP `port`: vpcd itself without a
   * namespace; with one, a socat relay into the namespace (started on first use, stopped by release()).
   */
  vpcdAddress(port: number): Promise<{ host: string; port: number }>;
  /**
   * Synchronous last-resort cleanup for a process 'exit' handler: signals pcscd (SIGTERM, so it
   * removes its socket), deletes the namespace and releases the lock without waiting.
   */
  abandon(): void;
}

function setupNetns(name: string): boolean {
  const ip = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  ip(['netns', 'del', name]);
  if (ip(['netns', 'add', name]).status !== 0) return false;
  const steps = [
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['-n', name, 'route', 'change', 'local', '127.0.0.0/8', 'dev', 'lo', 'proto', 'kernel', 'scope', 'host', 'src', '127.0.0.1', 'table', 'local', 'quickack', '1'],
    ['-n', name, 'route', 'change', 'local', '127.0.0.1', 'dev', 'lo', 'proto', 'kernel', 'scope', 'host', 'src', '127.0.0.1', 'table', 'local', 'quickack', '1'],
  ];
  for (const s of steps) {
    if (ip(s).status !== 0) {
      ip(['netns', 'del', name]);
      return false;
    }
  }
  return true;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops a detached child and everything it forked (socat forks one child per connection). */
function killGroup(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    c.kill(signal);
  }
}

/**
 * A relay from a host loopback TCP port to vpcd's `port` inside `netns`: socat TCP-LISTEN (host,
 * nodelay) → unix socket file → socat inside the namespace → TCP to vpcd (nodelay, retried while vpcd
 * is not listening yet). One connection through it is one card insertion, as with vpcd itself.
 */
async function startVpcdRelay(netns: string, port: number, children: ChildProcess[]): Promise<{ host: string; port: number }> {
  const path = `/tmp/yika-vpcd-${process.pid}-${port}.sock`;
  const mine: ChildProcess[] = [];
  try {
    const inner = spawn(
      'ip',
      ['netns', 'exec', netns, 'socat', '-t', '0.05', `UNIX-LISTEN:${path},fork,unlink-early,mode=600`, `TCP:127.0.0.1:${port},nodelay,retry=100,interval=0.1`],
      { stdio: 'ignore', detached: true },
    );
    children.push(inner);
    mine.push(inner);
    for (let i = 0; !existsSync(path); i++) {
      if (inner.exitCode !== null || i > 100) throw new Error(`the vpcd relay in ${netns} did not start`);
      await sleep(20);
    }
    const relayPort = await freePort();
    const outer = spawn('socat', ['-d', '-d', '-t', '0.05', `TCP-LISTEN:${relayPort},bind=127.0.0.1,reuseaddr,fork,nodelay`, `UNIX-CONNECT:${path}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    children.push(outer);
    mine.push(outer);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`the vpcd relay did not listen on ${relayPort}: ${err}`)), 5000);
      outer.stderr!.on('data', (d) => {
        err += d;
        if (/listening on/.test(err)) {
          clearTimeout(t);
          resolve();
        }
        if (err.length > 4000) err = err.slice(-1000); // it logs every connection: keep draining
      });
      outer.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`the vpcd relay exited (${code}): ${err}`));
      });
    });
    return { host: '127.0.0.1', port: relayPort };
  } catch (e) {
    for (const c of mine) killGroup(c, 'SIGKILL');
    throw e;
  }
}

/**
 * Takes the machine-wide pcscd lock and starts pcscd in the foreground. With `quickack`, tries a
 * network namespace first (falls back to the host network when `ip netns` is not permitted, or when
 * `cardsInProcess` says cards will connect from this process and socat, needed for their relay, is
 * missing).
 */
export async function startPcscd(options: { quickack?: boolean; cardsInProcess?: boolean; lockTimeoutMs?: number; debug?: boolean } = {}): Promise<PcscdHandle> {
  const bin = pcscdBinary();
  if (!bin) throw new Error('pcscd is not installed');
  await acquireLock(options.lockTimeoutMs ?? 300_000);
  if (foreignPcscdRunning()) {
    releaseLock();
    throw new Error('a pcscd not started by the tests is running; stop it first (the tests need to own pcscd)');
  }
  let netns: string | undefined;
  if (options.quickack && (!options.cardsInProcess || socatInstalled())) {
    const name = `yika-pcsc-${process.pid}`;
    if (setupNetns(name)) netns = name;
  }
  let child: ChildProcess | undefined;
  const args = ['--foreground', options.debug ? '--debug' : '--error'];

  const start = async (): Promise<void> => {
    child = netns ? spawn('ip', ['netns', 'exec', netns, bin, ...args], { stdio: 'ignore' }) : spawn(bin, args, { stdio: 'ignore' });
    const c = child;
    const deadline = Date.now() + 10_000;
    while (!existsSync(PCSCD_SOCKET)) {
      if (c.exitCode !== null) throw new Error(`pcscd exited at start (code ${c.exitCode})`);
      if (Date.now() > deadline) throw new Error('pcscd did not create its socket within 10 s');
      await sleep(50);
    }
    // The socket exists slightly before pcscd accepts; give it a moment to load its drivers.
    await sleep(300);
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    // pgrep: make sure no pcscd remains (ip netns exec execs pcscd in place: same pid)
    for (let i = 0; i < 100 && foreignPcscdRunning(); i++) await sleep(50);
    // A killed pcscd leaves its socket and pid file: start() waits for the socket to appear, so a
    // stale one would let it return before the new pcscd listens.
    if (signal === 'SIGKILL' || existsSync(PCSCD_SOCKET)) {
      for (const f of [PCSCD_SOCKET, '/run/pcscd/pcscd.pid']) {
        try {
          unlinkSync(f);
        } catch {
          // not there
        }
      }
    }
  };

  const relays = new Map<number, Promise<{ host: string; port: number }>>();
  const relayChildren: ChildProcess[] = [];
  const stopRelays = async (): Promise<void> => {
    await Promise.allSettled(relays.values());
    relays.clear();
    for (const c of relayChildren.splice(0)) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((res) => c.once('exit', res));
      killGroup(c);
      await Promise.race([exited, sleep(2000)]);
    }
  };

  try {
    await start();
  } catch (e) {
    await stop();
    if (netns) spawnSync('ip', ['netns', 'del', netns]);
    releaseLock();
    throw e;
  }

  return {
    netns,
    stop,
    restart: start,
    release: async () => {
      await stopRelays();
      await stop();
      if (netns) spawnSync('ip', ['netns', 'del', netns]);
      releaseLock();
    },
    abandon: () => {
      for (const c of relayChildren.splice(0)) killGroup(c, 'SIGKILL');
      const c = child;
      child = undefined;
      if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      if (netns) spawnSync('ip', ['netns', 'del', netns]);
      releaseLock();
    },
    vpcdAddress: (port) => {
      if (!netns) return Promise.resolve({ host: '127.0.0.1', port });
      let relay = relays.get(port);
      if (!relay) {
        relay = startVpcdRelay(netns, port, relayChildren);
        relays.set(port, relay);
      }
      return relay;
    },
    spawnNear: (command, cmdArgs) => (netns ? spawn('ip', ['netns', 'exec', netns, command, ...cmdArgs], { stdio: 'pipe' }) : spawn(command, cmdArgs, { stdio: 'pipe' })),
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
