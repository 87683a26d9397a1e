// Reader routes (RouteModule, registered under /v1): the reader list, one reader, slot power, raw
// APDUs (one or a batch) and the per-reader APDU trace. Every card operation holds the reader's lock.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteModule } from '../../context.ts';
import type { BatchCommand } from '../../../apdu/card-channel.ts';
import { transmitBatch } from '../../../apdu/batch.ts';
import type { ReaderRegistry } from '../../readers/reader-registry.ts';
import { ReaderError } from '../../readers/reader-errors.ts';
import { parseSlotId, SLOT_ID_FORMS, SLOT_ID_PATTERN } from '../../../protocol/slot-id.ts';
import { hexUpper, parseHex } from '../../../common/hex.ts';
import { isYikaError } from '../../../common/yika-error.ts';
import { restrictedReason } from '../apdu-policy.ts';
import { apiError } from '../api-errors.ts';
import { requireCapability } from '../security.ts';
import type { Reader } from '../../readers/reader.ts';
import { errorBody } from '../error-map.ts';

// ---- JSON schemas (request and response) --------------------------------------------------------

const HEX = { type: 'string', pattern: '^(?:[0-9A-Fa-f]{2}\\s?)*$' } as const;

export const SLOT_SCHEMA = {
  type: 'object',
  required: ['slot', 'kind', 'label', 'card'],
  properties: {
    slot: { type: 'integer', description: '0x01 user card, 0x02 contactless, 0x11–0x14 SAM1–SAM4' },
    kind: { enum: ['contact', 'contactless', 'sam'] },
    label: { type: 'string' },
    card: { enum: ['absent', 'present', 'powered', 'mute'] },
    atr: { type: 'string', description: 'ATR in hex (when powered)' },
    protocol: { enum: [0, 1] },
    rate: {
      type: 'object',
      required: ['fi', 'di'],
      description: 'Card interface rate in effect (after PPS), when the reader reports it (PROTOCOL.md 6.1; PC/SC readers negotiate PPS themselves and do not report it)',
      properties: {
        fi: { type: 'integer', description: 'clock rate conversion factor Fi (ISO 7816-3 table 7)' },
        di: { type: 'integer', description: 'baud rate adjustment factor Di (table 8)' },
        clockHz: { type: 'integer', description: 'card clock f' },
        bitRate: { type: 'integer', description: 'bits per second = clockHz · di / fi' },
      },
    },
  },
} as const;

export const READER_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'kind', 'vendor', 'model', 'firmware', 'slots', 'secureChannel', 'health', 'batch', 'session'],
  properties: {
    id: { type: 'string', description: 'Stable short id, e.g. sim-1, serial-1, pcsc-1' },
    name: { type: 'string' },
    kind: { enum: ['serial', 'pcsc', 'sim'] },
    vendor: { type: 'string' },
    model: { type: 'string' },
    firmware: { type: 'string' },
    serial: { type: 'string' },
    slots: { type: 'array', items: SLOT_SCHEMA },
    secureChannel: {
      type: 'object',
      required: ['policy', 'state'],
      properties: {
        policy: { enum: ['required', 'preferred', 'off'] },
        state: { enum: ['open', 'plain', 'unsupported'] },
        reason: { type: 'string', description: 'Why the link is not protected (absent when open). Under policy preferred a plaintext link also makes the reader degraded.' },
      },
    },
    health: { enum: ['ok', 'degraded', 'offline'] },
    healthDetail: { type: 'string' },
    batch: { type: 'object', required: ['supported', 'max'], properties: { supported: { type: 'boolean' }, max: { type: 'integer' } } },
    session: {
      type: 'object',
      required: ['heldBy', 'waiting'],
      properties: { heldBy: { type: ['string', 'null'] }, waiting: { type: 'integer' } },
    },
  },
} as const;

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const SLOT_PARAMS = {
  type: 'object',
  required: ['id', 'slot'],
  properties: { id: { type: 'string', maxLength: 64 }, slot: { type: 'string', pattern: SLOT_ID_PATTERN, description: SLOT_ID_FORMS } },
} as const;

const APDU_RESULT = {
  type: 'object',
  required: ['response', 'sw', 'data'],
  properties: {
    response: { type: 'string', description: 'Response APDU in hex: data ‖ SW1 SW2' },
    sw: { type: 'string', description: 'Status word, 4 hex digits' },
    data: { type: 'string', description: 'Response data in hex (without the status word)' },
  },
} as const;

const TRACE_SETTINGS = {
  type: 'object',
  required: ['enabled', 'maskData'],
  properties: { enabled: { type: 'boolean' }, maskData: { type: 'boolean' } },
} as const;

// ---- helpers ------------------------------------------------------------------------------------

/** A slot of a path or query (its schema checked SLOT_ID_PATTERN already). */
function parseSlot(text: string): number {
  const slot = parseSlotId(text);
  if (slot === undefined) throw new ReaderError('SLOT_NOT_FOUND', `no slot "${text.slice(0, 8)}": write it ${SLOT_ID_FORMS}`);
  return slot;
}

export function parseApduHex(text: string, where: string): Uint8Array {
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

function apduResult(response: Uint8Array): { response: string; sw: string; data: string } {
  const hex = hexUpper(response);
  return { response: hex, sw: hex.slice(-4), data: hex.slice(0, -4) };
}

/** Why a batch was cut short, as the API's error shape names it (code and message only: no details). */
function interruption(e: Error): { code: string; message: string; messageZh: string } {
  const { code, message, messageZh } = errorBody(isYikaError(e) ? e.code : 'INTERNAL', isYikaError(e) ? e.message : 'the batch was interrupted').error;
  return { code, message, messageZh };
}

interface PowerBody {
  action: 'on' | 'off' | 'reset';
  lease?: string;
}
interface ApduBody {
  apdu: string;
  sensitive?: 'command' | 'response' | 'both';
  lease?: string;
}
interface BatchBody {
  commands: Array<{ apdu: string; expect?: Array<{ sw: string; mask?: string }> }>;
  lease?: string;
}

const LEASE_TOKEN = {
  type: 'string',
  pattern: '^[0-9a-f]{32}$',
  description: 'Run under this lease (POST /v1/readers/:id/lease): no other client can step in between this request and the next one of the lease',
} as const;

const LEASE_SCHEMA = {
  type: 'object',
  required: ['lease', 'readerId', 'idleMs', 'expiresAt'],
  properties: {
    lease: { type: 'string', description: 'The lease token: pass it as `lease` in apdu, batch and power requests' },
    readerId: { type: 'string' },
    idleMs: { type: 'integer', description: 'The lease ends when no request used it for this long' },
    expiresAt: { type: 'string', description: 'When it ends unless used or renewed before (ISO time)' },
  },
} as const;
interface TraceBody {
  enabled?: boolean;
  maskData?: boolean;
  clear?: boolean;
}

// ---- the module ---------------------------------------------------------------------------------

export function readerRoutes(registry: ReaderRegistry): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/readers',
      {
        schema: {
          summary: 'List readers',
          tags: ['readers'],
          response: { 200: { type: 'object', required: ['readers'], properties: { readers: { type: 'array', items: READER_SCHEMA } } } },
        },
      },
      async () => ({ readers: registry.list().map((r) => r.toJSON()) }),
    );

    app.get<{ Params: { id: string } }>(
      '/readers/:id',
      { schema: { summary: 'One reader', tags: ['readers'], params: ID_PARAMS, response: { 200: READER_SCHEMA } } },
      async (req) => registry.get(req.params.id).toJSON(),
    );

    app.post<{ Params: { id: string; slot: string }; Body: PowerBody }>(
      '/readers/:id/slots/:slot/power',
      {
        config: { capability: 'apdu' },
        schema: {
          summary: 'Power the card in a slot on, off, or reset it (cold)',
          tags: ['readers'],
          params: SLOT_PARAMS,
          body: { type: 'object', required: ['action'], additionalProperties: false, properties: { action: { enum: ['on', 'off', 'reset'] }, lease: LEASE_TOKEN } },
          response: { 200: SLOT_SCHEMA },
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

    app.post<{ Params: { id: string; slot: string }; Body: ApduBody }>(
      '/readers/:id/slots/:slot/apdu',
      {
        config: { capability: 'apdu' },
        schema: {
          summary: 'Send one raw APDU to the (powered) card in a slot',
          tags: ['readers'],
          params: SLOT_PARAMS,
          body: {
            type: 'object',
            required: ['apdu'],
            additionalProperties: false,
            properties: { apdu: { ...HEX, maxLength: 2 * 65_544 + 20000 }, sensitive: { enum: ['command', 'response', 'both'] }, lease: LEASE_TOKEN },
          },
          response: { 200: APDU_RESULT },
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

    app.post<{ Params: { id: string; slot: string }; Body: BatchBody }>(
      '/readers/:id/slots/:slot/batch',
      {
        config: { capability: 'apdu' },
        schema: {
          summary: 'Send several APDUs under one lock (one link round trip when the reader batches); stops at the first unexpected status word',
          description:
            'Answers 200 with one response per command that ran, in order. Fewer responses than commands means the batch stopped early: `stoppedAt` (a status word stopped it) or `interrupted` (the card was removed or replaced, or the reader went away, before the next command was sent: the responses are what the card did, the commands after them never reached it). When nothing could run (no card, the card already gone) the answer is the error, as for one APDU (e.g. 409 CARD_REMOVED). A card pulled out during a command (sent, its answer lost) is the error too: that command may or may not have run, and a batching reader fails its whole batch part (PROTOCOL.md transmitBatch).',
          tags: ['readers'],
          params: SLOT_PARAMS,
          body: {
            type: 'object',
            required: ['commands'],
            additionalProperties: false,
            properties: {
              lease: LEASE_TOKEN,
              commands: {
                type: 'array',
                minItems: 1,
                maxItems: 256,
                items: {
                  type: 'object',
                  required: ['apdu'],
                  additionalProperties: false,
                  properties: {
                    apdu: HEX,
                    expect: {
                      type: 'array',
                      description: 'Status words that let the batch continue (default only 9000): sw & mask === sw. A 61xx or 6Cxx answer always stops the batch (T=0: GET RESPONSE or the resend with Le must come next; send it yourself)',
                      items: {
                        type: 'object',
                        required: ['sw'],
                        additionalProperties: false,
                        properties: { sw: { type: 'string', pattern: '^[0-9A-Fa-f]{4}$' }, mask: { type: 'string', pattern: '^[0-9A-Fa-f]{4}$' } },
                      },
                    },
                  },
                },
              },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['responses'],
              properties: {
                responses: { type: 'array', items: APDU_RESULT, description: 'One per command that ran, in order' },
                stoppedAt: { type: 'integer', description: 'Index of the command whose status word stopped the batch (unexpected, or 61xx/6Cxx)' },
                interrupted: {
                  type: 'object',
                  required: ['code', 'message', 'messageZh'],
                  additionalProperties: false,
                  description:
                    'Present when the batch was cut short before the command at index responses.length was sent (card removed or replaced, reader offline): that command and the later ones never reached the card; the responses are those of the commands that ran. code is an error code of the catalogue (CARD_CHANGED, NO_CARD, READER_OFFLINE …).',
                  properties: { code: { type: 'string' }, message: { type: 'string' }, messageZh: { type: 'string' } },
                },
              },
            },
          },
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

    app.post<{ Params: { id: string }; Body: { waitMs?: number; idleMs?: number } }>(
      '/readers/:id/lease',
      {
        // A lease holds the reader for raw APDU sessions: the same capability as the raw routes.
        config: { capability: 'apdu' },
        schema: {
          summary: 'Acquire a lease: hold the reader across requests (raw APDU sessions)',
          description:
            'Waits in the reader\'s FIFO queue for up to waitMs (default readers.lockTimeoutMs; then 409 READER_BUSY) and holds the reader until POST …/lease/release, or until no request used the lease for idleMs (default 10 s, at most 120 s). Requests carrying `lease` run in order on the held reader; every other request (another client\'s APDUs, card reads) waits for the lease to end or gets READER_BUSY.',
          tags: ['readers'],
          params: ID_PARAMS,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              waitMs: { type: 'integer', minimum: 0, maximum: 120_000, description: 'How long to wait for the reader' },
              idleMs: { type: 'integer', minimum: 100, maximum: 120_000, description: 'The lease ends after this long without a request' },
            },
          },
          response: { 200: LEASE_SCHEMA },
        },
      },
      async (req) => {
        const reader = registry.get(req.params.id);
        const check = (): void => {
          if (!reader.currentDevice) throw new ReaderError('READER_OFFLINE', `Reader ${reader.id} is offline`, { readerId: reader.id });
        };
        return reader.leases.acquire({ waitMs: req.body?.waitMs, idleMs: req.body?.idleMs, check });
      },
    );

    app.post<{ Params: { id: string }; Body: { lease: string } }>(
      '/readers/:id/lease/renew',
      {
        config: { capability: 'apdu' },
        schema: {
          summary: 'Keep a lease alive without sending anything (restarts its idle time)',
          tags: ['readers'],
          params: ID_PARAMS,
          body: { type: 'object', required: ['lease'], additionalProperties: false, properties: { lease: LEASE_TOKEN } },
          response: { 200: LEASE_SCHEMA },
        },
      },
      async (req) => registry.get(req.params.id).leases.renew(req.body.lease),
    );

    app.post<{ Params: { id: string }; Body: { lease: string } }>(
      '/readers/:id/lease/release',
      {
        // A lease holds the reader for raw APDU sessions: the same capability as the raw routes.
        config: { capability: 'apdu' },
        schema: {
          summary: 'Release a lease (after the requests already sent under it)',
          tags: ['readers'],
          params: ID_PARAMS,
          body: { type: 'object', required: ['lease'], additionalProperties: false, properties: { lease: LEASE_TOKEN } },
          response: { 200: { type: 'object', required: ['released'], properties: { released: { type: 'boolean' } } } },
        },
      },
      async (req) => {
        registry.get(req.params.id).leases.release(req.body.lease);
        return { released: true };
      },
    );

    app.get<{ Params: { id: string }; Querystring: { format?: 'json' | 'text' | 'replay'; timing?: boolean; slot?: string } }>(
      '/readers/:id/trace',
      {
        schema: {
          summary: "The reader's APDU trace (A>> command, A<< response; secrets masked)",
          tags: ['readers'],
          params: ID_PARAMS,
          description: 'format=text: the diffable lines; format=replay&slot=1: one slot as a transcript for apdu/ReplayChannel (a test fixture).',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              format: { enum: ['json', 'text', 'replay'] },
              timing: { type: 'boolean' },
              slot: { type: 'string', pattern: SLOT_ID_PATTERN },
            },
          },
          response: {
            // JSON by default; format=text and format=replay answer text/plain.
            200: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['enabled', 'maskData', 'entries', 'text'],
                    properties: {
                      enabled: { type: 'boolean' },
                      maskData: { type: 'boolean' },
                      text: { type: 'string' },
                      entries: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['seq', 'at', 'slot', 'dir', 'hex'],
                          properties: {
                            seq: { type: 'integer' },
                            at: { type: 'string' },
                            slot: { type: 'integer' },
                            dir: { enum: ['command', 'response'] },
                            hex: { type: 'string' },
                            ms: { type: 'number' },
                            note: { type: 'string' },
                          },
                        },
                      },
                    },
                  },
                },
                'text/plain': { schema: { type: 'string', description: 'format=text: the trace lines; format=replay: a transcript (text/plain; charset=utf-8).' } },
              },
            },
          },
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

    app.put<{ Params: { id: string }; Body: TraceBody }>(
      '/readers/:id/trace',
      {
        // Switching the (masked) trace on or off and clearing it is harmless; unmasking needs trace.unmasked.
        config: { capability: 'read' },
        schema: {
          summary: 'Switch the APDU trace on/off, choose data masking, or clear it',
          tags: ['readers'],
          params: ID_PARAMS,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { enabled: { type: 'boolean' }, maskData: { type: 'boolean' }, clear: { type: 'boolean' } },
          },
          response: { 200: TRACE_SETTINGS },
        },
      },
      async (req) => {
        const trace = registry.get(req.params.id).trace;
        if (req.body.maskData === false) requireCapability(req, 'trace.unmasked', 'unmasked APDU trace');
        if (req.body.clear) trace.clear();
        return trace.configure({ enabled: req.body.enabled, maskData: req.body.maskData });
      },
    );
  };
}
