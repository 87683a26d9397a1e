// The error codes the HTTP layer itself produces (not the route owners'): framework refusals
// (validation, 404, 413, 429) and the security policy (origin, host, token).
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const ApiErrorCode = defineErrorCodes('daemon/api', {
  BAD_REQUEST: { kind: 'bad_request', zh: '请求格式错误或参数不符合要求。', description: 'The request is malformed or does not match the route schema; details.issues lists what is wrong.' },
  UNSUPPORTED_MEDIA_TYPE: { kind: 'bad_request', zh: '请求内容不是 JSON。', description: 'The body is not JSON. Send Content-Type: application/json.' },
  NOT_FOUND: { kind: 'not_found', zh: '没有这个接口，请查看接口文档。', description: 'No such route. The API lives under /v1; see /v1/docs.' },
  METHOD_NOT_ALLOWED: { kind: 'bad_request', zh: '该接口不支持此 HTTP 方法。', description: 'The route exists but not with this HTTP method.' },
  BODY_TOO_LARGE: { kind: 'too_large', zh: '请求内容过大。', description: 'The request body is larger than the configured limit (api.bodyLimit).' },
  RATE_LIMITED: { kind: 'rate_limited', description: 'Too many requests from this client (token, browser origin or address); wait for the Retry-After header (seconds) and retry.', zh: '请求过于频繁，请按 Retry-After（秒）等待后重试。' },
  ORIGIN_NOT_ALLOWED: {
    kind: 'forbidden',
    description: "The browser page's origin is not in api.allowedOrigins, or a browser request came from another site without an allowed Origin (Sec-Fetch-Site: cross-site/same-site: an <img>, a link, a no-cors fetch). Add the HIS origin (scheme://host:port) to the daemon config and call the API with fetch().",
    zh: '来源不被允许：网页的来源不在 api.allowedOrigins 中，或浏览器从其他站点发起的请求（图片、链接等）没有被允许的 Origin。',
  },
  HOST_NOT_ALLOWED: { kind: 'forbidden', zh: '请求的主机名不被允许（防 DNS 重绑定）。', description: 'The Host header is not localhost, 127.0.0.1, [::1] or a name in api.allowedHosts (protection against DNS rebinding).' },
  TOKEN_REQUIRED: {
    kind: 'unauthorized',
    description: 'A request from another machine, or an operation that can harm a card or a SAM (write, raw APDU, unmasked trace, trust install) from any client, needs Authorization: Bearer <token>; details.capability names what the operation needs.',
    zh: '需要令牌：来自其他计算机的请求，或可能损坏卡片/SAM 的操作（写卡、原始 APDU、不脱敏跟踪、安装信任列表），必须携带 Authorization: Bearer <令牌>。',
  },
  TOKEN_INVALID: { kind: 'unauthorized', description: 'The bearer token matches no configured token (api.token, api.tokens).', zh: '令牌无效：与配置的任何令牌都不匹配。' },
  CAPABILITY_MISSING: {
    kind: 'forbidden',
    description: 'The token is valid but does not carry the capability this operation needs (details.capability); grant it with api.tokens[].capabilities.',
    zh: '令牌权限不足：该令牌没有此操作所需的权限（details.capability），请在 api.tokens 中授予。',
  },
  APDU_REFUSED_BY_POLICY: {
    kind: 'forbidden',
    description:
      'The raw APDU route refused the command before sending it: raw commands to a SAM slot, and commands that spend retry counters or use keys (VERIFY, CHANGE/RESET PIN, EXTERNAL/INTERNAL/GENERAL AUTHENTICATE, SAM key derivation and cryptograms …), need a token with the apdu.restricted capability. Reads and writes through the health-card routes do their own PIN and key work and need none of this.',
    zh: '策略拒绝该 APDU：向 SAM 卡槽发送原始指令，或会消耗重试次数/使用密钥的指令（校验 PIN、外部/内部认证、SAM 密钥分散与密文计算等），需要具备 apdu.restricted 权限的令牌。读写健康卡请使用健康卡接口。',
  },
  EVENTS_STREAM_REQUIRED: { kind: 'bad_request', zh: '事件接口是数据流：请使用 WebSocket 或 Server-Sent Events（Accept: text/event-stream）连接。', description: 'GET /v1/events is a stream: upgrade to a WebSocket, or send Accept: text/event-stream (Server-Sent Events).' },
  PIPE_CHARSET_UNENCODABLE: { kind: 'unprocessable', zh: '有字符无法用 GBK 编码（四字节 GB 18030 字符），请改用 charset=gb18030。', description: 'A value has a character without a GBK code (a four-byte GB 18030 character): ask for charset=gb18030.' },
  TOO_MANY_SUBSCRIBERS: { kind: 'unavailable', zh: '事件订阅连接过多，请关闭不用的页面。', description: 'Too many WebSocket event subscribers are connected; close unused pages.' },
  API_CONFIG_INVALID: { kind: 'internal', zh: '服务配置的 api 部分有误，请按提示修改配置文件。', description: 'The api section of the daemon config is invalid; the message says which field and why.' },
  INTERNAL: { kind: 'internal', zh: '服务内部错误，请查看日志。', description: 'An unexpected error inside the daemon; the log has the details (without cardholder data).' },
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
