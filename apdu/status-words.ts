// Status words → stable codes and messages (ISO/IEC 7816-4 §5.6 interindustry values), and the error
// a command raises when the card refuses it: CardStatusError carries the SW.

import { defineErrorCodes } from '../common/error-catalog.ts';
import { YikaError } from '../common/yika-error.ts';
import { swHex } from './response-apdu.ts';

export const StatusWordCode = defineErrorCodes('apdu', {
  SW_WARNING: { kind: 'unprocessable', zh: '卡片返回了警告状态（62xx/63xx）。', description: 'The card answered a warning (62xx/63xx) where success was required.' },
  SW_VERIFICATION_FAILED: { kind: 'unprocessable', zh: '校验或认证失败（63Cx）。', description: 'Verification or authentication failed (63Cx); details.triesLeft gives the remaining attempts.' },
  SW_MEMORY_ERROR: { kind: 'unprocessable', zh: '卡片存储执行错误（64xx/65xx）。', description: 'The card reports an execution error (64xx/65xx): memory failure or state unchanged.' },
  SW_WRONG_LENGTH: { kind: 'bad_request', zh: '命令长度错误（6700/6Cxx）。', description: 'Wrong length (6700) or wrong Le (6Cxx).' },
  SW_FUNCTION_NOT_SUPPORTED: { kind: 'unprocessable', zh: '卡片不支持该功能（68xx）。', description: 'Function in CLA not supported (68xx).' },
  SW_COMMAND_INCOMPATIBLE: { kind: 'unprocessable', zh: '命令与文件结构不兼容（6981）。', description: 'Command incompatible with the file structure (6981).' },
  SW_SECURITY_NOT_SATISFIED: { kind: 'forbidden', zh: '安全状态不满足，需要先认证（6982）。', description: 'Security status not satisfied (6982): authenticate first.' },
  SW_AUTH_BLOCKED: { kind: 'unprocessable', zh: '卡片认证方式已锁定（6983）。', description: 'Authentication method blocked (6983).' },
  SW_DATA_INVALIDATED: { kind: 'unprocessable', zh: '引用的数据已失效（6984）。', description: 'Referenced data invalidated (6984).' },
  SW_CONDITIONS_NOT_SATISFIED: { kind: 'conflict', zh: '卡片使用条件不满足（6985）。', description: 'Conditions of use not satisfied (6985), e.g. no challenge before authentication.' },
  SW_COMMAND_NOT_ALLOWED: { kind: 'unprocessable', zh: '卡片不允许该命令（69xx）。', description: 'Command not allowed (6986: no current EF; 69xx).' },
  SW_SM_ERROR: { kind: 'unprocessable', zh: '安全报文数据缺失或错误（6987/6988）。', description: 'Secure messaging data objects missing or incorrect (6987/6988).' },
  SW_WRONG_DATA: { kind: 'bad_request', zh: '命令数据参数错误（6A80）。', description: 'Incorrect parameters in the data field (6A80).' },
  SW_FILE_NOT_FOUND: { kind: 'not_found', zh: '卡内没有该文件或应用（6A82）。', description: 'File or application not found (6A82).' },
  SW_RECORD_NOT_FOUND: { kind: 'not_found', zh: '卡内没有该记录（6A83）。', description: 'Record not found (6A83).' },
  SW_NOT_ENOUGH_MEMORY: { kind: 'unprocessable', zh: '卡内文件空间不足（6A84）。', description: 'Not enough memory space in the file (6A84).' },
  SW_WRONG_P1P2: { kind: 'bad_request', zh: '命令参数 P1-P2 错误（6A86/6B00/6A81）。', description: 'Incorrect parameters P1-P2 (6A86/6B00) or function not supported (6A81).' },
  SW_REFERENCED_DATA_NOT_FOUND: { kind: 'not_found', zh: '卡内没有引用的数据或密钥（6A88）。', description: 'Referenced data (a key) not found (6A88).' },
  SW_INS_NOT_SUPPORTED: { kind: 'unprocessable', zh: '卡片不支持该指令（6D00）。', description: 'Instruction not supported (6D00).' },
  SW_CLA_NOT_SUPPORTED: { kind: 'unprocessable', zh: '卡片不支持该命令类别（6E00）。', description: 'Class not supported (6E00).' },
  SW_NO_DIAGNOSIS: { kind: 'unprocessable', zh: '卡片返回了无法识别的状态（6F00）。', description: 'No precise diagnosis (6F00) or an unknown status word.' },
});

export type StatusWordCodeName = keyof typeof StatusWordCode;

export interface StatusWordInfo {
  code: StatusWordCodeName | 'SW_OK' | 'SW_MORE_DATA';
  message: string;
}

const EXACT: Readonly<Record<number, StatusWordInfo>> = {
  0x9000: { code: 'SW_OK', message: 'Success' },
  0x6281: { code: 'SW_WARNING', message: 'Part of returned data may be corrupted' },
  0x6282: { code: 'SW_WARNING', message: 'End of file or record reached before reading Ne bytes' },
  0x6283: { code: 'SW_WARNING', message: 'Selected file deactivated' },
  0x6284: { code: 'SW_WARNING', message: 'File control information not formatted' },
  0x6300: { code: 'SW_VERIFICATION_FAILED', message: 'Verification failed' },
  0x6581: { code: 'SW_MEMORY_ERROR', message: 'Memory failure' },
  0x6700: { code: 'SW_WRONG_LENGTH', message: 'Wrong length' },
  0x6881: { code: 'SW_FUNCTION_NOT_SUPPORTED', message: 'Logical channel not supported' },
  0x6882: { code: 'SW_FUNCTION_NOT_SUPPORTED', message: 'Secure messaging not supported' },
  0x6981: { code: 'SW_COMMAND_INCOMPATIBLE', message: 'Command incompatible with file structure' },
  0x6982: { code: 'SW_SECURITY_NOT_SATISFIED', message: 'Security status not satisfied' },
  0x6983: { code: 'SW_AUTH_BLOCKED', message: 'Authentication method blocked' },
  0x6984: { code: 'SW_DATA_INVALIDATED', message: 'Referenced data invalidated' },
  0x6985: { code: 'SW_CONDITIONS_NOT_SATISFIED', message: 'Conditions of use not satisfied' },
  0x6986: { code: 'SW_COMMAND_NOT_ALLOWED', message: 'Command not allowed (no current EF)' },
  0x6987: { code: 'SW_SM_ERROR', message: 'Expected secure messaging data objects missing' },
  0x6988: { code: 'SW_SM_ERROR', message: 'Incorrect secure messaging data objects' },
  0x6a80: { code: 'SW_WRONG_DATA', message: 'Incorrect parameters in the command data field' },
  0x6a81: { code: 'SW_WRONG_P1P2', message: 'Function not supported' },
  0x6a82: { code: 'SW_FILE_NOT_FOUND', message: 'File or application not found' },
  0x6a83: { code: 'SW_RECORD_NOT_FOUND', message: 'Record not found' },
  0x6a84: { code: 'SW_NOT_ENOUGH_MEMORY', message: 'Not enough memory space in the file' },
  0x6a86: { code: 'SW_WRONG_P1P2', message: 'Incorrect parameters P1-P2' },
  0x6a88: { code: 'SW_REFERENCED_DATA_NOT_FOUND', message: 'Referenced data or key not found' },
  0x6b00: { code: 'SW_WRONG_P1P2', message: 'Wrong parameters P1-P2 (offset outside the EF)' },
  0x6d00: { code: 'SW_INS_NOT_SUPPORTED', message: 'Instruction code not supported or invalid' },
  0x6e00: { code: 'SW_CLA_NOT_SUPPORTED', message: 'Class not supported' },
  0x6f00: { code: 'SW_NO_DIAGNOSIS', message: 'No precise diagnosis' },
};

/** Code and message of a status word, including the parameterised families 61xx, 6Cxx, 63Cx. */
export function describeStatusWord(sw: number): StatusWordInfo {
  const exact = EXACT[sw];
  if (exact) return exact;
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61) return { code: 'SW_MORE_DATA', message: `${sw2 === 0 ? 256 : sw2} response bytes still available` };
  if (sw1 === 0x6c) return { code: 'SW_WRONG_LENGTH', message: `Wrong Le; ${sw2 === 0 ? 256 : sw2} bytes available` };
  if ((sw & 0xfff0) === 0x63c0) return { code: 'SW_VERIFICATION_FAILED', message: `Verification failed, ${sw & 0x0f} tries left` };
  if (sw1 === 0x62 || sw1 === 0x63) return { code: 'SW_WARNING', message: 'Warning' };
  if (sw1 === 0x64 || sw1 === 0x65) return { code: 'SW_MEMORY_ERROR', message: 'Execution error' };
  if (sw1 === 0x68) return { code: 'SW_FUNCTION_NOT_SUPPORTED', message: 'Function in CLA not supported' };
  if (sw1 === 0x69) return { code: 'SW_COMMAND_NOT_ALLOWED', message: 'Command not allowed' };
  if (sw1 === 0x6a) return { code: 'SW_WRONG_P1P2', message: 'Wrong parameters P1-P2' };
  return { code: 'SW_NO_DIAGNOSIS', message: 'Unknown status word' };
}

/** 63Cx → x; otherwise undefined. */
export function triesLeft(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}

export function isSuccess(sw: number): boolean {
  return sw === 0x9000;
}

/** The card refused a command. `sw` is the status word; `command` names the command (never its data). */
export class CardStatusError extends YikaError {
  readonly sw: number;

  constructor(sw: number, command?: string) {
    const info = describeStatusWord(sw);
    const code = info.code === 'SW_OK' || info.code === 'SW_MORE_DATA' ? 'SW_NO_DIAGNOSIS' : info.code;
    const tries = triesLeft(sw);
    super(code, `${command ? `${command}: ` : ''}${info.message} (SW ${swHex(sw)})`, {
      sw: swHex(sw),
      ...(command ? { command } : {}),
      ...(tries !== undefined ? { triesLeft: tries } : {}),
    });
    this.sw = sw;
  }
}
