// Shared JSON schemas of the API layer, registered once with app.addSchema so routes can $ref them
// ("YikaError#") and the OpenAPI document lists them under components.schemas.
export const ERROR_BODY_SCHEMA = {
  $id: 'YikaError',
  type: 'object',
  description: 'The one error shape of the API.',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[A-Z0-9_]+$', description: 'Stable UPPER_SNAKE code (see the error table).' },
        message: { type: 'string', description: 'What went wrong and what to do, for people; never contains cardholder data.' },
        details: { type: 'object', additionalProperties: true, description: 'Machine-readable context (slot, retryAfterSeconds, issues …).' },
      },
    },
  },
} as const;

export const HEALTH_REPORT_SCHEMA = {
  $id: 'HealthReport',
  type: 'object',
  required: ['status', 'degraded', 'uptimeSeconds', 'version'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    degraded: {
      type: 'array',
      description: 'What is degraded and why, in words a front-desk user can act on.',
      items: {
        type: 'object',
        required: ['component', 'reason'],
        additionalProperties: false,
        properties: { component: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    uptimeSeconds: { type: 'number' },
    version: { type: 'string' },
  },
} as const;

/** The error responses every route gets unless it declares its own. */
export const DEFAULT_ERROR_RESPONSES = {
  '4xx': { $ref: 'YikaError#', description: 'Refused: { error: { code, message, details? } }' },
  '5xx': { $ref: 'YikaError#', description: 'Failed in the daemon or a device: { error: { code, message, details? } }' },
} as const;
