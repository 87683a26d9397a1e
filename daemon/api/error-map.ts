// The one place where an error kind becomes an HTTP status, and where any thrown value becomes the
// one error body shape of the API: { error: { code, message, messageZh, details? } }.
import { errorCodeInfo, errorTextZh, type ErrorKind } from '../../common/error-catalog.ts';
import { isYikaError, type YikaErrorDetails } from '../../common/yika-error.ts';
import { ApiErrorCode } from './api-errors.ts';

export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

export interface ErrorBody {
  /** messageZh: the catalogue's Chinese text for the code, for a HIS or the desk page to show. */
  error: { code: string; message: string; messageZh: string; details?: YikaErrorDetails };
}

/** The Chinese text of a code; an uncatalogued code (a bug) gets INTERNAL's. */
function zhFor(code: string): string {
  return errorTextZh(code) ?? errorTextZh(ApiErrorCode.INTERNAL)!;
}

export function errorBody(code: string, message: string, details?: YikaErrorDetails): ErrorBody {
  const error: ErrorBody['error'] = { code, message, messageZh: zhFor(code) };
  if (details) error.details = details;
  return { error };
}

/** HTTP status for a catalogued code; an uncatalogued code is a bug, reported as 500. */
export function statusForCode(code: string): number {
  const info = errorCodeInfo(code);
  return info ? STATUS_BY_KIND[info.kind] : 500;
}

// Fastify's own error codes → ours. Anything else from fastify with a 4xx status is a bad request.
const FASTIFY_CODES: Record<string, keyof typeof ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: Array<{ instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
}

/**
 * Maps anything thrown in a route or hook to { status, body }. A YikaError keeps its code and message
 * (they are written to be shown); any other error becomes INTERNAL with a generic message, because a
 * raw message could carry data we never want on the wire.
 */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isYikaError(err)) {
    return { status: statusForCode(err.code), body: errorBody(err.code, err.message, err.details) };
  }
  const e = (err ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const issues = e.validation.slice(0, 10).map((v) => `${e.validationContext ?? 'request'}${v.instancePath ?? ''} ${validationMessage(v)}`.trim());
    return {
      status: 400,
      body: errorBody(ApiErrorCode.BAD_REQUEST, `Invalid request: ${issues[0]}`, { issues }),
    };
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) {
    return { status: statusForCode(mapped), body: errorBody(mapped, fastifyMessage(mapped)) };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return { status: 413, body: errorBody(ApiErrorCode.BODY_TOO_LARGE, fastifyMessage('BODY_TOO_LARGE')) };
    return { status: 400, body: errorBody(ApiErrorCode.BAD_REQUEST, 'The request is malformed.') };
  }
  return { status: 500, body: errorBody(ApiErrorCode.INTERNAL, 'Internal error in the daemon; see its log.') };
}

/** ajv's message, naming the key for an unknown property (keys are the client's own field names, never values). */
function validationMessage(v: NonNullable<FastifyLikeError['validation']>[number]): string {
  const key = v.params?.additionalProperty;
  if (v.keyword === 'additionalProperties' && typeof key === 'string') return `has an unknown key "${key.slice(0, 40)}"`;
  return v.message ?? 'is invalid';
}

function fastifyMessage(code: keyof typeof ApiErrorCode): string {
  switch (code) {
    case 'BODY_TOO_LARGE':
      return 'The request body is larger than the configured limit.';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'Unsupported Content-Type; send application/json.';
    case 'NOT_FOUND':
      return 'No such route; see /v1/docs.';
    default:
      return 'The request is malformed (invalid JSON or body).';
  }
}
