// Typed errors of profile loading. Messages name the field path and the reason, never the value
// (profiles hold cardholder data, even if synthetic).
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const ProfileErrorCode = defineErrorCodes('firmware-sim/personalisation', {
  PROFILE_NOT_FOUND: { kind: 'not_found', zh: '模拟卡配置文件不存在或无法读取。', description: 'The profile file does not exist or cannot be read.' },
  PROFILE_NOT_JSON: { kind: 'bad_request', zh: '模拟卡配置文件不是有效的 JSON。', description: 'The profile file is not valid JSON.' },
  PROFILE_INVALID: { kind: 'bad_request', zh: '模拟卡配置文件不符合格式要求。', description: 'The profile does not match the schema; details.path names the field and details.reason why.' },
});

export type ProfileErrorCodeName = keyof typeof ProfileErrorCode;

export class ProfileError extends YikaError {
  constructor(code: ProfileErrorCodeName, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}
