// QR routes (RouteModule, registered under /v1): verify a text, verification statistics, the trust
// bundle (read and install), and a recent scanner result by scanId. A verification outcome — valid
// or not — is a 200 with { ok, code, … }; HTTP errors are for malformed requests and operator actions.
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import { PAYMENT_SCHEMES, QR_KINDS } from '../../../qr/code-kind.ts';
import { QR_RESULT_CODES, QR_WARNING_CODES, QrError } from '../../../qr/result-codes.ts';
import type { QrService } from '../../services/qr-service.ts';

const NULLABLE_STRING = { type: ['string', 'null'] } as const;

export const QR_RESULT_SCHEMA = {
  type: 'object',
  required: ['ok', 'code', 'message', 'type', 'key', 'kid', 'claims', 'issuedAt', 'expiresAt', 'bundleSeq', 'bundleAge', 'warnings', 'cached', 'bounce', 'kind', 'scheme', 'masked', 'assurance', 'staticCheck'],
  properties: {
    ok: { type: 'boolean', description: 'true only for code VALID' },
    code: { type: 'string', enum: [...QR_RESULT_CODES] },
    message: { type: 'string', description: 'For the front desk: what happened and what to do (never the payload).' },
    type: { type: ['string', 'null'], enum: ['dynamic', 'static', null] },
    key: { type: ['object', 'null'], properties: { kid: { type: 'string' }, issuer: { type: 'string' } } },
    kid: { ...NULLABLE_STRING, description: 'kid from the code header, hex (also when unknown)' },
    claims: {
      type: ['object', 'null'],
      description: 'Only when ok. cardId is cardholder data: give it to the HIS, never log it.',
      properties: {
        cardId: { type: 'string' },
        cardIdKind: { type: 'string', enum: ['card', 'pseudonym'] },
        ttl: { type: 'integer' },
        ext: { type: 'object', additionalProperties: true },
      },
    },
    issuedAt: NULLABLE_STRING,
    expiresAt: NULLABLE_STRING,
    bundleSeq: { type: ['integer', 'null'] },
    bundleAge: { type: ['integer', 'null'], description: 'Seconds since the trust bundle was issued' },
    warnings: { type: 'array', items: { type: 'string', enum: [...QR_WARNING_CODES] } },
    cached: { type: 'boolean' },
    bounce: { type: 'boolean', description: 'A repeat of the same scan at the same terminal within seconds' },
    kind: { type: 'string', enum: [...QR_KINDS], description: 'What kind of code the text is (QR.md §13), also when it is not a health code' },
    scheme: { type: ['string', 'null'], enum: [...PAYMENT_SCHEMES, null], description: 'Payment codes: the scheme (wechat, alipay, unionpay)' },
    masked: { ...NULLABLE_STRING, description: 'Payment, insurance and ID texts: masked (the text is never kept, logged or sent in events)' },
    assurance: { type: ['string', 'null'], enum: ['dynamic', 'static', null], description: 'Valid codes: dynamic (single use) or static (printed/screenshot: needs the second check)' },
    staticCheck: {
      type: ['string', 'null'],
      enum: ['id-card', 'password', 'sms', 'none', null],
      description: 'Valid static codes: the second check the desk must make before accepting (qr.staticCheck); nothing is recorded',
    },
    scanId: { type: 'string' },
    text: { type: 'string', description: 'Only in qr.scanned events to a subscriber that asked with reveal=codes and the API token: the scanned payment/insurance/ID text' },
  },
} as const;

const TRUST_SCHEMA = {
  type: 'object',
  required: ['state', 'seq', 'ageSeconds', 'keys', 'revokedCards'],
  properties: {
    state: { type: 'string', enum: ['none', 'fresh', 'stale', 'expired'] },
    seq: { type: ['integer', 'null'] },
    issuedAt: NULLABLE_STRING,
    nextUpdate: NULLABLE_STRING,
    ageSeconds: { type: ['integer', 'null'] },
    expiredPolicy: { type: 'string', enum: ['fail', 'degrade'] },
    anchorKid: NULLABLE_STRING,
    source: NULLABLE_STRING,
    demo: { type: 'boolean' },
    revokedCards: { type: 'integer' },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kid: { type: 'string' },
          issuer: { type: 'string' },
          status: { type: 'string' },
          types: { type: 'array', items: { type: 'string' } },
          signFrom: { type: 'string' },
          signUntil: { type: 'string' },
          verifyUntil: { type: 'string' },
        },
      },
    },
  },
} as const;

const STATS_SCHEMA = {
  type: 'object',
  required: ['verifications', 'results', 'cache'],
  properties: {
    verifications: { type: 'integer' },
    results: { type: 'object', additionalProperties: { type: 'integer' }, description: 'count per result code' },
    cache: {
      type: 'object',
      properties: {
        hits: { type: 'integer' },
        misses: { type: 'integer' },
        hitRate: { type: 'number' },
        entries: { type: 'integer' },
        bytes: { type: 'integer' },
        evictions: { type: 'integer' },
      },
    },
    shared: { type: 'object', properties: { configured: { type: 'boolean' }, healthy: { type: ['boolean', 'null'] } } },
    pool: { type: 'object', properties: { size: { type: 'integer' } } },
    trust: { type: 'object', properties: { state: { type: 'string' }, seq: { type: ['integer', 'null'] }, ageSeconds: { type: ['integer', 'null'] } } },
  },
} as const;

interface VerifyBody {
  text: string;
  terminal?: string;
}

export function qrRoutes(service: QrService): RouteModule {
  return (app: FastifyInstance) => {
    app.post<{ Body: VerifyBody }>(
      '/qr/verify',
      {
        // A verification reads nothing secret and writes only replay state: open like a read (the page uses it).
        config: { capability: 'read' },
        schema: {
          summary: 'Verify an EHC1 QR text offline',
          description: 'Every outcome is a 200 with { ok, code, message, … }; codes are listed in QR.md.',
          tags: ['qr'],
          body: {
            type: 'object',
            required: ['text'],
            additionalProperties: false,
            properties: {
              text: { type: 'string', maxLength: 4096, description: 'The scanned text (any prefix case, CR/LF tolerated); > 512 characters gives TOO_LONG' },
              terminal: { type: 'string', maxLength: 64, description: 'Desk or scanner id, for scanner-bounce de-duplication' },
            },
          },
          response: { 200: QR_RESULT_SCHEMA },
        },
      },
      async (req) => service.verify(req.body.text, { terminal: req.body.terminal }),
    );

    app.get('/qr/stats', { schema: { summary: 'QR verification statistics', tags: ['qr'], response: { 200: STATS_SCHEMA } } }, async () => service.stats());

    app.get('/qr/trust', { schema: { summary: 'The installed QR trust bundle', tags: ['qr'], response: { 200: TRUST_SCHEMA } } }, async () => service.trustInfo());

    app.post<{ Body: { bundle: string } }>(
      '/qr/trust',
      {
        config: { capability: 'trust.install' },
        schema: {
          summary: 'Install a signed QR trust bundle (must verify under a pinned anchor and have a newer seq)',
          tags: ['qr'],
          body: {
            type: 'object',
            required: ['bundle'],
            additionalProperties: false,
            properties: { bundle: { type: 'string', maxLength: 90_000_000, pattern: '^[A-Za-z0-9+/=\\s]*$', description: 'The bundle file, base64' } },
          },
          response: { 200: TRUST_SCHEMA },
        },
      },
      async (req) => {
        const bytes = Buffer.from(req.body.bundle, 'base64');
        if (!bytes.length) throw new QrError('QR_TRUST_BUNDLE_INVALID', 'the bundle is empty (expected the signed file in base64)');
        await service.installTrust(bytes);
        return service.trustInfo();
      },
    );

    app.get<{ Params: { scanId: string } }>(
      '/qr/scans/:scanId',
      {
        schema: {
          summary: 'Full result of a recent scanner read (with the card id), for two minutes',
          tags: ['qr'],
          params: { type: 'object', required: ['scanId'], properties: { scanId: { type: 'string', maxLength: 80 } } },
          response: { 200: QR_RESULT_SCHEMA },
        },
      },
      async (req) => {
        const r = service.scan(req.params.scanId);
        if (!r) throw new QrError('QR_SCAN_NOT_FOUND', 'no recent scan with this id (results are kept for two minutes)');
        return r;
      },
    );
  };
}
