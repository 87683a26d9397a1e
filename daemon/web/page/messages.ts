// Errors and results in the page's language. The Chinese page never shows an English code: an error
// shows its messageZh, else the daemon's catalogue text of its code (GET /v1/errors, loaded on every
// connect: codes that arrive without a body, such as a reader.health detail), else a generic text.
import type { QrResultCode } from './api-shapes.ts';
import type { PageError } from './api.ts';
import { currentLang, t } from './i18n.ts';
import { qrZh, warnEn, warnZh } from './texts.ts';

// code → Chinese text; the page's own codes are here from the start.
const errorsZh: Record<string, string> = { DAEMON_UNREACHABLE: '无法连接 Yika 服务，请确认 yikad 正在运行。' };

export function setErrorCatalog(list: ReadonlyArray<{ code: string; messageZh: string }>): void {
  for (const e of list) errorsZh[e.code] = e.messageZh;
}

/** The text of an error {code, message, messageZh} in the page's language. */
export function errorText(err: Pick<PageError, 'code' | 'message' | 'messageZh'> | null | undefined): string {
  if (!err) return '';
  if (currentLang() === 'zh') return err.messageZh || errorsZh[err.code] || t('error.unknown');
  return err.message || err.code || t('error.unknown');
}

/** A detail string of an event ("CARD_MUTE: …"): in Chinese, the catalogue's text of its leading code, or nothing. */
export function detailText(detail: string | undefined): string {
  if (!detail) return '';
  if (currentLang() !== 'zh') return detail;
  const m = /^([A-Z][A-Z0-9_]+)\b/.exec(detail);
  return m && errorsZh[m[1]] ? errorsZh[m[1]] : '';
}

/** A QR result code's message: the page's Chinese, or the daemon's English. */
export function qrMessage(code: QrResultCode, fallback: string | undefined): string {
  return currentLang() === 'zh' ? qrZh[code] || t('error.unknown') : fallback || code;
}

export function warningText(code: string): string {
  return (currentLang() === 'zh' ? warnZh : warnEn)[code] || code;
}
