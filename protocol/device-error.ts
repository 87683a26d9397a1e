// The errors a device returns on the wire: code = a DEVICE_ERRORS name (e.g. CARD_REMOVED), wire = its
// number. The firmware throws them from its ReaderOperations handler; the device session sends the
// wire number; the host session raises the same DeviceError again.
import { defineErrorCodes, errorCodeInfo, type ErrorKind } from '../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../common/yika-error.ts';
import { DEVICE_ERRORS, type DeviceErrorName } from './operations.ts';

/** How each device error maps to an HTTP-ish kind (the daemon turns kinds into statuses). */
const DEVICE_ERROR_KINDS: Record<DeviceErrorName, ErrorKind> = {
  BAD_REQUEST: 'bad_request',
  UNKNOWN_OPERATION: 'unprocessable',
  UNSUPPORTED_VERSION: 'unavailable',
  NOT_READY: 'unavailable',
  BUSY: 'conflict',
  BAD_SLOT: 'not_found',
  NO_CARD: 'conflict',
  CARD_NOT_POWERED: 'conflict',
  CARD_REMOVED: 'conflict',
  CARD_MUTE: 'unprocessable',
  CARD_PROTOCOL_ERROR: 'unprocessable',
  APDU_TOO_LONG: 'too_large',
  BATCH_TOO_LONG: 'bad_request',
  FRAME_TOO_LARGE: 'too_large',
  SECURE_CHANNEL_REQUIRED: 'forbidden',
  SECURE_CHANNEL_FAILED: 'unavailable',
  HOST_NOT_PAIRED: 'forbidden',
  INTERNAL: 'internal',
};

/** Chinese text of each device error (the catalogue's zh; BAD_REQUEST/INTERNAL as the API's). */
const DEVICE_ERROR_ZH: Record<DeviceErrorName, string> = {
  BAD_REQUEST: '请求格式错误或参数不符合要求。',
  UNKNOWN_OPERATION: '读卡器不支持此操作。',
  UNSUPPORTED_VERSION: '读卡器与本服务没有共同的协议版本，该设备不兼容。',
  NOT_READY: '读卡器尚未就绪，请稍后重试。',
  BUSY: '读卡器正忙，请稍后重试。',
  BAD_SLOT: '读卡器没有这个卡槽。',
  NO_CARD: '卡槽中没有卡，请插入健康卡。',
  CARD_NOT_POWERED: '卡片未上电，请重新插卡后重试。',
  CARD_REMOVED: '操作过程中卡被拔出，请重新插卡。',
  CARD_MUTE: '卡片无响应，请取出后重新插入；仍无响应则卡片可能已损坏。',
  CARD_PROTOCOL_ERROR: '读卡器与卡片通信出错，请重新插卡后重试。',
  APDU_TOO_LONG: 'APDU 超出读卡器或卡片可接受的长度，请使用短 APDU 或分段发送。',
  BATCH_TOO_LONG: '批量命令数量超过读卡器上限，请拆分后重试。',
  FRAME_TOO_LARGE: '数据帧超过协商的最大长度。',
  SECURE_CHANNEL_REQUIRED: '读卡器要求先建立安全通道。',
  SECURE_CHANNEL_FAILED: '安全通道建立或校验失败，通道已关闭。',
  HOST_NOT_PAIRED: '读卡器只接受已配对的主机，本机尚未与其配对。',
  INTERNAL: '服务内部错误，请查看日志。',
};

// Register each name once. BAD_REQUEST and INTERNAL are generic names the daemon's API layer also
// declares (with the same kinds); the catalogue keeps whichever module loaded first.
for (const name of Object.keys(DEVICE_ERRORS) as DeviceErrorName[]) {
  if (name === 'BAD_REQUEST' || name === 'INTERNAL' || errorCodeInfo(name)) continue;
  defineErrorCodes('protocol/device', { [name]: { kind: DEVICE_ERROR_KINDS[name], zh: DEVICE_ERROR_ZH[name], description: `${DEVICE_ERRORS[name].meaning} ${DEVICE_ERRORS[name].host}` } });
}

const NAME_BY_WIRE = new Map<number, DeviceErrorName>(
  (Object.keys(DEVICE_ERRORS) as DeviceErrorName[]).map((name) => [DEVICE_ERRORS[name].wire, name]),
);

/** Wire number → name; an unknown number (a newer device) maps to INTERNAL. */
export function deviceErrorName(wire: number): DeviceErrorName | undefined {
  return NAME_BY_WIRE.get(wire);
}

export function isDeviceErrorName(code: unknown): code is DeviceErrorName {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(DEVICE_ERRORS, code);
}

export class DeviceError extends YikaError {
  declare readonly code: DeviceErrorName;
  /** The number on the wire. */
  readonly wire: number;

  constructor(code: DeviceErrorName, message?: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message ?? DEVICE_ERRORS[code].meaning, details, options);
    this.wire = DEVICE_ERRORS[code].wire;
  }

  /** The error a host raises for a wire error; unknown numbers become INTERNAL with details.wire. */
  static fromWire(wire: number, message: string | undefined, details?: YikaErrorDetails): DeviceError {
    const name = deviceErrorName(wire);
    if (!name) return new DeviceError('INTERNAL', message ?? 'The device returned an unknown error code', { ...details, wire });
    return new DeviceError(name, message || DEVICE_ERRORS[name].meaning, details);
  }
}
