// The charsets of the pipe format (`format=pipe&charset=…`): many HIS databases and the vendor DLLs
// they replaced speak GBK or GB 18030, not UTF-8. One table for the card's text (apdu/healthcard's
// GB 18030-2022 codec) so what the HIS receives is byte for byte what the card holds.
//   utf-8    the default
//   gbk      one or two bytes per character; a character without a GBK code (a four-byte GB 18030
//            name written by another vendor) is refused with PIPE_CHARSET_UNENCODABLE, never a '?'
//   gb18030  every character (four-byte codes included)
import iconv from 'iconv-lite';
import { encodeCardText } from '../../apdu/healthcard/index.ts';
import { apiError } from './api-errors.ts';
import type { PIPE_CHARSETS } from './schemas/health-card.ts';

export type PipeCharset = (typeof PIPE_CHARSETS)[number];

/** The Content-Type of a pipe answer in this charset (IANA names). */
export function pipeContentType(charset: PipeCharset): string {
  return `text/plain; charset=${charset === 'utf-8' ? 'utf-8' : charset === 'gbk' ? 'GBK' : 'GB18030'}`;
}

export function encodePipe(text: string, charset: PipeCharset): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8');
  const parts: Uint8Array[] = [];
  let index = 0;
  for (const ch of text) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = encodeCardText(ch);
    } catch {
      // Not a one- or two-byte character: GB 18030 has a four-byte code for every other code point.
      if (charset === 'gb18030') bytes = iconv.encode(ch, 'gb18030');
    }
    if (!bytes) {
      const cp = ch.codePointAt(0)!;
      throw apiError('PIPE_CHARSET_UNENCODABLE', `character ${index + 1} of the answer (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) has no GBK code: ask for charset=gb18030`, {
        codePoint: `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`,
        index,
      });
    }
    parts.push(bytes);
    index++;
  }
  return Buffer.concat(parts);
}
