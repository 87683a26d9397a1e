// The API's shapes as the page uses them: types only, from the typed client (yika/client), so the
// page and the daemon cannot drift apart unnoticed. `import type` is erased at compile time: the
// browser never loads the client. The stream's heartbeat, which the client does not type, is here.
export type {
  ApiErrorBody,
  ErrorCatalog,
  HealthCardRead,
  HealthReport,
  QrResultCode,
  QrVerifyResult,
  Reader,
  ReaderSlot,
  StreamHello,
  YikaEvent,
} from '../../client/api-types.ts';
import type { QrVerifyResult, YikaEvent } from '../../client/api-types.ts';

/** Sent every heartbeat interval; a browser cannot see WebSocket pings. */
export interface StreamHeartbeat {
  type: 'stream.heartbeat';
  position: number;
}

/** qr.scanned carries the reader's verify result (typed loosely in the event catalogue). */
export function scannedResult(ev: Extract<YikaEvent, { type: 'qr.scanned' }>): QrVerifyResult {
  return ev.result as unknown as QrVerifyResult;
}
