// The one place where the simulated reader raises a protocol error: a DeviceError with one of
// DEVICE_ERRORS, which the device session sends to the host unchanged.
import { DeviceError } from '../../protocol/device-error.ts';
import type { DeviceErrorName } from '../../protocol/operations.ts';

export function deviceFailure(name: DeviceErrorName, message: string): DeviceError {
  return new DeviceError(name, message);
}
