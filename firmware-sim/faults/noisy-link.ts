// Wraps the device's end of the host link so the injector's line noise applies to real bytes:
// bytes the device writes pass through `toHost`, bytes it receives through `toDevice`.
import type { ByteLink, LinkCloseReason } from '../../protocol/link.ts';
import type { LinkNoise } from './link-noise.ts';

export function noisyLink(inner: ByteLink, noise: { toHost: LinkNoise; toDevice: LinkNoise }): ByteLink {
  return {
    get name(): string {
      return inner.name;
    },
    get closed(): boolean {
      return inner.closed;
    },
    write(bytes: Uint8Array): void {
      const out = noise.toHost.apply(bytes);
      if (inner.closed || out.length > 0) inner.write(out);
    },
    onData(listener: (bytes: Uint8Array) => void): () => void {
      return inner.onData((bytes) => {
        const arrived = noise.toDevice.apply(bytes);
        if (arrived.length > 0) listener(arrived);
      });
    },
    onClose(listener: (reason: LinkCloseReason) => void): () => void {
      return inner.onClose(listener);
    },
    close(reason?: string): void {
      inner.close(reason);
    },
  };
}
