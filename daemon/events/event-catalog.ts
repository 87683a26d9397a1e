// The list of event types at run time (the YikaEvent union exists only for the compiler), with a
// line each for the API docs. Keep in sync with event-types.ts: the compiler checks the keys.
import type { YikaEventType } from './event-types.ts';

export const EVENT_DESCRIPTIONS: Readonly<Record<YikaEventType, string>> = {
  'reader.attached': 'A reader was found (plugged in, or its backend came up): readerId, name.',
  'reader.detached': 'A reader went away: readerId, reason.',
  'reader.health': 'A reader became ok, degraded or offline: readerId, health, detail.',
  'card.inserted': 'A card was inserted in a reader slot: readerId, slot. Also sent when a reader (re)attaches with a card already in a slot.',
  'card.removed': 'A card was removed from a reader slot: readerId, slot.',
  'qr.scanned': "A QR code was scanned and verified: readerId (when from a reader's scanner), result (the verification result, never the QR text).",
  'write.interrupted': 'At start: a card write was cut short when the daemon last stopped (crash, kill -9, power loss): writeId, readerId, slot, startedAt. GET /v1/writes/interrupted has the item numbers; acknowledge with POST /v1/writes/interrupted/:id/ack.',
};

export const EVENT_TYPES = Object.keys(EVENT_DESCRIPTIONS) as YikaEventType[];
