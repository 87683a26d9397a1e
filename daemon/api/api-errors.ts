// The error codes the HTTP layer itself produces (not the route owners'): framework refusals
// (validation, 404, 413, 429) and the security policy (origin, host, token).
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const ApiErrorCode = defineErrorCodes('daemon/api', {
  BAD_REQUEST: { kind: 'bad_request', description: 'The request is malformed or does not match the route schema; details.issues lists what is wrong.' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'bad_request', description: 'The body is not JSON. Send Content-Type: application/json.' },
  NOT_FOUND: { kind: 'not_found', description: 'No such route. The API lives under /v1; see /v1/docs.' },
  METHOD_NOT_ALLOWED: { kind: 'bad_request', description: 'The route exists but not with this HTTP method.' },
  BODY_TOO_LARGE: { kind: 'too_large', description: 'The request body is larger than the configured limit (api.bodyLimit).' },
  RATE_LIMITED: { kind: 'rate_limited', description: 'Too many requests from this client; wait for the Retry-After header (seconds) and retry.' },
  ORIGIN_NOT_ALLOWED: { kind: 'forbidden', description: "The browser page's origin is not in api.allowedOrigins. Add the HIS origin (scheme://host:port) to the daemon config." },
  HOST_NOT_ALLOWED: { kind: 'forbidden', description: 'The Host header is not localhost, 127.0.0.1, [::1] or a name in api.allowedHosts (protection against DNS rebinding).' },
  TOKEN_REQUIRED: { kind: 'unauthorized', description: 'A request from another machine needs Authorization: Bearer <api.token>.' },
  TOKEN_INVALID: { kind: 'unauthorized', description: 'The bearer token does not match api.token.' },
  EVENTS_STREAM_REQUIRED: { kind: 'bad_request', description: 'GET /v1/events is a stream: upgrade to a WebSocket, or send Accept: text/event-stream (Server-Sent Events).' },
  PIPE_CHARSET_UNENCODABLE: { kind: 'unprocessable', description: 'A value has a character without a GBK code (a four-byte GB 18030 character): ask for charset=gb18030.' },
  TOO_MANY_SUBSCRIBERS: { kind: 'unavailable', description: 'Too many WebSocket event subscribers are connected; close unused pages.' },
  API_CONFIG_INVALID: { kind: 'internal', description: 'The api section of the daemon config is invalid; the message says which field and why.' },
  INTERNAL: { kind: 'internal', description: 'An unexpected error inside the daemon; the log has the details (without cardholder data).' },
});

export class ApiError extends YikaError {}

/** A refusal of the daemon's own HTTP layer (origin, token, rate limit …). */
export function apiError(code: keyof typeof ApiErrorCode, message: string, details?: YikaErrorDetails): ApiError {
  return new ApiError(code, message, details);
}

/** The api config is unusable (e.g. a non-loopback listen address without a token). */
export class ApiConfigError extends YikaError {
  constructor(message: string, details?: YikaErrorDetails) {
    super(ApiErrorCode.API_CONFIG_INVALID, message, details);
  }
}
