// The shapes of the Yika API as a HIS sees them (JSON), for `yika/client`. Not written here: each is
// the TypeScript type of the route schema the daemon validates and serializes with
// (daemon/api/schemas/*.ts, Static<typeof …Schema>), or of the event stream's messages. Type-only
// imports: importing the client loads none of the server's code (test/integration/client-entry.test.ts).
export type { HealthReport, ErrorCatalog } from '../api/schemas/daemon.ts';
export type { ApiErrorBody, PartialWriteDetails, WriteUnit } from '../api/schemas/errors.ts';
export type { ApduRequest, ApduResult, BatchCommandRequest, BatchResult, LeaseRequest, PowerRequest, Reader, ReaderLease, ReaderSlot, SlotCardState } from '../api/schemas/readers.ts';
export type {
  HealthCardFieldSet,
  HealthCardFile,
  HealthCardItem,
  HealthCardQueryParams,
  HealthCardRead,
  HealthCardWriteRequest,
  HealthCardWriteResult,
  ItemsQueryParams,
  ItemsRead,
  ItemValues,
} from '../api/schemas/health-card.ts';
export type { QrResultCode, QrStats, QrTrust, QrVerifyResult, VerifyRequest } from '../api/schemas/qr.ts';
export type { InterruptedWrite } from '../api/schemas/writes.ts';
export type { StreamHello, YikaEventType } from '../events/event-types.ts';
/** An event as delivered on the stream: with its sequence number and time. */
export type { DeliveredEvent as YikaEvent } from '../events/event-types.ts';
