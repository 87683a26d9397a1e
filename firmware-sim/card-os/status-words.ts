// ISO/IEC 7816-4 status words the simulated cards answer, and the one exception a handler may throw
// to answer with a status word early. Any other exception inside a handler becomes 6F00.

export const SW = {
  OK: 0x9000,
  /** 61xx: xx more bytes are waiting for GET RESPONSE (T=0). */
  BYTES_AVAILABLE: 0x6100,
  END_OF_FILE: 0x6282,
  /** 63Cx: verification failed, x tries left. */
  VERIFY_FAILED: 0x63c0,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  INCOMPATIBLE_FILE_STRUCTURE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_BLOCKED: 0x6983,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  NO_CURRENT_EF: 0x6986,
  SM_DATA_OBJECTS_MISSING: 0x6987,
  SM_DATA_INCORRECT: 0x6988,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  /** 6Cxx: wrong Le, xx is the right one. */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

/** Thrown by a handler to answer with `sw` (and optional data); the card OS turns it into the answer. */
export class CardStatus extends Error {
  readonly sw: number;
  constructor(sw: number) {
    super(`SW ${sw.toString(16).toUpperCase().padStart(4, '0')}`);
    this.sw = sw;
    this.name = 'CardStatus';
  }
}

/** 63Cx with x tries left (x capped at 15). */
export function verifyFailed(triesLeft: number): number {
  return SW.VERIFY_FAILED | Math.max(0, Math.min(15, triesLeft));
}
