// A pcscd of our own, in the foreground, for the PC/SC tests and benches (and anyone who needs a pcscd
// with vsmartcard's virtual readers without the system service):
// - one pcscd per machine: a lock file makes launchers in parallel processes take turns (a stale lock
//   of a dead pid is taken over), and a pcscd we did not start (a system service) is refused;
// - pcscd runs as our child, optionally inside a network namespace whose loopback routes have
//   `quickack 1`, which removes vpcd's ≈ 44 ms Nagle/delayed-ACK stall per message;
// - ready = pcscd answers on its socket /run/pcscd/pcscd.comm; stop = SIGTERM and wait for the process;
// - a card in this process is outside pcscd's namespace and cannot reach vpcd's loopback port:
//   vpcdAddress() gives it a relay (host TCP → unix socket file → socat inside the namespace → vpcd),
//   every TCP leg with TCP_NODELAY and the inner one on the quickack loopback, so no leg stalls.
// vsmartcard's vpcd serves TCP 35963 ("Virtual PCD 00 00") and 35964 ("Virtual PCD 00 01").
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';

export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
/** The machine-wide lock every launcher takes (the name predates the benches using it too). */
const LOCK = '/tmp/yika-test-pcscd.lock';

function pcscdBinary(): string | undefined {
  for (const p of ['/usr/sbin/pcscd', '/usr/bin/pcscd', '/sbin/pcscd']) if (existsSync(p)) return p;
  return undefined;
}

function vpcdInstalled(): boolean {
  return ['/usr/lib/pcsc/drivers/serial/libifdvpcd.so', '/usr/lib/pcsc/drivers/serial/libifdvpcd.so.0.8'].some(existsSync) || existsSync('/etc/reader.conf.d/vpcd');
}

function socatInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v socat'], { stdio: 'ignore' }).status === 0;
}

/** Why a pcscd with vpcd readers cannot be launched here (undefined when it can). */
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

/** A pcscd running on this machine (ours before it exits, or a system service). */
function pcscdRunning(): boolean {
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
  /** Stops the relays and pcscd, deletes the namespace and releases the machine-wide lock. */
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

/** Resolves when socat (started with -d -d) says it listens; rejects when it exits or stays silent. */
function socatListening(c: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`${what} did not listen: ${err}`)), 5000);
    c.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) {
        clearTimeout(t);
        resolve();
      }
      if (err.length > 4000) err = err.slice(-1000); // it logs every connection: keep draining
    });
    c.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited (${code}): ${err}`));
    });
  });
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
      ['netns', 'exec', netns, 'socat', '-d', '-d', '-t', '0.05', `UNIX-LISTEN:${path},fork,unlink-early,mode=600`, `TCP:127.0.0.1:${port},nodelay,retry=100,interval=0.1`],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    children.push(inner);
    mine.push(inner);
    await socatListening(inner, `the vpcd relay in ${netns}`);
    const relayPort = await freePort();
    const outer = spawn('socat', ['-d', '-d', '-t', '0.05', `TCP-LISTEN:${relayPort},bind=127.0.0.1,reuseaddr,fork,nodelay`, `UNIX-CONNECT:${path}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    children.push(outer);
    mine.push(outer);
    await socatListening(outer, `the vpcd relay on ${relayPort}`);
    return { host: '127.0.0.1', port: relayPort };
  } catch (e) {
    for (const c of mine) killGroup(c, 'SIGKILL');
    throw e;
  }
}

/** The relays of one launch, by vpcd port. */
function vpcdRelays(netns: string | undefined) {
  const relays = new Map<number, Promise<{ host: string; port: number }>>();
  const children: ChildProcess[] = [];
  return {
    address(port: number): Promise<{ host: string; port: number }> {
      if (!netns) return Promise.resolve({ host: '127.0.0.1', port });
      let relay = relays.get(port);
      if (!relay) relays.set(port, (relay = startVpcdRelay(netns, port, children)));
      return relay;
    },
    async stop(): Promise<void> {
      await Promise.allSettled(relays.values());
      relays.clear();
      for (const c of children.splice(0)) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        const exited = new Promise((res) => c.once('exit', res));
        killGroup(c);
        await Promise.race([exited, sleep(2000)]);
      }
    },
    abandon(): void {
      for (const c of children.splice(0)) killGroup(c, 'SIGKILL');
    },
  };
}

/** True once pcscd accepts a connection on its socket (the file appears slightly before it listens). */
function pcscdAccepts(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(PCSCD_SOCKET, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Foreground pcscd as a child, in `netns` when given: start() waits until it accepts, stop() until it is gone. */
function pcscdProcess(bin: string, args: string[], netns: string | undefined) {
  let child: ChildProcess | undefined;
  return {
    async start(): Promise<void> {
      const c = (child = netns ? spawn('ip', ['netns', 'exec', netns, bin, ...args], { stdio: 'ignore' }) : spawn(bin, args, { stdio: 'ignore' }));
      const deadline = Date.now() + 10_000;
      while (!existsSync(PCSCD_SOCKET) || !(await pcscdAccepts())) {
        if (c.exitCode !== null) throw new Error(`pcscd exited at start (code ${c.exitCode})`);
        if (Date.now() > deadline) throw new Error('pcscd did not accept on its socket within 10 s');
        await sleep(50);
      }
      // Accepting comes slightly before the drivers of reader.conf are loaded; give it a moment.
      await sleep(300);
    },
    async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill(signal);
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      // pgrep: make sure no pcscd remains (ip netns exec execs pcscd in place: same pid)
      for (let i = 0; i < 100 && pcscdRunning(); i++) await sleep(50);
      // A killed pcscd leaves its socket and pid file: start() would find the stale socket.
      if (signal === 'SIGKILL' || existsSync(PCSCD_SOCKET)) {
        for (const f of [PCSCD_SOCKET, '/run/pcscd/pcscd.pid']) {
          try {
            unlinkSync(f);
          } catch {
            // not there
          }
        }
      }
    },
    /** SIGTERM without waiting (process 'exit' handlers cannot wait). */
    signal(): void {
      const c = child;
      child = undefined;
      if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    },
  };
}

export interface LaunchPcscdOptions {
  /** Run pcscd (and cards started with spawnNear) in a quickack network namespace when permitted. */
  quickack?: boolean;
  /** Cards will connect from this process (through vpcdAddress()): the namespace then needs socat. */
  cardsInProcess?: boolean;
  /** How long to wait for the machine-wide lock (default 120 s). */
  lockTimeoutMs?: number;
  /** pcscd --debug instead of --error. */
  debug?: boolean;
}

/**
 * Takes the machine-wide pcscd lock and starts pcscd in the foreground. With `quickack`, tries a
 * network namespace first (falls back to the host network when `ip netns` is not permitted, or when
 * `cardsInProcess` says cards will connect from this process and socat, needed for their relay, is
 * missing).
 */
export async function launchPcscd(options: LaunchPcscdOptions = {}): Promise<PcscdHandle> {
  const bin = pcscdBinary();
  if (!bin) throw new Error('pcscd is not installed');
  await acquireLock(options.lockTimeoutMs ?? 120_000);
  if (pcscdRunning()) {
    releaseLock();
    throw new Error('a pcscd not started by the tests is running; stop it first (the tests need to own pcscd)');
  }
  let netns: string | undefined;
  if (options.quickack && (!options.cardsInProcess || socatInstalled())) {
    const name = `yika-pcsc-${process.pid}`;
    if (setupNetns(name)) netns = name;
  }
  const pcscd = pcscdProcess(bin, ['--foreground', options.debug ? '--debug' : '--error'], netns);
  const relays = vpcdRelays(netns);
  const deleteNetns = () => netns && spawnSync('ip', ['netns', 'del', netns]);
  try {
    await pcscd.start();
  } catch (e) {
    await pcscd.stop();
    deleteNetns();
    releaseLock();
    throw e;
  }
  return {
    netns,
    stop: pcscd.stop,
    restart: pcscd.start,
    async release() {
      await relays.stop();
      await pcscd.stop();
      deleteNetns();
      releaseLock();
    },
    abandon() {
      relays.abandon();
      pcscd.signal();
      deleteNetns();
      releaseLock();
    },
    vpcdAddress: relays.address,
    spawnNear: (command, cmdArgs) => (netns ? spawn('ip', ['netns', 'exec', netns, command, ...cmdArgs], { stdio: 'pipe' }) : spawn(command, cmdArgs, { stdio: 'pipe' })),
  };
}
