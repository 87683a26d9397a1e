// The seam between APDU logic and whatever carries APDUs (our serial protocol, PC/SC, the in-process
// simulator). apdu/ never knows which transport is underneath.

/** One command of a batch and the status words that let the batch continue. */
export interface BatchCommand {
  /** The full command APDU (header ‖ Lc ‖ data ‖ Le). */
  apdu: Uint8Array;
  /**
   * The batch continues only when (sw & mask) === sw for one of these entries.
   * Absent: only 9000 continues. A 61xx or 6Cxx answer always stops the batch (PROTOCOL.md
   * transmitBatch: on T=0 only the very next command can collect it).
   */
  expect?: ReadonlyArray<{ sw: number; mask: number }>;
}

export interface BatchResult {
  /** One response APDU (data ‖ SW1 SW2) per executed command, in order. */
  responses: Uint8Array[];
  /** Index of the command whose status word stopped the batch; absent when every command ran. */
  stoppedAt?: number;
  /**
   * Set when the batch was cut short before the command at index `responses.length` was sent (the
   * card was removed or replaced, the reader went offline between two parts of a split batch): that
   * command and every later one never reached the card; the error says why. The responses of the
   * commands that did run are kept: a card's answer is never thrown away.
   */
  interrupted?: Error;
}

export interface TransmitOptions {
  /** Abort the exchange (the caller gave up); the transport fails the call with a typed error. */
  signal?: AbortSignal;
  /** Trace hints: mask the command data (VERIFY, keys, cryptograms) and/or the response data. */
  sensitive?: 'command' | 'response' | 'both';
  /**
   * Per-command opt-outs of the ISO transmission rules (apdu/iso-transmit.ts): false leaves that rule
   * to the caller for this command (OpenSC's NO_GET_RESP / NO_RETRY_WL).
   */
  iso?: { getResponse?: false; leRetry?: false };
}

export interface CardChannel {
  /** Sends one command APDU and resolves with the response APDU (data ‖ SW1 SW2). */
  transmit(command: Uint8Array, options?: TransmitOptions): Promise<Uint8Array>;
  /**
   * Optional: runs several commands in one round trip (the reader executes them and stops on an
   * unexpected status word). Callers must fall back to transmit() when it is absent.
   */
  transmitBatch?(commands: ReadonlyArray<BatchCommand>, options?: TransmitOptions): Promise<BatchResult>;
}

/**
 * Codes with which a transmit fails when the command provably never reached the card: refused before
 * sending (the card was already removed or replaced, the reader is offline, no card, card not powered,
 * a malformed or over-long request, the device busy or not ready). Any other failure of a command that
 * was handed to the transport (CARD_REMOVED, CARD_MUTE, LINK_CLOSED, PROTOCOL_TIMEOUT …) leaves open
 * whether the card executed it.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'CARD_CHANGED', 'READER_OFFLINE', 'SLOT_NOT_FOUND', 'APDU_INVALID',
  'NO_CARD', 'CARD_NOT_POWERED', 'BAD_SLOT', 'BAD_REQUEST', 'UNKNOWN_OPERATION', 'UNSUPPORTED_VERSION', 'NOT_READY', 'BUSY',
  'APDU_TOO_LONG', 'BATCH_TOO_LONG', 'FRAME_TOO_LARGE', 'SECURE_CHANNEL_REQUIRED', 'HOST_NOT_PAIRED',
  'PROTOCOL_QUEUE_FULL', 'PROTOCOL_BAD_FRAME',
]);

/** True when `error` (a failed transmit) proves the command never reached the card. */
export function neverSent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}
