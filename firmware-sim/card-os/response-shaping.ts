// How a handler's data reaches the host, per transmission protocol (ISO/IEC 7816-3 §12.2 and 7816-4 §5.3):
// T=0 case 2 returns data only when Le is exact (else 6Cxx); a T=0 command carrying data (case 3/4)
// answers 61xx and keeps the data for GET RESPONSE. T=1 and extended APDUs return data directly.
import type { CommandApdu } from './command-apdu.ts';
import type { CardResponse } from './command-table.ts';
import { SW } from './status-words.ts';

export interface PendingResponse {
  data: Uint8Array;
  /** The status word to give once the last byte has been fetched. */
  sw: number;
}

export interface ShapedResponse {
  response: Uint8Array;
  pending?: PendingResponse;
}

export function statusOnly(sw: number): Uint8Array {
  return Uint8Array.of((sw >> 8) & 0xff, sw & 0xff);
}

export function withStatus(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = (sw >> 8) & 0xff;
  out[data.length + 1] = sw & 0xff;
  return out;
}

/** Normal processing (9000) or a warning (62xx/63xx) may carry data; errors never do. */
function mayCarryData(sw: number): boolean {
  return sw === SW.OK || (sw >> 8) === 0x62 || (sw >> 8) === 0x63;
}

export function shapeResponse(command: CommandApdu, result: CardResponse, protocol: 0 | 1): ShapedResponse {
  const data = result.data ?? new Uint8Array(0);
  if (data.length === 0 || !mayCarryData(result.sw)) return { response: statusOnly(result.sw) };
  if (protocol === 0 && !command.extended) {
    if (command.isoCase === 2) {
      if (data.length !== command.le) return { response: statusOnly(SW.WRONG_LE | (Math.min(data.length, 256) & 0xff)) };
      return { response: withStatus(data, result.sw) };
    }
    // T=0 has no Le for a command that sends data: the card announces 61xx and waits for GET RESPONSE.
    return { response: statusOnly(SW.BYTES_AVAILABLE | (Math.min(data.length, 256) & 0xff)), pending: { data, sw: result.sw } };
  }
  if (command.le !== undefined && data.length > command.le) {
    return { response: statusOnly(SW.WRONG_LE | (Math.min(data.length, 256) & 0xff)) };
  }
  return { response: withStatus(data, result.sw) };
}
