// The one typing of the pcsclite 1.0.1 addon (its own .d.ts uses `export =`), for the PC/SC backend,
// `yika doctor`, the benches and the tests. Types only: importing this file never loads the addon.

export interface PcscCardReader {
  name: string;
  state: number;
  connected: boolean;
  SCARD_SHARE_SHARED: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_MUTE: number;
  SCARD_STATE_EMPTY: number;
  SCARD_UNPOWER_CARD: number;
  SCARD_RESET_CARD: number;
  SCARD_LEAVE_CARD: number;
  on(event: 'status', fn: (s: { state: number; atr?: Buffer }) => void): void;
  on(event: 'end' | 'error', fn: (e?: unknown) => void): void;
  removeAllListeners(): void;
  connect(options: { share_mode: number; protocol: number }, cb: (err: unknown, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: unknown, data: Buffer) => void): void;
  close(): void;
}

export interface PcscContext {
  on(event: 'reader', fn: (r: PcscCardReader) => void): void;
  on(event: 'error', fn: (e: unknown) => void): void;
  removeAllListeners(): void;
  close(): void;
}

/** What `require('pcsclite')` is: a new context connected to pcscd (throws when pcscd is down). */
export type PcscFactory = () => PcscContext;
