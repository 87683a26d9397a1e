// Events the daemon publishes to WebSocket subscribers (and to its own services).
// Never put cardholder data or QR payloads in an event: the QR result carries the verification
// outcome and the non-identifying claims the verifier chose to expose.

export type YikaEvent =
  | { type: 'reader.attached'; readerId: string; name: string }
  | { type: 'reader.detached'; readerId: string; reason?: string }
  | { type: 'reader.health'; readerId: string; health: 'ok' | 'degraded' | 'offline'; detail?: string }
  | { type: 'card.inserted'; readerId: string; slot: number }
  | { type: 'card.removed'; readerId: string; slot: number }
  | { type: 'qr.scanned'; readerId?: string; result: Record<string, unknown> }
  | { type: 'write.interrupted'; writeId: string; readerId: string; slot: number; startedAt: string };

export type YikaEventType = YikaEvent['type'];

/** An event as delivered: with its position in the daemon's event stream and a timestamp. */
export type DeliveredEvent = YikaEvent & { seq: number; at: string };

/** The first message of a stream: where the stream is, and whether the resume after `after` is complete. */
export type StreamHello = {
  type: 'stream.hello';
  position: number;
  oldest: number;
  resume: { after: number; complete: boolean } | null;
};
