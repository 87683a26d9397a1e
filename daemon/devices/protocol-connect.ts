// Opens reader protocol v1 on a ByteLink (serial port, PTY, TCP, in-process pair): hello, the secure
// channel according to the policy, device-table quirks, and the ReaderDevice the registry needs.
import { HostSession, type HostSessionOptions } from '../../protocol/host-session.ts';
import type { ByteLink } from '../../protocol/link.ts';
import type { HostSecureConfig } from '../../protocol/secure/host-handshake.ts';
import type { SecurePolicy } from '../config/config-schema.ts';
import { protocolQuirks } from './device-table.ts';
import { protocolDevice } from './protocol-device.ts';
import type { DeviceKind, ReaderDevice } from './reader-device.ts';

export interface ProtocolConnectOptions {
  kind: DeviceKind;
  key: string;
  name?: string;
  secure: SecurePolicy;
  trust?: HostSecureConfig;
  signal?: AbortSignal;
  /** Per-operation timeouts (ms), over the protocol defaults and the device-table quirks. */
  timeouts?: HostSessionOptions['timeouts'];
  /** Line rate in bytes/s (a UART: baud / 10), so that retransmission allows for long frames. */
  lineBytesPerSecond?: number;
}

export interface ProtocolConnection {
  device: ReaderDevice;
  session: HostSession;
}

export async function connectProtocolDevice(link: ByteLink, options: ProtocolConnectOptions): Promise<ProtocolConnection> {
  const session = await HostSession.open(link, {
    host: 'yikad',
    secure: options.secure,
    trust: options.trust,
    signal: options.signal,
    timeouts: options.timeouts,
    lineBytesPerSecond: options.lineBytesPerSecond,
  });
  const hello = session.deviceHello;
  const quirks = protocolQuirks(hello.vendor, hello.model, hello.firmware);
  const info = session.secureChannel;
  const device = protocolDevice({
    kind: options.kind,
    key: options.key,
    name: options.name,
    ops: session,
    hello,
    secure: {
      policy: options.secure,
      state: info.state === 'open' ? 'open' : hello.secureChannel === 'none' ? 'unsupported' : 'plain',
      ...(info.state !== 'open' && info.reason ? { reason: info.reason } : {}),
    },
    subscribe: (listener) => {
      session.on('event', listener);
      return () => session.off('event', listener);
    },
    subscribeGaps: (listener) => {
      session.on('eventGap', listener);
      return () => session.off('eventGap', listener);
    },
    subscribeLoss: (listener) => {
      const onRetransmit = (r: { op: string; gaveUp?: boolean }) => listener(r.gaveUp ? { kind: 'gave-up', op: r.op } : { kind: 'retransmit', op: r.op });
      const onGap = (g: { lost: number }) => listener({ kind: 'event-gap', lost: g.lost });
      session.on('retransmit', onRetransmit);
      session.on('eventGap', onGap);
      return () => {
        session.off('retransmit', onRetransmit);
        session.off('eventGap', onGap);
      };
    },
    close: () => session.close(),
    maxBatch: quirks.maxBatch !== undefined ? Math.min(quirks.maxBatch, hello.maxBatch) : undefined,
  });
  return { device, session };
}
