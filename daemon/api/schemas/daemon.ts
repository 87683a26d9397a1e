// The daemon's own routes: GET /v1/health (shared as HealthReport#) and GET /v1/errors.
import { type Static, T } from './json-type.ts';

export const HealthReportSchema = T.Object(
  {
    status: T.Enum(['ok', 'degraded'], { type: 'string' }),
    degraded: T.Array(
      T.Object(
        {
          component: T.String(),
          reason: T.String(),
          reasonZh: T.String({ description: 'The same in Chinese, for the front-desk page or a Chinese HIS.' }),
        },
        { additionalProperties: false },
      ),
      { description: 'What is degraded and why, in words a front-desk user can act on.' },
    ),
    uptimeSeconds: T.Number(),
    version: T.String(),
  },
  { $id: 'HealthReport', additionalProperties: false },
);
export type HealthReport = Static<typeof HealthReportSchema>;

export const ErrorCatalogSchema = T.Object(
  {
    errors: T.Array(
      T.Object({ code: T.String(), status: T.Integer(), kind: T.String(), description: T.String(), messageZh: T.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
/** GET /v1/errors: the error catalogue. */
export type ErrorCatalog = Static<typeof ErrorCatalogSchema>;
