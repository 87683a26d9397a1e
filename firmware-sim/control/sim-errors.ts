// Errors of the simulator's own surfaces (CLI flags, scenario files, control commands, transports).
// Errors of reader operations are DeviceError (protocol/device-error.ts), not these.
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const SimErrorCode = defineErrorCodes('firmware-sim', {
  SIM_BAD_OPTION: { kind: 'bad_request', zh: '模拟器参数缺失、未知或超出范围。', description: 'A yika-sim flag or an option of createSimulator is missing, unknown or out of range. Run `yika-sim --help`.' },
  SIM_BAD_COMMAND: { kind: 'bad_request', zh: '模拟器控制命令格式错误。', description: 'A control command or scenario step is malformed (unknown command, missing or invalid argument). See SIMULATOR.md.' },
  SIM_SCENARIO_INVALID: { kind: 'bad_request', zh: '模拟器场景文件无法读取或解析。', description: 'A scenario file cannot be read or parsed (JSON or YAML list of steps). See SIMULATOR.md.' },
  SIM_TRANSPORT_FAILED: { kind: 'unavailable', zh: '模拟器无法打开通信端口。', description: 'The simulator could not open its transport (PTY path, TCP port, vpcd address). Check that socat/pcscd runs and the path or port is right.' },
  SIM_EXPECTATION_FAILED: { kind: 'conflict', zh: '场景中的 expect 检查未通过。', description: 'An expect step of a scenario did not hold (slot state, event, APDU answer or QR verdict); the message says what was expected and what was found.' },
  SIM_CARDS_UNAVAILABLE: { kind: 'unavailable', zh: '此版本不提供所请求的模拟卡类型。', description: 'The requested simulated card kind is not available in this build.' },
});
export type SimErrorCode = keyof typeof SimErrorCode;

export class SimError extends YikaError {
  declare readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}
