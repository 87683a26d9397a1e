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

// Register each name once. BAD_REQUEST and INTERNAL are generic names the daemon's API layer also
// declares (with the same kinds); the catalogue keeps whichever module loaded first.
for (const name of Object.keys(DEVICE_ERRORS) as DeviceErrorName[]) {
  if (name === 'BAD_REQUEST' || name === 'INTERNAL' || errorCodeInfo(name)) continue;
  defineErrorCodes('protocol/device', { [name]: { kind: DEVICE_ERROR_KINDS[name], description: `${DEVICE_ERRORS[name].meaning} ${DEVICE_ERRORS[name].host}` } });
}

const NAME_BY_WIRE = new Map<number, DeviceErrorName>(
  (Object.keys(DEVICE_ERRORS) as DeviceErrorName[]).map((name) => [DEVICE_ERRORS[name].wire, name]),
);

/** Wire number → name; an unknown number (a newer device) maps to INTERNAL. */
export function deviceErrorName(wire: number): DeviceErrorName | undefined {
  return NAME_BY_WIRE.get(wire);
}

export function deviceErrorWire(name: DeviceErrorName): number {
  return DEVICE_ERRORS[name].wire;
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

export function isDeviceError(e: unknown): e is DeviceError {
  return e instanceof DeviceError;
}
