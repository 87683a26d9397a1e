// A lease on a ByteLink: a child link that forwards bytes while it is open, and whose close() only
// ends the lease. The conformance suite runs many host sessions and raw exchanges one after another
// on the same port without reopening it (a serial port may not reopen quickly, a PTY peer may quit).
import { BaseLink, type ByteLink, type LinkCloseReason } from '../../protocol/link.ts';
import { LinkClosedError } from '../../protocol/protocol-errors.ts';

export type WriteTap = (bytes: Uint8Array) => Uint8Array | null;

export class LinkLease extends BaseLink {
  readonly name: string;
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly parent: ByteLink,
    private readonly tap?: WriteTap,
  ) {
    super();
    this.name = `${parent.name}#lease`;
    this.detach.push(parent.onData((b) => this.deliver(b)));
    this.detach.push(parent.onClose((r) => this.end(r)));
  }

  override get closed(): boolean {
    return super.closed || this.parent.closed;
  }

  /** The parent's flow control passes through: a writer that awaits this waits for the port's drain. */
  write(bytes: Uint8Array): void | Promise<void> {
    if (this.closed) throw new LinkClosedError(`link ${this.name} is closed`, { link: this.name });
    const out = this.tap ? this.tap(bytes) : bytes;
    if (out && out.length) return this.parent.write(out);
  }

  close(reason = 'lease ended'): void {
    this.end({ by: 'local', message: reason });
  }

  private end(reason: LinkCloseReason): void {
    if (this.markClosed(reason)) this.detach.forEach((d) => d());
  }
}
