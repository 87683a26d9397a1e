// Typed errors of the health-card layer. Messages never carry cardholder data, PINs or keys: they name
// the item number, the file and the status word only.

import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError, type YikaErrorDetails } from '../../common/yika-error.ts';

export const HealthCardErrorCode = defineErrorCodes('healthcard', {
  ITEM_VALUE_TOO_LONG: { kind: 'bad_request', zh: '数据项取值超过允许的长度。', description: 'A value is longer than its data item allows.' },
  ITEM_VALUE_BAD_LENGTH: { kind: 'bad_request', zh: '二进制数据项的长度不符合规定。', description: 'A binary (b) value must have exactly the item length.' },
  ITEM_VALUE_BAD_DIGIT: { kind: 'bad_request', zh: '数字型数据项中含有 0–9 以外的字符。', description: 'A numeric (cn) value contains something other than the digits 0–9.' },
  ITEM_VALUE_BAD_HEX: { kind: 'bad_request', zh: '二进制数据项不是偶数长度的十六进制字符串。', description: 'A binary (b) value is not an even-length hexadecimal string.' },
  ITEM_VALUE_NOT_GBK: { kind: 'bad_request', zh: '文本中含有无法按卡片字符集编码的字符。', description: 'A text (an) value contains a character without a GBK (one- or two-byte GB 18030) code, a private-use code point or NUL; details.codePoint names it (e.g. U+20000) and details.index its position. See docs/HEALTHCARD-SECURITY.md.' },
  PHOTO_NOT_JPEG: { kind: 'bad_request', zh: '照片不是 JPEG 文件，未写入任何内容。', description: 'The photo is not a JPEG file (it must start with the SOI marker FF D8 FF and end with EOI FF D9); nothing was written.' },
  ITEM_VALUE_INVALID: { kind: 'bad_request', zh: '数据项取值不符合代码表或校验规则（性别、日期、身份证校验位、地区代码等）。', description: 'A value fails its code table or check (sex, date, ID check digit, city code …).' },
  UNKNOWN_ITEM: { kind: 'bad_request', zh: '没有这个数据项编号或文件。', description: 'No such data item number (valid: 1–384) or file.' },
  CARD_DATA_MALFORMED: { kind: 'unprocessable', zh: '卡内数据格式错误，无法解析。', description: 'The card returned data that does not decode (bad BCD, bad GBK, wrong TLV tag or length).' },
  NOT_A_HEALTH_CARD: { kind: 'unprocessable', zh: '这不是居民健康卡，请插入居民健康卡。', description: 'The card has no DDF1 named WS.SYS.DDF01 (for example a transit card).' },
  CARD_READ_FAILED: { kind: 'unprocessable', zh: '读取健康卡文件失败，未返回任何数据。', description: 'Reading a file of the health card failed; nothing of that read is returned.' },
  RECORD_INVALID: { kind: 'not_found', zh: '该就诊记录为空。', description: 'The visit record is marked empty by its DF03 index flag (vendor code 112).' },
  CARD8_UNKNOWN: { kind: 'bad_request', zh: '缺少卡片复位信息（card8），无法授权。', description: 'Authorisation needs card8: pass the ATR (or card8) the card answered at power-on.' },
  NO_SAM: { kind: 'conflict', zh: '需要 SAM 卡授权，但没有可用的 SAM 卡。', description: 'The operation needs a SAM but none was given or powered.' },
  SAM_PIN_WRONG: { kind: 'unprocessable', zh: 'SAM 卡 PIN 错误。', description: 'The SAM refused the PIN; details.triesLeft says how many attempts remain.' },
  SAM_PIN_BLOCKED: { kind: 'unprocessable', zh: 'SAM 卡 PIN 已锁定，需由发卡机构解锁。', description: 'The SAM PIN is blocked; the SAM must be unblocked by its issuer.' },
  SAM_KEY_NOT_FOUND: { kind: 'unprocessable', zh: 'SAM 卡中没有所需的密钥。', description: 'The SAM holds no key at the requested index (6A88).' },
  SAM_FAILED: { kind: 'unprocessable', zh: 'SAM 卡返回了异常状态。', description: 'The SAM answered an unexpected status word.' },
  CARD_AUTH_FAILED: { kind: 'unprocessable', zh: '卡片外部认证失败。', description: 'The card refused EXTERNAL AUTHENTICATE; details.triesLeft says how many attempts remain.' },
  CARD_KEY_BLOCKED: { kind: 'unprocessable', zh: '卡片密钥因多次认证失败已被锁定。', description: 'The card key is blocked (6983) after too many failed authentications.' },
  CARD_FROM_OTHER_PROVINCE: { kind: 'unprocessable', zh: '这张卡由外省发行，本机 SAM 卡无法授权读取。', description: "The card's city code is in another province than the SAM serves; the SAM cannot authorise it." },
  CARD_WRITE_FAILED: { kind: 'unprocessable', zh: '卡片拒绝了写入命令。', description: 'A write command was refused by the card.' },
  PARTIAL_WRITE: { kind: 'unprocessable', zh: '写卡中途停止，部分内容可能已写入。请先读卡核对，再只补写缺少的部分。', description: 'A write stopped midway. details place every unit of the request in written (acknowledged by the card), uncertain (sent but unanswered, e.g. the card was pulled out: it may or may not be on the card) or notWritten. Read the card back before retrying, and retry only what is missing: a retried allergy or immunisation append (or a visit written to another slot) adds a duplicate if the uncertain one was applied.' },
});

export type HealthCardErrorCodeName = keyof typeof HealthCardErrorCode;

export class HealthCardError extends YikaError {
  constructor(code: HealthCardErrorCodeName, message: string, details?: YikaErrorDetails, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

/** A value failed encoding or validation; `itemNo` is set when the item is known. */
export class ItemValueError extends HealthCardError {}
