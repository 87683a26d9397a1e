// What a simulated card is to the simulated reader: something that answers reset and processes APDUs.
// The reader (slots, timing model, faults) only ever talks to cards through this interface.

/** What kind of work a command was, for the timing model (card processing time per kind). */
export type CommandKind = 'select' | 'read' | 'write' | 'crypto' | 'other';

export interface CardAnswer {
  /** The response APDU: data ‖ SW1 SW2. */
  response: Uint8Array;
  kind: CommandKind;
}

export interface SimCard {
  /** A short label for logs and diagnostics ("health-card", "sam", "blank", "mute" …), never cardholder data. */
  readonly label: string;
  /** Cold reset: clears all volatile state (security state, current file, challenge) and returns the ATR. */
  powerOn(): Uint8Array;
  /** Volatile state is lost. */
  powerOff(): void;
  /** Warm reset: same effect as powerOn for the card OS. */
  reset(): Uint8Array;
  /** Supported transmission protocols (the ATR announces them). */
  readonly protocols: ReadonlyArray<0 | 1>;
  /** Processes one command APDU (already reassembled from T=0/T=1 by the reader). */
  process(command: Uint8Array, protocol: 0 | 1): CardAnswer;
  /** A mute card never answers: the reader reports CARD_MUTE after its timeout. */
  readonly mute?: boolean;
}
