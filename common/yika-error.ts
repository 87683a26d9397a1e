// The one error base of the project. Every error a user can see is a YikaError with a stable code;
// the code is mapped once to an HTTP status (daemon/api) and once to a protocol error code (protocol/).
// Messages must never contain cardholder data, PINs, keys or QR payloads.

/** Flat JSON values; lists of small objects for structured reports (e.g. the units of PARTIAL_WRITE). */
export type YikaErrorDetails = Record<string, string | number | boolean | null | undefined | string[] | number[] | object[]>;

export class YikaError extends Error {
  readonly code: string;
  readonly details?: YikaErrorDetails;

  constructor(code: string, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
    this.name = new.target.name;
  }

  toJSON(): { code: string; message: string; details?: YikaErrorDetails } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isYikaError(e: unknown): e is YikaError {
  return e instanceof YikaError;
}
