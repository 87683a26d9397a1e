// A tiny, valid baseline JPEG (grayscale, 96×128) drawn from a seed: a head-and-shoulders silhouette
// in flat 8×8 blocks, so only DC coefficients are coded (every block ends with EOB at once). Well
// under the photo file's 3070 bytes; decodable by any JPEG decoder.
import type { SeededRandom } from '../card-os/seeded-random.ts';

const PHOTO_WIDTH = 96;
const PHOTO_HEIGHT = 128;

// ITU-T T.81 Annex K.3 table K.3: the standard luminance DC code lengths and symbols.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// Our AC table holds one symbol: EOB (0x00), coded "0".
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0x00];
/** Every quantiser 8: a flat block of level L has DC = 8·(L − 128), quantised to L − 128. */
const QUANT = 8;

/** Canonical Huffman codes (T.81 Annex C) for a BITS/HUFFVAL pair: symbol → [code, length]. */
function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) codes.set(values[k++], [code++, len]);
    code <<= 1;
  }
  return codes;
}

class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.out.push(this.acc);
    if (this.acc === 0xff) this.out.push(0x00); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  finish(): number[] {
    while (this.n !== 0) this.write(1, 1); // pad with 1-bits
    return this.out;
  }
}

function segment(marker: number, body: number[]): number[] {
  const len = body.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...body];
}

/** Encodes a grayscale image whose 8×8 blocks are flat: `levels[row][col]` = level of that block. */
function encodeBlockJpeg(levels: number[][]): Uint8Array {
  const rows = levels.length;
  const cols = levels[0].length;
  const width = cols * 8;
  const height = rows * 8;
  const dc = huffmanCodes(DC_BITS, DC_VALUES);
  const ac = huffmanCodes(AC_BITS, AC_VALUES);
  const bits = new BitWriter();
  let previous = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = Math.max(0, Math.min(255, Math.round(levels[r][c]))) - 128;
      const diff = value - previous;
      previous = value;
      const magnitude = Math.abs(diff);
      const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
      const [code, length] = dc.get(category)!;
      bits.write(code, length);
      if (category > 0) bits.write(diff > 0 ? diff : diff + (1 << category) - 1, category);
      const [eob, eobLength] = ac.get(0x00)!;
      bits.write(eob, eobLength);
    }
  }
  const bytes = [
    0xff, 0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    ...segment(0xdb, [0x00, ...Array(64).fill(QUANT)]),
    ...segment(0xc0, [0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x01, 0x01, 0x11, 0x00]),
    ...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES]),
    ...segment(0xc4, [0x10, ...AC_BITS, ...AC_VALUES]),
    ...segment(0xda, [0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
    ...bits.finish(),
    0xff, 0xd9,
  ];
  return Uint8Array.from(bytes);
}

/** A head-and-shoulders silhouette with seeded tones. */
export function syntheticPhoto(random: SeededRandom): Uint8Array {
  const cols = PHOTO_WIDTH / 8;
  const rows = PHOTO_HEIGHT / 8;
  const background = random.between(190, 235);
  const skin = random.between(140, 185);
  const hair = random.between(20, 70);
  const clothes = random.between(40, 120);
  const levels: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const x = (c + 0.5) / cols - 0.5;
      const y = (r + 0.5) / rows;
      const head = (x / 0.24) ** 2 + ((y - 0.38) / 0.26) ** 2 <= 1;
      const hairCap = head && y < 0.24;
      const shoulders = y > 0.72 && Math.abs(x) < 0.2 + (y - 0.72) * 1.6;
      row.push(hairCap ? hair : head ? skin : shoulders ? clothes : background);
    }
    levels.push(row);
  }
  return encodeBlockJpeg(levels);
}
