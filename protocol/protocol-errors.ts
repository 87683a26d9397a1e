// Typed errors of the protocol leaf: what the host or device session raises itself (link, framing,
// message validation, timeouts, secure channel). Errors a device returns on the wire are DeviceError
// (device-error.ts). Messages never carry APDUs, cardholder data or keys.
import { defineErrorCodes } from '../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../common/yika-error.ts';

export const ProtocolErrorCode = defineErrorCodes('protocol', {
  LINK_CLOSED: { kind: 'unavailable', zh: '与读卡器的连接已断开（拔出、端口关闭），请检查读卡器连接。', description: 'The link to the reader closed (unplugged, port closed, peer gone); every pending request fails with this code. Reconnect the reader.' },
  PROTOCOL_TIMEOUT: { kind: 'timeout', zh: '读卡器响应超时。', description: 'The reader did not answer a request within its timeout. The request may still complete on the device.' },
  PROTOCOL_CANCELLED: { kind: 'conflict', zh: '请求已被取消。', description: 'The caller cancelled the request (AbortSignal) before the answer arrived.' },
  PROTOCOL_QUEUE_FULL: { kind: 'rate_limited', zh: '等待该读卡器的请求过多，请稍后重试。', description: 'Too many requests are waiting for this reader; retry later.' },
  PROTOCOL_BAD_MESSAGE: { kind: 'unavailable', zh: '读卡器协议消息格式错误。', description: 'A message on the wire is not valid protocol v1 (missing or wrongly typed field, value out of range).' },
  PROTOCOL_BAD_FRAME: { kind: 'bad_request', zh: '无法构建数据帧（内容为空或超过最大长度）。', description: 'A frame cannot be built: the payload is empty or larger than the negotiated maximum.' },
  PROTOCOL_PEER_DEAD: { kind: 'unavailable', zh: '读卡器停止响应，连接已关闭。', description: 'The reader stopped answering keepalive pings; the session was closed.' },
  PROTOCOL_INCOMPATIBLE: { kind: 'unavailable', zh: '读卡器的协议版本与本服务不兼容。', description: 'The reader speaks no protocol version this host supports, or its hello is unusable.' },
  SECURE_CHANNEL_UNSUPPORTED: { kind: 'unavailable', description: "The host policy requires the SM secure channel but the reader does not support it. Use a reader that does, or set the device's secure policy to 'preferred' or 'off'.", zh: '主机策略要求 SM 安全通道，但读卡器不支持安全通道。请更换支持的读卡器，或把该设备的安全策略设为 preferred 或 off。' },
  SECURE_CHANNEL_NO_TRUST: { kind: 'unavailable', description: 'The secure channel is needed (host policy or device says required) but no trusted vendor CA is configured for this reader (devices.vendorCas). The TEST-ONLY CA is never trusted for a real device.', zh: '需要安全通道（主机策略或读卡器要求），但未为该读卡器配置可信的厂商 CA（devices.vendorCas）。测试 CA 永远不会用于真实设备。' },
  SECURE_CHANNEL_REJECTED: { kind: 'unavailable', zh: '安全通道数据校验失败（被篡改、重放或乱序），连接已关闭。', description: 'A secure-channel record failed its check (tampered, replayed, reordered or truncated); the channel and the session were closed.' },
  DEVICE_UNTRUSTED: { kind: 'forbidden', description: "The reader's certificate is not signed by a trusted vendor CA, is expired, or the reader failed to prove its key. Add the vendor CA public key to the daemon config only if you trust this vendor.", zh: '读卡器证书不是由可信厂商 CA 签发、已过期，或读卡器未能证明其密钥。只有在信任该厂商时，才把其 CA 公钥加入守护进程配置。' },
});
export type ProtocolErrorCode = keyof typeof ProtocolErrorCode;

export class ProtocolError extends YikaError {
  declare readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

/** The link closed: every pending request fails with this. */
export class LinkClosedError extends ProtocolError {
  constructor(message = 'The link to the reader closed', details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super('LINK_CLOSED', message, details, options);
  }
}

/** A received message broke a rule of the wire format; `field` names what was wrong. */
export class BadMessageError extends ProtocolError {
  constructor(message: string, details?: YikaErrorDetails) {
    super('PROTOCOL_BAD_MESSAGE', message, details);
  }
}
