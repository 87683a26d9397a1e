// Errors of the reader model. Device-level errors (NO_CARD, CARD_REMOVED, CARD_MUTE …) come from
// protocol/ (DeviceError); these are the daemon's own.
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const READER_ERRORS = defineErrorCodes('daemon/readers', {
  READER_NOT_FOUND: { kind: 'not_found', zh: '没有这个读卡器。', description: 'No reader with this id. List the readers with GET /v1/readers (or `yika readers`).' },
  READER_BUSY: { kind: 'conflict', zh: '读卡器长时间被其他请求占用，请稍后重试。', description: 'The reader stayed busy with other requests longer than the lock timeout. Retry; raise readers.lockTimeoutMs if it happens often.' },
  READER_OFFLINE: { kind: 'unavailable', zh: '读卡器已断开（拔出、pcscd 停止或连接错误），服务会自动重连，请检查连线。', description: 'The reader is known but disconnected (unplugged, pcscd stopped, link error). The daemon reconnects by itself; check the cable.' },
  SLOT_NOT_FOUND: { kind: 'not_found', zh: '读卡器没有这个卡槽。', description: 'The reader has no such slot. Slots are listed in GET /v1/readers/:id.' },
  CARD_CHANGED: { kind: 'conflict', zh: '操作过程中卡被拔出或更换，未返回任何数据。请重新插卡后重试。', description: 'The card was removed or replaced during the operation; nothing of it is returned. Insert the card and retry.' },
  LEASE_NOT_FOUND: { kind: 'conflict', zh: '没有该令牌对应的读卡器租约（已释放或超时），请重新申请。', description: 'No active lease with this token: it was released, or it expired because no request used it for its idle time. Acquire a new lease; the card state may have changed meanwhile.' },
  APDU_INVALID: { kind: 'bad_request', zh: '请求中的 APDU 不是有效的十六进制，或短于 4 字节。', description: 'An APDU in the request is not valid hex or is shorter than 4 bytes.' },
});

export class ReaderError extends YikaError {
  constructor(code: keyof typeof READER_ERRORS, message: string, details?: YikaErrorDetails) {
    super(code, message, details);
  }
}
