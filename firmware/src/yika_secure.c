/* The SM secure channel, suite 1 (PROTOCOL.md §10): SM2 key exchange as responder B of
 * GB/T 32918.3 (the point arithmetic is the port's, the rest is here), the transcript and key
 * schedule, and records: 0xC1 || seq || SM4-CTR || HMAC-SM3-128, with the ⌊seq/65536⌋ ratchet. */
#include "yika_secure.h"

static const char TRANSCRIPT_KEYS[] = "yika-sc1 keys";
static const char REKEY[] = "yika-sc1 rekey";

void yika_hmac_sm3(const uint8_t *key, size_t key_len, const uint8_t *const *parts, const size_t *lens, size_t count, uint8_t out[32]) {
  uint8_t k0[64], pad[64], inner[32];
  yika_sm3_ctx c;
  size_t i;
  for (i = 0; i < 64; i++) k0[i] = i < key_len ? key[i] : 0;
  for (i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x36u;
  yika_sm3_init(&c);
  yika_sm3_update(&c, pad, 64);
  for (i = 0; i < count; i++) yika_sm3_update(&c, parts[i], lens[i]);
  yika_sm3_final(&c, inner);
  for (i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x5cu;
  yika_sm3_init(&c);
  yika_sm3_update(&c, pad, 64);
  yika_sm3_update(&c, inner, 32);
  yika_sm3_final(&c, out);
}

void yika_kdf(const uint8_t *const *parts, const size_t *lens, size_t count, uint8_t *out, size_t out_len) {
  uint32_t ct = 1;
  size_t done = 0, i;
  while (done < out_len) {
    uint8_t h[32], cb[4];
    yika_sm3_ctx c;
    cb[0] = (uint8_t)(ct >> 24); cb[1] = (uint8_t)(ct >> 16); cb[2] = (uint8_t)(ct >> 8); cb[3] = (uint8_t)ct;
    yika_sm3_init(&c);
    for (i = 0; i < count; i++) yika_sm3_update(&c, parts[i], lens[i]);
    yika_sm3_update(&c, cb, 4);
    yika_sm3_final(&c, h);
    for (i = 0; i < 32 && done < out_len; i++) out[done++] = h[i];
    ct++;
  }
}

void yika_ratchet(uint8_t enc[16], uint8_t mac[16]) {
  uint8_t m[32];
  const uint8_t *parts[3];
  size_t lens[3], i;
  parts[0] = enc; lens[0] = 16;
  parts[1] = mac; lens[1] = 16;
  parts[2] = (const uint8_t *)REKEY; lens[2] = sizeof REKEY - 1;
  yika_kdf(parts, lens, 3, m, 32);
  for (i = 0; i < 16; i++) {
    enc[i] = m[i];
    mac[i] = m[16 + i];
  }
}

void yika_sm2_z(const uint8_t pub[65], uint8_t z[32]) {
  /* sm2p256v1 a, b, Gx, Gy (GB/T 32918.5) */
  static const uint8_t curve[128] = {
      0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC,
      0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
      0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93,
      0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19, 0x5F, 0x99, 0x04, 0x46, 0x6A, 0x39, 0xC9, 0x94,
      0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66, 0x0B, 0xE1, 0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7,
      0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C, 0x59, 0xBD, 0xCE, 0xE3, 0x6B, 0x69, 0x21, 0x53,
      0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A, 0x47, 0x40, 0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0};
  static const uint8_t id[18] = {0x00, 0x80, '1', '2', '3', '4', '5', '6', '7', '8', '1', '2', '3', '4', '5', '6', '7', '8'};
  yika_sm3_ctx c;
  yika_sm3_init(&c);
  yika_sm3_update(&c, id, sizeof id);
  yika_sm3_update(&c, curve, sizeof curve);
  yika_sm3_update(&c, pub + 1, 64);
  yika_sm3_final(&c, z);
}

static void seq_bytes(uint64_t seq, uint8_t out[8]) {
  for (unsigned i = 0; i < 8; i++) out[i] = (uint8_t)(seq >> (56 - 8 * i));
}

size_t yika_record_seal(const yika_crypto *c, yika_direction *d, const uint8_t *msg, size_t len, uint8_t *out) {
  uint64_t seq = d->seq++;
  uint8_t iv[16], tag[32];
  const uint8_t *parts[1];
  size_t lens[1], i;
  while (d->epoch < (seq >> 16)) {
    yika_ratchet(d->enc, d->mac);
    d->epoch++;
  }
  out[0] = YIKA_RECORD_MARKER;
  seq_bytes(seq, out + 1);
  for (i = 0; i < len; i++) out[9 + i] = msg[i];
  for (i = 0; i < 16; i++) iv[i] = i < 8 ? out[1 + i] : 0;
  c->sm4_ctr(c->ctx, d->enc, iv, out + 9, len);
  parts[0] = out;
  lens[0] = 9 + len;
  yika_hmac_sm3(d->mac, 16, parts, lens, 1, tag);
  for (i = 0; i < 16; i++) out[9 + len + i] = tag[i];
  return len + YIKA_RECORD_OVERHEAD;
}

long yika_record_open(const yika_crypto *c, yika_direction *d, uint8_t *rec, size_t len, uint8_t **msg, uint32_t *rekeys) {
  uint64_t seq = 0, epoch;
  uint8_t enc[16], mac[16], tag[32], iv[16], diff = 0;
  const uint8_t *parts[1];
  size_t lens[1], i, body;
  if (len < YIKA_RECORD_OVERHEAD + 1u || rec[0] != YIKA_RECORD_MARKER) return -1;
  for (i = 1; i < 9; i++) seq = (seq << 8) | rec[i];
  /* d->seq is last accepted + 1 (0: none yet, the last accepted counts as -1: PROTOCOL.md 10.3) */
  if (seq < d->seq) return -1;                    /* replayed or reordered */
  if (seq - d->seq >= 1024u) return -1;           /* more than 1024 ahead of the last accepted */
  epoch = seq >> 16;
  for (i = 0; i < 16; i++) {
    enc[i] = d->enc[i];
    mac[i] = d->mac[i];
  }
  for (uint64_t e = d->epoch; e < epoch; e++) yika_ratchet(enc, mac);
  body = len - 16;
  parts[0] = rec;
  lens[0] = body;
  yika_hmac_sm3(mac, 16, parts, lens, 1, tag);
  for (i = 0; i < 16; i++) diff |= (uint8_t)(tag[i] ^ rec[body + i]);
  if (diff != 0) return -1;
  /* The tag is good: commit the epoch's keys and the seq. */
  if (epoch > d->epoch && rekeys) *rekeys += (uint32_t)(epoch - d->epoch);
  for (i = 0; i < 16; i++) {
    d->enc[i] = enc[i];
    d->mac[i] = mac[i];
  }
  d->epoch = epoch;
  d->seq = seq + 1;
  for (i = 0; i < 16; i++) iv[i] = i < 8 ? rec[1 + i] : 0;
  c->sm4_ctr(c->ctx, d->enc, iv, rec + 9, body - 9);
  *msg = rec + 9;
  return (long)(body - 9);
}

static void u32be(yika_sm3_ctx *c, size_t n) {
  uint8_t b[4];
  b[0] = (uint8_t)(n >> 24); b[1] = (uint8_t)(n >> 16); b[2] = (uint8_t)(n >> 8); b[3] = (uint8_t)n;
  yika_sm3_update(c, b, 4);
}

int yika_handshake_respond(const yika_port *port, const yika_sm3_ctx *prefix, const uint8_t pa[65], const uint8_t ra[65],
                           uint8_t rb[65], uint8_t sb[32], uint8_t sa[32], uint8_t keys[64]) {
  uint8_t v[64], za[32], zb[32], k[32], inner[32], h[32], tag;
  const uint8_t *parts[6];
  size_t lens[6];
  yika_sm3_ctx c;
  if (pa[0] != 0x04 || ra[0] != 0x04) return -1;
  if (port->crypto.sm2_kx_responder(port->crypto.ctx, pa, ra, rb, v) != 0) return -1;
  yika_sm2_z(pa, za);
  yika_sm2_z(port->device_public_key, zb);
  /* K = KDF(x_V || y_V || Z_A || Z_B, 256) */
  parts[0] = v; lens[0] = 64;
  parts[1] = za; lens[1] = 32;
  parts[2] = zb; lens[2] = 32;
  yika_kdf(parts, lens, 3, k, 32);
  /* inner = SM3(x_V || Z_A || Z_B || x_A || y_A || x_B || y_B) */
  yika_sm3_init(&c);
  yika_sm3_update(&c, v, 32);
  yika_sm3_update(&c, za, 32);
  yika_sm3_update(&c, zb, 32);
  yika_sm3_update(&c, ra + 1, 64);
  yika_sm3_update(&c, rb + 1, 64);
  yika_sm3_final(&c, inner);
  for (tag = 2; tag <= 3; tag++) {
    yika_sm3_init(&c);
    yika_sm3_update(&c, &tag, 1);
    yika_sm3_update(&c, v + 32, 32);
    yika_sm3_update(&c, inner, 32);
    yika_sm3_final(&c, tag == 2 ? sb : sa);
  }
  /* H = SM3(label || hello request || hello result || P_A || R_A || tbs || sig || R_B), each u32be-prefixed */
  c = *prefix;
  u32be(&c, 65); yika_sm3_update(&c, pa, 65);
  u32be(&c, 65); yika_sm3_update(&c, ra, 65);
  u32be(&c, port->cert_tbs_len); yika_sm3_update(&c, port->cert_tbs, port->cert_tbs_len);
  u32be(&c, 64); yika_sm3_update(&c, port->cert_sig, 64);
  u32be(&c, 65); yika_sm3_update(&c, rb, 65);
  yika_sm3_final(&c, h);
  parts[0] = k; lens[0] = 32;
  parts[1] = h; lens[1] = 32;
  parts[2] = (const uint8_t *)TRANSCRIPT_KEYS; lens[2] = sizeof TRANSCRIPT_KEYS - 1;
  yika_kdf(parts, lens, 3, keys, 64);
  return 0;
}
