// Reader routes (RouteModule, registered under /v1): the reader list, one reader, slot power, raw
// APDUs (one or a batch) and the per-reader APDU trace. Every card operation holds the reader's lock.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteModule } from '../../context.ts';
import type { BatchCommand } from '../../../apdu/card-channel.ts';
import { transmitBatch } from '../../../apdu/batch.ts';
import type { ReaderRegistry } from '../../readers/reader-registry.ts';
import { ReaderError } from '../../readers/reader-errors.ts';
import { parseSlotId, SLOT_ID_FORMS } from '../../../protocol/slot-id.ts';
import { hexUpper, parseHex } from '../../../common/hex.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { restrictedReason } from '../apdu-policy.ts';
import { apiError } from '../api-errors.ts';
import { requireCapability } from '../security.ts';
import type { Reader } from '../../readers/reader.ts';
import { errorBody } from '../error-map.ts';
import {
  ApduBody, ApduResultSchema, BatchBody, BatchResultSchema, LeaseBody, LeaseReleasedSchema, LeaseTokenBody, PowerBody, ReaderIdParams, ReaderLeaseSchema, ReaderListSchema,
  ReaderSchema, ReaderSlotSchema, SlotParams, TraceBody, TraceQuery, TraceResponse, TraceSettingsSchema, type ApduResult, type BatchResult,
} from '../schemas/readers.ts';
import type { SchemaApp, SchemaTypes } from '../schemas/type-provider.ts';

// ---- helpers ------------------------------------------------------------------------------------

/** A slot of a path or query (its schema checked SLOT_ID_PATTERN already). */
function parseSlot(text: string): number {
  const slot = parseSlotId(text);
  if (slot === undefined) throw new ReaderError('SLOT_NOT_FOUND', `no slot "${text.slice(0, 8)}": write it ${SLOT_ID_FORMS}`);
  return slot;
}

function parseApduHex(text: string, where: string): Uint8Array {
  const bad = () => new ReaderError('APDU_INVALID', `${where}: expected an APDU in hex of at least 4 bytes`, { field: where });
  const apdu = parseHex(text.replace(/\s+/g, ''), bad);
  if (apdu.length < 4) throw bad();
  return apdu;
}

/** The raw-APDU policy (apdu-policy.ts): refuses before anything is sent, the whole batch if one command is refused. */
function checkApduPolicy(req: FastifyRequest, reader: Reader, slot: number, apdus: Uint8Array[]): void {
  if (req.yikaCaller?.capabilities.has('apdu.restricted')) return;
  const kind = reader.slotsOfKind('sam').includes(slot) ? 'sam' : undefined;
  for (const [i, apdu] of apdus.entries()) {
    const reason = restrictedReason(slot, kind, apdu);
    if (reason) {
      throw apiError('APDU_REFUSED_BY_POLICY', `Refused before sending${apdus.length > 1 ? ` (commands[${i}])` : ''}: ${reason} need a token with the apdu.restricted capability. Read and write the health card through /v1/readers/:id/healthcard.`, {
        capability: 'apdu.restricted',
        ...(apdus.length > 1 ? { index: i } : {}),
      });
    }
  }
}

function apduResult(response: Uint8Array): ApduResult {
  const hex = hexUpper(response);
  return { response: hex, sw: hex.slice(-4), data: hex.slice(0, -4) };
}

/** Why a batch was cut short, as the API's error shape names it (code and message only: no details). */
function interruption(e: Error): NonNullable<BatchResult['interrupted']> {
  const { code, message, messageZh } = errorBody(isYikaError(e) ? e.code : 'INTERNAL', isYikaError(e) ? e.message : 'the batch was interrupted').error;
  return { code, message, messageZh };
}

// ---- the module ---------------------------------------------------------------------------------
export function readerRoutes(registry: ReaderRegistry): RouteModule {
  return (plain: FastifyInstance) => {
    const app = plain.withTypeProvider<SchemaTypes>();
    readerInfoRoutes(app, registry);
    rawApduRoutes(app, registry);
    batchRoute(app, registry);
    leaseRoutes(app, registry);
    traceRoutes(app, registry);
  };
}

/** GET /readers and /readers/:id. */
function readerInfoRoutes(app: SchemaApp, registry: ReaderRegistry): void {
  app.get(
    '/readers',
    {
      schema: {
        summary: 'List readers',
        tags: ['readers'],
        response: { 200: ReaderListSchema },
      },
    },
    async () => ({ readers: registry.list().map((r) => r.toJSON()) }),
  );

  app.get(
    '/readers/:id',
    { schema: { summary: 'One reader', tags: ['readers'], params: ReaderIdParams, response: { 200: ReaderSchema } } },
    async (req) => registry.get(req.params.id).toJSON(),
  );
}

/** Slot power and one raw APDU. */
function rawApduRoutes(app: SchemaApp, registry: ReaderRegistry): void {
  app.post(
    '/readers/:id/slots/:slot/power',
    {
      config: { capability: 'apdu' },
      schema: {
        summary: 'Power the card in a slot on, off, or reset it (cold)',
        tags: ['readers'],
        params: SlotParams,
        body: PowerBody,
        response: { 200: ReaderSlotSchema },
      },
    },
    async (req) => {
      const reader = registry.get(req.params.id);
      const slot = parseSlot(req.params.slot);
      return reader.sessionOrLease(req.body.lease, `power ${req.body.action}`, async (s) => {
        if (req.body.action === 'off') await s.powerOff(slot);
        else {
          if (req.body.action === 'reset' && s.slot(slot).card === 'powered') await s.powerOff(slot);
          await s.powerOn(slot);
        }
        return s.slot(slot);
      });
    },
  );

  app.post(
    '/readers/:id/slots/:slot/apdu',
    {
      config: { capability: 'apdu' },
      schema: {
        summary: 'Send one raw APDU to the (powered) card in a slot',
        tags: ['readers'],
        params: SlotParams,
        body: ApduBody,
        response: { 200: ApduResultSchema },
      },
    },
    async (req) => {
      const reader = registry.get(req.params.id);
      const slot = parseSlot(req.params.slot);
      const apdu = parseApduHex(req.body.apdu, 'apdu');
      checkApduPolicy(req, reader, slot, [apdu]);
      return reader.sessionOrLease(req.body.lease, 'apdu', async (s) => apduResult(await s.channel(slot).transmit(apdu, { sensitive: req.body.sensitive })));
    },
  );
}

/** Several raw APDUs under one lock, stopping at the first unexpected status word. */
function batchRoute(app: SchemaApp, registry: ReaderRegistry): void {
  app.post(
    '/readers/:id/slots/:slot/batch',
    {
      config: { capability: 'apdu' },
      schema: {
        summary: 'Send several APDUs under one lock (one link round trip when the reader batches); stops at the first unexpected status word',
        description:
          'Answers 200 with one response per command that ran, in order. Fewer responses than commands means the batch stopped early: `stoppedAt` (a status word stopped it) or `interrupted` (the card was removed or replaced, or the reader went away, before the next command was sent: the responses are what the card did, the commands after them never reached it). When nothing could run (no card, the card already gone) the answer is the error, as for one APDU (e.g. 409 CARD_REMOVED). A card pulled out during a command (sent, its answer lost) is the error too: that command may or may not have run, and a batching reader fails its whole batch part (PROTOCOL.md transmitBatch).',
        tags: ['readers'],
        params: SlotParams,
        body: BatchBody,
        response: { 200: BatchResultSchema },
      },
    },
    async (req) => {
      const reader = registry.get(req.params.id);
      const slot = parseSlot(req.params.slot);
      const commands: BatchCommand[] = req.body.commands.map((c, i) => ({
        apdu: parseApduHex(c.apdu, `commands[${i}].apdu`),
        expect: c.expect?.map((e) => ({ sw: parseInt(e.sw, 16), mask: parseInt(e.mask ?? 'FFFF', 16) })),
      }));
      checkApduPolicy(req, reader, slot, commands.map((c) => c.apdu));
      return reader.sessionOrLease(req.body.lease, 'apdu batch', async (s) => {
        // The reader's batch, or one transmit per command with the same stop rules (apdu/batch.ts).
        const result = await transmitBatch(s.channel(slot), commands);
        // Cut short before anything ran: the error, as for one APDU.
        if (result.interrupted && result.responses.length === 0) throw result.interrupted;
        return {
          responses: result.responses.map(apduResult),
          ...(result.stoppedAt !== undefined ? { stoppedAt: result.stoppedAt } : {}),
          // Cut short after some commands ran (the card left between two parts): their answers stand.
          ...(result.interrupted ? { interrupted: interruption(result.interrupted) } : {}),
        };
      });
    },
  );
}

/** Leases: the reader held across requests (raw APDU sessions). */
function leaseRoutes(app: SchemaApp, registry: ReaderRegistry): void {
  app.post(
    '/readers/:id/lease',
    {
      // A lease holds the reader for raw APDU sessions: the same capability as the raw routes.
      config: { capability: 'apdu' },
      schema: {
        summary: 'Acquire a lease: hold the reader across requests (raw APDU sessions)',
        description:
          'Waits in the reader\'s FIFO queue for up to waitMs (default readers.lockTimeoutMs; then 409 READER_BUSY) and holds the reader until POST …/lease/release, or until no request used the lease for idleMs (default 10 s, at most 120 s). Requests carrying `lease` run in order on the held reader; every other request (another client\'s APDUs, card reads) waits for the lease to end or gets READER_BUSY.',
        tags: ['readers'],
        params: ReaderIdParams,
        body: LeaseBody,
        response: { 200: ReaderLeaseSchema },
      },
    },
    async (req) => {
      return registry.get(req.params.id).acquireLease({ waitMs: req.body?.waitMs, idleMs: req.body?.idleMs });
    },
  );

  app.post(
    '/readers/:id/lease/renew',
    {
      config: { capability: 'apdu' },
      schema: {
        summary: 'Keep a lease alive without sending anything (restarts its idle time)',
        tags: ['readers'],
        params: ReaderIdParams,
        body: LeaseTokenBody,
        response: { 200: ReaderLeaseSchema },
      },
    },
    async (req) => registry.get(req.params.id).leases.renew(req.body.lease),
  );

  app.post(
    '/readers/:id/lease/release',
    {
      // A lease holds the reader for raw APDU sessions: the same capability as the raw routes.
      config: { capability: 'apdu' },
      schema: {
        summary: 'Release a lease (after the requests already sent under it)',
        tags: ['readers'],
        params: ReaderIdParams,
        body: LeaseTokenBody,
        response: { 200: LeaseReleasedSchema },
      },
    },
    async (req) => {
      registry.get(req.params.id).leases.release(req.body.lease);
      return { released: true };
    },
  );
}

/** The reader's APDU trace: read it (JSON or text) and set it. */
function traceRoutes(app: SchemaApp, registry: ReaderRegistry): void {
  app.get(
    '/readers/:id/trace',
    {
      schema: {
        summary: "The reader's APDU trace (A>> command, A<< response; secrets masked)",
        tags: ['readers'],
        params: ReaderIdParams,
        description: 'format=text: the diffable lines; format=replay&slot=1: one slot as a transcript for apdu/ReplayChannel (a test fixture).',
        querystring: TraceQuery,
        response: { 200: TraceResponse },
      },
    },
    async (req, reply) => {
      const trace = registry.get(req.params.id).trace;
      if (!trace.settings.maskData || trace.holdsUnmaskedData) requireCapability(req, 'trace.unmasked', 'this trace holds unmasked card data');
      if (req.query.format === 'replay') {
        const replay = trace.replayText(req.query.slot ? parseSlot(req.query.slot) : 1);
        reply.type('text/plain; charset=utf-8');
        return reply.serializer((x: unknown) => String(x)).send(replay + (replay ? '\n' : ''));
      }
      const text = trace.text({ timing: req.query.timing });
      if (req.query.format === 'text') {
        reply.type('text/plain; charset=utf-8');
        return reply.serializer((x: unknown) => String(x)).send(text + (text ? '\n' : ''));
      }
      return { ...trace.settings, entries: trace.list(), text };
    },
  );

  app.put(
    '/readers/:id/trace',
    {
      // Switching the (masked) trace on or off and clearing it is harmless; unmasking needs trace.unmasked.
      config: { capability: 'read' },
      schema: {
        summary: 'Switch the APDU trace on/off, choose data masking, or clear it',
        tags: ['readers'],
        params: ReaderIdParams,
        body: TraceBody,
        response: { 200: TraceSettingsSchema },
      },
    },
    async (req) => {
      const trace = registry.get(req.params.id).trace;
      if (req.body.maskData === false) requireCapability(req, 'trace.unmasked', 'unmasked APDU trace');
      if (req.body.clear) trace.clear();
      return trace.configure({ enabled: req.body.enabled, maskData: req.body.maskData });
    },
  );
}
