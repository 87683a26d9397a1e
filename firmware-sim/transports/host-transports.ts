// The ways a host reaches the simulated reader: a PTY (one end of a socat pair), a TCP listener
// (one host at a time) and an in-process link pair. Each can be "unplugged" and "replugged".
import { createServer, type Server, type Socket } from 'node:net';
import { createLinkPair, openSerialLink, socketLink, type ByteLink } from '../../protocol/link.ts';
import { SimError } from '../control/sim-errors.ts';
import type { DeviceEndpoint } from './device-endpoint.ts';
import { startSocat, type SocatProcess } from './socat-process.ts';

export interface HostTransport {
  /** Human description: "pty /tmp/x", "tcp 127.0.0.1:7000", "in-process". */
  readonly description: string;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  close(): Promise<void>;
}

// ---- in-process ----------------------------------------------------------------------------------

export interface InProcessTransport extends HostTransport {
  /** A new host link (closing any previous one). */
  connect(): ByteLink;
  /** Called with the new host link after a replug (the daemon's in-process backend reconnects with it). */
  onReplug(listener: (link: ByteLink) => void): () => void;
}

export function inProcessTransport(endpoint: DeviceEndpoint): InProcessTransport {
  let unplugged = false;
  const listeners = new Set<(link: ByteLink) => void>();
  const connect = (): ByteLink => {
    if (unplugged) throw new SimError('SIM_TRANSPORT_FAILED', 'the simulated reader is unplugged');
    const [host, device] = createLinkPair();
    endpoint.attach(device);
    return host;
  };
  return {
    description: 'in-process',
    connect,
    onReplug(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async unplug() {
      unplugged = true;
      endpoint.detach('reader unplugged');
    },
    async replug() {
      if (!unplugged) return;
      unplugged = false;
      if (listeners.size === 0) return;
      const link = connect();
      for (const l of listeners) l(link);
    },
    async close() {
      endpoint.detach('simulator closed');
    },
  };
}

// ---- TCP -------------------------------------------------------------------------------------------

export interface TcpTransport extends HostTransport {
  readonly host: string;
  readonly port: number;
}

export async function tcpTransport(endpoint: DeviceEndpoint, host: string, port: number): Promise<TcpTransport> {
  let server: Server | undefined;
  let current: Socket | undefined;
  let boundPort = port;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((socket) => {
        if (current && !current.destroyed) {
          // One host at a time: a second host is turned away.
          socket.destroy();
          return;
        }
        current = socket;
        socket.on('close', () => {
          if (current === socket) current = undefined;
        });
        endpoint.attach(socketLink(socket, `tcp:${socket.remoteAddress}:${socket.remotePort}`));
      });
      s.once('error', (e: NodeJS.ErrnoException) => reject(new SimError('SIM_TRANSPORT_FAILED', `cannot listen on ${host}:${boundPort}: ${e.code ?? e.message}`)));
      s.listen(boundPort, host, () => {
        boundPort = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    current?.destroy();
    current = undefined;
    endpoint.detach('reader unplugged');
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  await listen();
  return {
    get description() {
      return `tcp ${host}:${boundPort}`;
    },
    host,
    get port() {
      return boundPort;
    },
    unplug: stop,
    async replug() {
      if (!server) await listen();
    },
    close: stop,
  };
}

// ---- PTY -------------------------------------------------------------------------------------------

export interface PtyTransportOptions {
  /** The simulator's end of the serial line. */
  path: string;
  /**
   * If set, the simulator runs socat itself with the host's end at this path. Then "unplug" kills
   * socat (the host's port closes with a disconnect and the path disappears) and "replug" brings the
   * same paths back. Without it (socat started by someone else), "unplug" closes the simulator's end:
   * the line goes silent and the host's keepalive notices.
   */
  hostPath?: string;
  baudRate?: number;
}

export async function ptyTransport(endpoint: DeviceEndpoint, options: PtyTransportOptions): Promise<HostTransport> {
  let socat: SocatProcess | undefined;
  let plugged = false;
  let reopenTimer: NodeJS.Timeout | undefined;

  // If the line goes away under us (an external socat restarted or killed), keep trying to open the
  // path again, like firmware waiting for its UART to come back.
  const reopenLater = (): void => {
    clearTimeout(reopenTimer);
    reopenTimer = setTimeout(() => {
      if (!plugged) return;
      plugged = false;
      plug().catch(() => {
        plugged = true;
        reopenLater();
      });
    }, 500);
  };

  const plug = async (): Promise<void> => {
    if (options.hostPath) socat = await startSocat(options.path, options.hostPath);
    let link: ByteLink;
    try {
      link = await openSerialLink(options.path, { baudRate: options.baudRate });
    } catch (e) {
      await socat?.stop();
      socat = undefined;
      // The link's message already names the path and the OS reason.
      throw new SimError('SIM_TRANSPORT_FAILED', (e as Error).message, { path: options.path });
    }
    endpoint.attach(link);
    plugged = true;
    // With an external socat, the line can go away under us. serialport does not always report the
    // hangup of a PTY whose master closed (a read of the hung-up end may return 0 bytes, which it just
    // retries), so the simulator probes the line once a second with an empty frame (a lone 0x00, which
    // every receiver ignores): a write to a hung-up PTY fails, the link closes, and we reopen.
    const probe = options.hostPath
      ? undefined
      : setInterval(() => {
          try {
            if (!link.closed) link.write(Uint8Array.of(0x00));
          } catch {
            // closed meanwhile: the close handler takes over
          }
        }, 1000);
    probe?.unref();
    link.onClose((reason) => {
      clearInterval(probe);
      if (plugged && reason.by !== 'local') reopenLater();
    });
  };

  const unplug = async (): Promise<void> => {
    plugged = false;
    clearTimeout(reopenTimer);
    endpoint.detach('reader unplugged');
    await socat?.stop();
    socat = undefined;
  };

  await plug();
  return {
    description: options.hostPath ? `pty ${options.path} (host end ${options.hostPath})` : `pty ${options.path}`,
    unplug,
    async replug() {
      if (!plugged) await plug();
    },
    close: unplug,
  };
}
