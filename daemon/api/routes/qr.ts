// QR routes (RouteModule, registered under /v1): verify a text, verification statistics, the trust
// bundle (read and install), and a recent scanner result by scanId. A verification outcome — valid
// or not — is a 200 with { ok, code, … }; HTTP errors are for malformed requests and operator actions.
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../../context.ts';
import { QrError } from '../../../qr/result-codes.ts';
import type { QrService } from '../../services/qr-service.ts';
import { QrStatsSchema, QrTrustSchema, QrVerifyResultSchema, ScanParams, TrustInstallBody, VerifyBody } from '../schemas/qr.ts';
import type { SchemaTypes } from '../schemas/type-provider.ts';

export function qrRoutes(service: QrService): RouteModule {
  return (plain: FastifyInstance) => {
    const app = plain.withTypeProvider<SchemaTypes>();
    app.post(
      '/qr/verify',
      {
        // A verification reads nothing secret and writes only replay state: open like a read (the page uses it).
        config: { capability: 'read' },
        schema: {
          summary: 'Verify an EHC1 QR text offline',
          description: 'Every outcome is a 200 with { ok, code, message, … }; codes are listed in QR.md.',
          tags: ['qr'],
          body: VerifyBody,
          response: { 200: QrVerifyResultSchema },
        },
      },
      async (req) => service.verify(req.body.text, { terminal: req.body.terminal }),
    );

    app.get('/qr/stats', { schema: { summary: 'QR verification statistics', tags: ['qr'], response: { 200: QrStatsSchema } } }, async () => service.stats());

    app.get('/qr/trust', { schema: { summary: 'The installed QR trust bundle', tags: ['qr'], response: { 200: QrTrustSchema } } }, async () => service.trustInfo());

    app.post(
      '/qr/trust',
      {
        config: { capability: 'trust.install' },
        schema: {
          summary: 'Install a signed QR trust bundle (must verify under a pinned anchor and have a newer seq)',
          tags: ['qr'],
          body: TrustInstallBody,
          response: { 200: QrTrustSchema },
        },
      },
      async (req) => {
        const bytes = Buffer.from(req.body.bundle, 'base64');
        if (!bytes.length) throw new QrError('QR_TRUST_BUNDLE_INVALID', 'the bundle is empty (expected the signed file in base64)');
        await service.installTrust(bytes);
        return service.trustInfo();
      },
    );

    app.get(
      '/qr/scans/:scanId',
      {
        schema: {
          summary: 'Full result of a recent scanner read (with the card id), for two minutes',
          tags: ['qr'],
          params: ScanParams,
          response: { 200: QrVerifyResultSchema },
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
