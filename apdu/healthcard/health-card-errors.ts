// Typed errors of the health-card layer. Messages never carry cardholder data, PINs or keys: they name
// the item number, the file and the status word only.

import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const HealthCardErrorCode = defineErrorCodes('healthcard', {
  ITEM_VALUE_TOO_LONG: { kind: 'bad_request', description: 'A value is longer than its data item allows.' },
  ITEM_VALUE_BAD_LENGTH: { kind: 'bad_request', description: 'A binary (b) value must have exactly the item length.' },
  ITEM_VALUE_BAD_DIGIT: { kind: 'bad_request', description: 'A numeric (cn) value contains something other than the digits 0–9.' },
  ITEM_VALUE_BAD_HEX: { kind: 'bad_request', description: 'A binary (b) value is not an even-length hexadecimal string.' },
  ITEM_VALUE_NOT_GBK: { kind: 'bad_request', description: 'A text (an) value contains a character without a GBK (one- or two-byte GB 18030) code, a private-use code point or NUL; details.codePoint names it (e.g. U+20000) and details.index its position. See docs/HEALTHCARD-SECURITY.md.' },
  PHOTO_NOT_JPEG: { kind: 'bad_request', description: 'The photo is not a JPEG file (it must start with the SOI marker FF D8 FF and end with EOI FF D9); nothing was written.' },
  ITEM_VALUE_INVALID: { kind: 'bad_request', description: 'A value fails its code table or check (sex, date, ID check digit, city code …).' },
  UNKNOWN_ITEM: { kind: 'bad_request', description: 'No such data item number (valid: 1–384) or file.' },
  CARD_DATA_MALFORMED: { kind: 'unprocessable', description: 'The card returned data that does not decode (bad BCD, bad GBK, wrong TLV tag or length).' },
  NOT_A_HEALTH_CARD: { kind: 'unprocessable', description: 'The card has no DDF1 named WS.SYS.DDF01 (for example a transit card).' },
  CARD_READ_FAILED: { kind: 'unprocessable', description: 'Reading a file of the health card failed; nothing of that read is returned.' },
  RECORD_INVALID: { kind: 'not_found', description: 'The visit record is marked empty by its DF03 index flag (vendor code 112).' },
  CARD8_UNKNOWN: { kind: 'bad_request', description: 'Authorisation needs card8: pass the ATR (or card8) the card answered at power-on.' },
  NO_SAM: { kind: 'conflict', description: 'The operation needs a SAM but none was given or powered.' },
  SAM_PIN_WRONG: { kind: 'unprocessable', description: 'The SAM refused the PIN; details.triesLeft says how many attempts remain.' },
  SAM_PIN_BLOCKED: { kind: 'unprocessable', description: 'The SAM PIN is blocked; the SAM must be unblocked by its issuer.' },
  SAM_KEY_NOT_FOUND: { kind: 'unprocessable', description: 'The SAM holds no key at the requested index (6A88).' },
  SAM_FAILED: { kind: 'unprocessable', description: 'The SAM answered an unexpected status word.' },
  CARD_AUTH_FAILED: { kind: 'unprocessable', description: 'The card refused EXTERNAL AUTHENTICATE; details.triesLeft says how many attempts remain.' },
  CARD_KEY_BLOCKED: { kind: 'unprocessable', description: 'The card key is blocked (6983) after too many failed authentications.' },
  CARD_FROM_OTHER_PROVINCE: { kind: 'unprocessable', description: "The card's city code is in another province than the SAM serves; the SAM cannot authorise it." },
  CARD_WRITE_FAILED: { kind: 'unprocessable', description: 'A write command was refused by the card.' },
  PARTIAL_WRITE: { kind: 'unprocessable', description: 'A write stopped midway. details place every unit of the request in written (acknowledged by the card), uncertain (sent but unanswered, e.g. the card was pulled out: it may or may not be on the card) or notWritten. Read the card back before retrying, and retry only what is missing: a retried allergy or immunisation append (or a visit written to another slot) adds a duplicate if the uncertain one was applied.' },
});

export type HealthCardErrorCodeName = keyof typeof HealthCardErrorCode;

export class HealthCardError extends YikaError {
  constructor(code: HealthCardErrorCodeName, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

/** A value failed encoding or validation; `itemNo` is set when the item is known. */
export class ItemValueError extends HealthCardError {}
