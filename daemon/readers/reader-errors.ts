// Errors of the reader model. Device-level errors (NO_CARD, CARD_REMOVED, CARD_MUTE …) come from
// protocol/ (DeviceError); these are the daemon's own.
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const READER_ERRORS = defineErrorCodes('daemon/readers', {
  READER_NOT_FOUND: { kind: 'not_found', description: 'No reader with this id. List the readers with GET /v1/readers (or `yika readers`).' },
  READER_BUSY: { kind: 'conflict', description: 'The reader stayed busy with other requests longer than the lock timeout. Retry; raise readers.lockTimeoutMs if it happens often.' },
  READER_OFFLINE: { kind: 'unavailable', description: 'The reader is known but disconnected (unplugged, pcscd stopped, link error). The daemon reconnects by itself; check the cable.' },
  SLOT_NOT_FOUND: { kind: 'not_found', description: 'The reader has no such slot. Slots are listed in GET /v1/readers/:id.' },
  CARD_CHANGED: { kind: 'conflict', description: 'The card was removed or replaced during the operation; nothing of it is returned. Insert the card and retry.' },
  LEASE_NOT_FOUND: { kind: 'conflict', description: 'No active lease with this token: it was released, or it expired because no request used it for its idle time. Acquire a new lease; the card state may have changed meanwhile.' },
  APDU_INVALID: { kind: 'bad_request', description: 'An APDU in the request is not valid hex or is shorter than 4 bytes.' },
});

export class ReaderError extends YikaError {
  constructor(code: keyof typeof READER_ERRORS, message: string, details?: YikaErrorDetails) {
    super(code, message, details);
  }
}
