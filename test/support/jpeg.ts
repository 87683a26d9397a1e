// Test photos: arbitrary bytes framed as a JPEG (SOI + APP0 marker … EOI), which is all the writer
// checks before it sends a photo to the card (apdu/healthcard/validation.ts isJpeg).
export function jpegOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 6);
  out.set([0xff, 0xd8, 0xff, 0xe0]);
  out.set(body, 4);
  out.set([0xff, 0xd9], body.length + 4);
  return out;
}
