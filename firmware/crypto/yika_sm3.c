/* SM3 (GB/T 32905-2016), written from the standard. Plain-data state (yika_sm3_ctx), so a hash in
 * progress can be copied with '=' (the transcript of PROTOCOL.md §10.2 forks from the hello prefix).
 * Known answers: SM3("abc") = 66c7f0f4…8f4ba8e0 (tests/test_core.c). */
#include "yika.h"

static uint32_t rotl(uint32_t x, unsigned n) {
  n &= 31u;
  return n ? (x << n) | (x >> (32u - n)) : x;
}
static uint32_t p0(uint32_t x) { return x ^ rotl(x, 9) ^ rotl(x, 17); }
static uint32_t p1(uint32_t x) { return x ^ rotl(x, 15) ^ rotl(x, 23); }

static void compress(uint32_t v[8], const uint8_t b[64]) {
  uint32_t w[68], a, bb, c, d, e, f, g, h;
  unsigned j;
  for (j = 0; j < 16; j++) w[j] = ((uint32_t)b[4 * j] << 24) | ((uint32_t)b[4 * j + 1] << 16) | ((uint32_t)b[4 * j + 2] << 8) | b[4 * j + 3];
  for (j = 16; j < 68; j++) w[j] = p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6];
  a = v[0]; bb = v[1]; c = v[2]; d = v[3]; e = v[4]; f = v[5]; g = v[6]; h = v[7];
  for (j = 0; j < 64; j++) {
    uint32_t t = j < 16 ? 0x79CC4519u : 0x7A879D8Au;
    uint32_t ss1 = rotl(rotl(a, 12) + e + rotl(t, j % 32u), 7);
    uint32_t ss2 = ss1 ^ rotl(a, 12);
    uint32_t ff = j < 16 ? (a ^ bb ^ c) : ((a & bb) | (a & c) | (bb & c));
    uint32_t gg = j < 16 ? (e ^ f ^ g) : ((e & f) | (~e & g));
    uint32_t tt1 = ff + d + ss2 + (w[j] ^ w[j + 4]);
    uint32_t tt2 = gg + h + ss1 + w[j];
    d = c; c = rotl(bb, 9); bb = a; a = tt1;
    h = g; g = rotl(f, 19); f = e; e = p0(tt2);
  }
  v[0] ^= a; v[1] ^= bb; v[2] ^= c; v[3] ^= d; v[4] ^= e; v[5] ^= f; v[6] ^= g; v[7] ^= h;
}

void yika_sm3_init(yika_sm3_ctx *c) {
  static const uint32_t iv[8] = {0x7380166Fu, 0x4914B2B9u, 0x172442D7u, 0xDA8A0600u, 0xA96F30BCu, 0x163138AAu, 0xE38DEE4Du, 0xB0FB0E4Eu};
  unsigned i;
  for (i = 0; i < 8; i++) c->v[i] = iv[i];
  c->total = 0;
  c->used = 0;
}

void yika_sm3_update(yika_sm3_ctx *c, const uint8_t *p, size_t n) {
  c->total += n;
  while (n > 0) {
    size_t take = 64u - c->used;
    if (take > n) take = n;
    for (size_t i = 0; i < take; i++) c->block[c->used + i] = p[i];
    c->used += take;
    p += take;
    n -= take;
    if (c->used == 64u) {
      compress(c->v, c->block);
      c->used = 0;
    }
  }
}

void yika_sm3_final(yika_sm3_ctx *c, uint8_t out[32]) {
  uint64_t bits = c->total * 8u;
  uint8_t pad = 0x80;
  uint8_t len[8];
  unsigned i;
  uint64_t total = c->total;
  yika_sm3_update(c, &pad, 1);
  pad = 0;
  while (c->used != 56u) yika_sm3_update(c, &pad, 1);
  for (i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  yika_sm3_update(c, len, 8);
  c->total = total;
  for (i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->v[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->v[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->v[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->v[i];
  }
}

void yika_sm3(const uint8_t *p, size_t n, uint8_t out[32]) {
  yika_sm3_ctx c;
  yika_sm3_init(&c);
  yika_sm3_update(&c, p, n);
  yika_sm3_final(&c, out);
}
