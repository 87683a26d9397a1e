// Layer 0 of the reader protocol: a byte link. Whatever carries the bytes (a serial port, a PTY, a
// TCP socket, an in-memory pair in tests) is a ByteLink; the sessions never know which.
import type { Duplex } from 'node:stream';
import { connect as netConnect, type Socket } from 'node:net';
import { LinkClosedError } from './protocol-errors.ts';

export interface LinkCloseReason {
  /** 'local': close() was called here; 'peer': the other side went away; 'error': the transport failed. */
  by: 'local' | 'peer' | 'error';
  message: string;
  error?: unknown;
}

export interface ByteLink {
  /** For diagnostics: a port path, tcp:host:port, pair:a … */
  readonly name: string;
  readonly closed: boolean;
  /**
   * Queues bytes for sending, in order. Throws LinkClosedError once closed. A link with flow control
   * (a stream link) returns a promise that settles when it can take more bytes (rejects with
   * LinkClosedError if it closes first): a writer of large or many frames awaits it to bound memory.
   */
  write(bytes: Uint8Array): void | Promise<void>;
  /** Received bytes, in order, in chunks of any size. Returns an unsubscribe function. */
  onData(listener: (bytes: Uint8Array) => void): () => void;
  /** Called once when the link closes (also if it already has: then on the next tick). */
  onClose(listener: (reason: LinkCloseReason) => void): () => void;
  close(reason?: string): void;
}

/** Shared listener bookkeeping for the link implementations below (and the conformance suite's lease). */
export abstract class BaseLink implements ByteLink {
  abstract readonly name: string;
  private dataListeners: Array<(bytes: Uint8Array) => void> = [];
  private closeListeners: Array<(reason: LinkCloseReason) => void> = [];
  private closeReason: LinkCloseReason | undefined;

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  abstract write(bytes: Uint8Array): void | Promise<void>;
  abstract close(reason?: string): void;

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.push(listener);
    return () => {
      this.dataListeners = this.dataListeners.filter((l) => l !== listener);
    };
  }

  onClose(listener: (reason: LinkCloseReason) => void): () => void {
    if (this.closeReason) {
      const reason = this.closeReason;
      setImmediate(() => listener(reason));
      return () => {};
    }
    this.closeListeners.push(listener);
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  protected deliver(bytes: Uint8Array): void {
    if (this.closeReason) return;
    for (const l of this.dataListeners) l(bytes);
  }

  protected markClosed(reason: LinkCloseReason): boolean {
    if (this.closeReason) return false;
    this.closeReason = reason;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    this.dataListeners = [];
    for (const l of listeners) l(reason);
    return true;
  }

  protected assertOpen(): void {
    if (this.closeReason) throw new LinkClosedError(`link ${this.name} is closed`, { link: this.name });
  }
}

// ---- in-memory pair ----------------------------------------------------------------------------------

export interface LinkPairOptions {
  /** Split every write into chunks of at most this many bytes (exercises reassembly). */
  chunkSize?: number;
  /**
   * Sees every chunk in flight; return the bytes to deliver instead (corrupt, truncate, inject) or
   * null to drop them. `from` is 'a' or 'b', the writing end.
   */
  intercept?: (bytes: Uint8Array, from: 'a' | 'b') => Uint8Array | null;
}

class PairEnd extends BaseLink {
  peer!: PairEnd;
  private queue: Array<Uint8Array | LinkCloseReason> = [];
  private scheduled = false;

  constructor(
    readonly name: string,
    private readonly side: 'a' | 'b',
    private readonly options: LinkPairOptions,
  ) {
    super();
  }

  write(bytes: Uint8Array): void {
    this.assertOpen();
    const chunk = this.options.chunkSize ?? Infinity;
    for (let i = 0; i < bytes.length; i += chunk) {
      // Copy: the writer may reuse its buffer, and the reader must see what was written.
      let piece: Uint8Array | null = Uint8Array.prototype.slice.call(bytes, i, Math.min(bytes.length, i + chunk));
      if (this.options.intercept) piece = this.options.intercept(piece, this.side);
      if (piece && piece.length) this.peer.enqueue(piece);
    }
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.markClosed({ by: 'local', message: reason });
    // The peer sees the close after every byte written before it, like a TCP FIN.
    this.peer.enqueue({ by: 'peer', message: reason });
  }

  /** Delivery is asynchronous (setImmediate), batched, and in order. */
  enqueue(item: Uint8Array | LinkCloseReason): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.queue;
    this.queue = [];
    for (const item of items) {
      if (item instanceof Uint8Array) this.deliver(item);
      else this.markClosed(item);
    }
  }
}

/** Two connected in-memory ends: bytes written on one arrive, asynchronously and in order, on the other. */
export function createLinkPair(options: LinkPairOptions = {}): [ByteLink, ByteLink] {
  const a = new PairEnd('pair:a', 'a', options);
  const b = new PairEnd('pair:b', 'b', options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

// ---- node streams: serial ports (serialport's SerialPort is a Duplex), TCP sockets -----------------------

/** A stream link: writes honour the stream's backpressure, and how much is held back can be read. */
export interface StreamByteLink extends ByteLink {
  /** Settles once the bytes are handed to the stream and it is below its high-water mark. */
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes written but not yet taken by the OS: held by the link while the stream is full, plus the stream's buffer. */
  readonly queuedBytes: number;
}

interface HeldWrite {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class StreamLink extends BaseLink implements StreamByteLink {
  /** Writes held back, in order, while the stream is above its high-water mark. */
  private held: HeldWrite[] = [];
  private heldBytes = 0;
  /** The write that filled the stream: it settles at the stream's next 'drain'. */
  private filling: HeldWrite | undefined;

  constructor(
    readonly name: string,
    private readonly stream: Duplex,
  ) {
    super();
    stream.on('data', (chunk: Buffer) => this.deliver(chunk));
    stream.on('drain', () => this.onDrain());
    stream.on('error', (error: Error) => {
      this.markClosed({ by: 'error', message: error.message, error });
      stream.destroy();
    });
    // serialport emits 'close' (with err.disconnected when unplugged); sockets emit 'end' then 'close'.
    stream.on('close', () => this.markClosed({ by: 'peer', message: 'the port or socket closed' }));
    stream.on('end', () => {
      this.markClosed({ by: 'peer', message: 'the peer ended the connection' });
      stream.destroy();
    });
  }

  get queuedBytes(): number {
    return this.closed ? 0 : this.heldBytes + this.stream.writableLength;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.assertOpen();
    const settled = new Promise<void>((resolve, reject) => {
      if (this.filling) {
        // Held until the stream drains: a copy, since the writer may reuse its buffer meanwhile.
        this.held.push({ bytes: Uint8Array.prototype.slice.call(bytes), resolve, reject });
        this.heldBytes += bytes.length;
      } else {
        this.handOver({ bytes, resolve, reject });
      }
    });
    // A writer that does not await (the sessions: their window bounds what they send) must not see an
    // unhandled rejection when the link closes; one that awaits still gets the error.
    settled.catch(() => {});
    return settled;
  }

  private handOver(w: HeldWrite): void {
    if (this.stream.write(w.bytes)) w.resolve();
    else this.filling = w;
  }

  private onDrain(): void {
    const filled = this.filling;
    this.filling = undefined;
    filled?.resolve();
    while (!this.filling && this.held.length > 0 && !this.closed) {
      const next = this.held.shift()!;
      this.heldBytes -= next.bytes.length;
      this.handOver(next);
    }
  }

  protected override markClosed(reason: LinkCloseReason): boolean {
    if (!super.markClosed(reason)) return false;
    // Nothing waits for a drain that will never come: every held write fails with the close.
    const waiting = this.filling ? [this.filling, ...this.held] : this.held;
    this.filling = undefined;
    this.held = [];
    this.heldBytes = 0;
    const error = new LinkClosedError(`link ${this.name} closed before it took these bytes (${reason.message})`, { link: this.name, by: reason.by });
    for (const w of waiting) w.reject(error);
    return true;
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.markClosed({ by: 'local', message: reason });
    const port = this.stream as Duplex & { isOpen?: boolean; close?: (cb?: (err: Error | null) => void) => void };
    if (typeof port.close === 'function' && port.isOpen) port.close(() => {});
    else this.stream.destroy();
  }
}

/** Wraps any node Duplex (an open SerialPort, a net.Socket, a PTY stream) as a ByteLink. */
export function streamLink(stream: Duplex, name = 'stream'): StreamByteLink {
  return new StreamLink(name, stream);
}

export interface SerialLinkOptions {
  baudRate?: number;
}

/** Opens a serial port (or a PTY path) with the serialport package and wraps it. */
export async function openSerialLink(path: string, options: SerialLinkOptions = {}): Promise<StreamByteLink> {
  // Loaded on demand: only serial users pay for the native binding.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate: options.baudRate ?? 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new LinkClosedError(`cannot open ${path}: ${err.message}`, { link: path })) : resolve())));
  return streamLink(port, path);
}

/** Wraps a connected TCP socket (Nagle off: frames are small and latency matters). */
export function socketLink(socket: Socket, name?: string): ByteLink {
  socket.setNoDelay(true);
  return streamLink(socket, name ?? `tcp:${socket.remoteAddress}:${socket.remotePort}`);
}

/** Connects to HOST:PORT and wraps the socket. */
export function connectTcpLink(host: string, port: number, options: { timeoutMs?: number } = {}): Promise<ByteLink> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LinkClosedError(`cannot connect to ${host}:${port}: timed out`, { link: `tcp:${host}:${port}` }));
    }, options.timeoutMs ?? 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socketLink(socket, `tcp:${host}:${port}`));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new LinkClosedError(`cannot connect to ${host}:${port}: ${err.message}`, { link: `tcp:${host}:${port}` }));
    });
  });
}
