// A lease on a ByteLink: a child link that forwards bytes while it is open, and whose close() only
// ends the lease. The conformance suite runs many host sessions and raw exchanges one after another
// on the same port without reopening it (a serial port may not reopen quickly, a PTY peer may quit).
import type { ByteLink, LinkCloseReason } from '../../protocol/link.ts';
import { LinkClosedError } from '../../protocol/protocol-errors.ts';

export type WriteTap = (bytes: Uint8Array) => Uint8Array | null;

export class LinkLease implements ByteLink {
  readonly name: string;
  private dataListeners: Array<(bytes: Uint8Array) => void> = [];
  private closeListeners: Array<(reason: LinkCloseReason) => void> = [];
  private reason: LinkCloseReason | undefined;
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly parent: ByteLink,
    private readonly tap?: WriteTap,
  ) {
    this.name = `${parent.name}#lease`;
    this.detach.push(parent.onData((b) => this.dataListeners.forEach((l) => l(b))));
    this.detach.push(parent.onClose((r) => this.end(r)));
  }

  get closed(): boolean {
    return this.reason !== undefined || this.parent.closed;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) throw new LinkClosedError(`link ${this.name} is closed`);
    const out = this.tap ? this.tap(bytes) : bytes;
    if (out && out.length) this.parent.write(out);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.push(listener);
    return () => {
      this.dataListeners = this.dataListeners.filter((l) => l !== listener);
    };
  }

  onClose(listener: (reason: LinkCloseReason) => void): () => void {
    if (this.reason) {
      const r = this.reason;
      setImmediate(() => listener(r));
      return () => {};
    }
    this.closeListeners.push(listener);
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  close(reason = 'lease ended'): void {
    this.end({ by: 'local', message: reason });
  }

  private end(reason: LinkCloseReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.detach.forEach((d) => d());
    this.dataListeners = [];
    const listeners = this.closeListeners;
    this.closeListeners = [];
    listeners.forEach((l) => l(reason));
  }
}
