// Typed errors of the ISO 7816-4 layer (format errors of APDUs, ATRs and TLVs, decorator limits,
// replay mismatches). Card status words have their own error (status-words.ts).

import { defineErrorCodes } from '../common/error-catalog.ts';
import { YikaError } from '../common/yika-error.ts';

export const ApduErrorCode = defineErrorCodes('apdu', {
  APDU_TOO_SHORT: { kind: 'bad_request', zh: 'APDU 过短：命令至少 4 字节，响应至少 2 字节。', description: 'A command APDU needs at least 4 bytes, a response APDU at least 2.' },
  APDU_WRONG_LC: { kind: 'bad_request', zh: 'APDU 的 Lc 与命令实际长度不符。', description: 'The Lc byte(s) do not match the length of the command.' },
  APDU_TRUNCATED: { kind: 'bad_request', zh: 'APDU 命令数据比 Lc 声明的短。', description: 'The command ends before the data announced by Lc.' },
  APDU_LE_OUT_OF_RANGE: { kind: 'bad_request', zh: 'APDU 的 Le 超出范围（短格式 1–256，扩展格式 1–65536）。', description: 'Ne is out of range (short: 1–256, extended: 1–65536).' },
  APDU_DATA_TOO_LONG: { kind: 'bad_request', zh: 'APDU 命令数据过长（短格式最多 255 字节，扩展格式最多 65535 字节）。', description: 'The command data is too long for the encoding (short: 255, extended: 65535).' },
  APDU_EXTENDED_SHORT_MIX: { kind: 'bad_request', zh: 'APDU 的 Lc 与 Le 混用了扩展格式和短格式。', description: 'An extended Lc is followed by a short Le (or the reverse).' },
  APDU_BAD_HEADER: { kind: 'bad_request', zh: 'APDU 命令头字节超出范围（CLA FF 保留给 PPS）。', description: 'A header byte is out of range (CLA FF is reserved for PPS).' },
  ATR_MALFORMED: { kind: 'unprocessable', zh: '卡片复位应答（ATR）不完整或格式错误，请重新插卡。', description: 'The answer to reset is truncated, too long or starts with a bad TS.' },
  ATR_TCK_MISMATCH: { kind: 'unprocessable', zh: '卡片复位应答（ATR）的校验字节错误，请重新插卡。', description: 'The ATR check byte TCK is wrong.' },
  TLV_MALFORMED: { kind: 'unprocessable', zh: 'TLV 数据不完整或标签、长度错误。', description: 'TLV data is truncated, has a bad tag or length, or nests too deeply.' },
  GET_RESPONSE_LIMIT: { kind: 'unprocessable', zh: '卡片持续返回 61xx，超过取响应次数上限。', description: 'The card kept answering 61xx past the GET RESPONSE round limit (32).' },
  BATCH_RESPONSE_LOST: { kind: 'unavailable', zh: '读卡器固件在批量命令中丢失了响应数据，请升级读卡器固件或关闭批量传输。', description: 'The reader ran the next command of a batch after a 61xx/6Cxx answer, so that answer\'s data is lost (its firmware breaks the PROTOCOL.md transmitBatch rule): update the firmware, or turn batching off for it in the device table.' },
  REPLAY_MISMATCH: { kind: 'internal', zh: '回放记录中的命令与实际发送的不一致。', description: 'A replayed transcript expected another command than the one sent.' },
  REPLAY_EXHAUSTED: { kind: 'internal', zh: '回放记录已用完。', description: 'A replayed transcript has no more exchanges.' },
  TRACE_MALFORMED: { kind: 'bad_request', zh: 'APDU 跟踪行格式错误。', description: 'A trace line is not `A>> hex` / `A<< hex`.' },
});

export type ApduErrorCodeName = keyof typeof ApduErrorCode;

export class ApduFormatError extends YikaError {
  constructor(code: ApduErrorCodeName, message: string, details?: YikaError['details']) {
    super(code, message, details);
  }
}

/** Errors of the channel decorators and the replay channel. */
export class ChannelError extends YikaError {
  constructor(code: ApduErrorCodeName, message: string, details?: YikaError['details']) {
    super(code, message, details);
  }
}
