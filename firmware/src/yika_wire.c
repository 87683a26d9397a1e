/* The frame layer (PROTOCOL.md §2) and the MessagePack subset (§3). */
#include "yika_wire.h"

/* ---- CRC-32 (nibble table: 64 bytes of constants instead of 1 KiB) ------------------------------ */
uint32_t yika_crc32(const uint8_t *p, size_t n) {
  static const uint32_t t[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
  uint32_t c = 0xFFFFFFFFu;
  while (n--) {
    c ^= *p++;
    c = (c >> 4) ^ t[c & 15u];
    c = (c >> 4) ^ t[c & 15u];
  }
  return ~c;
}

long yika_cobs_decode(uint8_t *buf, size_t n) {
  size_t r = 0, w = 0;
  while (r < n) {
    uint8_t code = buf[r++];
    if (code == 0 || (size_t)code - 1u > n - r) return -1;
    for (uint8_t k = 1; k < code; k++) buf[w++] = buf[r++];
    if (code != 0xFF && r < n) buf[w++] = 0;
  }
  return (long)w;
}

long yika_frame_check(const uint8_t *body, size_t n) {
  if (n < 5) return -1;
  size_t len = n - 4;
  uint32_t want = (uint32_t)body[len] | ((uint32_t)body[len + 1] << 8) | ((uint32_t)body[len + 2] << 16) | ((uint32_t)body[len + 3] << 24);
  return yika_crc32(body, len) == want ? (long)len : -1;
}

/* COBS, streamed: a block is at most 254 data bytes behind its code byte. */
typedef struct {
  uint8_t block[255];
  size_t used; /* data bytes in block (block[0] is the code) */
  yika_sink sink;
  void *ctx;
  int err;
} cobs_out;

static void cobs_flush(cobs_out *o) {
  o->block[0] = (uint8_t)(o->used + 1u);
  if (!o->err && o->sink(o->ctx, o->block, o->used + 1u) != 0) o->err = 1;
  o->used = 0;
}

static void cobs_byte(cobs_out *o, uint8_t b) {
  if (b == 0) {
    cobs_flush(o);
    return;
  }
  o->block[1 + o->used++] = b;
  if (o->used == 254u) {
    /* A full block (code 0xFF) has no implicit zero; the next block starts fresh. */
    o->block[0] = 0xFF;
    if (!o->err && o->sink(o->ctx, o->block, 255u) != 0) o->err = 1;
    o->used = 0;
    o->block[0] = 0; /* marks "just after a full block" */
  }
}

int yika_frame_write(const uint8_t *payload, size_t n, yika_sink sink, void *ctx) {
  cobs_out o;
  uint8_t crc[4];
  uint32_t c = yika_crc32(payload, n);
  size_t i;
  o.used = 0;
  o.sink = sink;
  o.ctx = ctx;
  o.err = 0;
  crc[0] = (uint8_t)c;
  crc[1] = (uint8_t)(c >> 8);
  crc[2] = (uint8_t)(c >> 16);
  crc[3] = (uint8_t)(c >> 24);
  for (i = 0; i < n; i++) cobs_byte(&o, payload[i]);
  for (i = 0; i < 4; i++) cobs_byte(&o, crc[i]);
  /* The last block: always written (possibly a bare code 01 after a full block: COBS needs it only
   * when the body ended with a zero; after a full block it is an empty final block, still valid). */
  cobs_flush(&o);
  {
    uint8_t z = 0;
    if (!o.err && sink(ctx, &z, 1) != 0) o.err = 1;
  }
  return o.err ? -1 : 0;
}

/* ---- reader -------------------------------------------------------------------------------------- */
void yika_mp_reader_init(yika_mp_reader *r, const uint8_t *p, size_t n) {
  r->p = p;
  r->n = n;
  r->pos = 0;
  r->err = 0;
}

static int need(yika_mp_reader *r, size_t k) {
  if (r->err || k > r->n - r->pos) {
    r->err = 1;
    return 0;
  }
  return 1;
}

static uint64_t be(const uint8_t *p, unsigned k) {
  uint64_t v = 0;
  for (unsigned i = 0; i < k; i++) v = (v << 8) | p[i];
  return v;
}

int yika_mp_peek(const yika_mp_reader *r) {
  uint8_t b;
  if (r->err || r->pos >= r->n) return YIKA_MP_BAD;
  b = r->p[r->pos];
  if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf) return YIKA_MP_UINT;
  if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3)) return YIKA_MP_NINT; /* signed: may still be >= 0 */
  if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf) return YIKA_MP_MAP;
  if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) return YIKA_MP_ARRAY;
  if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) return YIKA_MP_STR;
  if (b >= 0xc4 && b <= 0xc6) return YIKA_MP_BIN;
  if (b == 0xc0) return YIKA_MP_NIL;
  if (b == 0xc2 || b == 0xc3) return YIKA_MP_BOOL;
  if (b == 0xca || b == 0xcb) return YIKA_MP_FLOAT;
  if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) return YIKA_MP_EXT;
  return YIKA_MP_BAD; /* 0xc1 */
}

static int header(yika_mp_reader *r, uint8_t fix_lo, uint8_t fix_hi, uint8_t fix_mask, uint8_t b8, uint8_t b16, uint8_t b32, uint32_t *len) {
  uint8_t b;
  if (!need(r, 1)) return 0;
  b = r->p[r->pos];
  if (b >= fix_lo && b <= fix_hi) {
    *len = b & fix_mask;
    r->pos++;
    return 1;
  }
  if (b8 && b == b8) {
    if (!need(r, 2)) return 0;
    *len = r->p[r->pos + 1];
    r->pos += 2;
    return 1;
  }
  if (b == b16) {
    if (!need(r, 3)) return 0;
    *len = (uint32_t)be(r->p + r->pos + 1, 2);
    r->pos += 3;
    return 1;
  }
  if (b == b32) {
    if (!need(r, 5)) return 0;
    *len = (uint32_t)be(r->p + r->pos + 1, 4);
    r->pos += 5;
    return 1;
  }
  r->err = 1;
  return 0;
}

int yika_mp_map(yika_mp_reader *r, uint32_t *count) { return header(r, 0x80, 0x8f, 0x0f, 0, 0xde, 0xdf, count); }
int yika_mp_array(yika_mp_reader *r, uint32_t *count) { return header(r, 0x90, 0x9f, 0x0f, 0, 0xdc, 0xdd, count); }

static int data(yika_mp_reader *r, uint32_t len, const uint8_t **out) {
  if (!need(r, len)) return 0;
  *out = r->p + r->pos;
  r->pos += len;
  return 1;
}

int yika_mp_str(yika_mp_reader *r, const uint8_t **s, uint32_t *len) {
  return header(r, 0xa0, 0xbf, 0x1f, 0xd9, 0xda, 0xdb, len) && data(r, *len, s);
}
int yika_mp_bin(yika_mp_reader *r, const uint8_t **b, uint32_t *len) {
  /* bin has no fix form: an impossible fix range */
  return header(r, 0xff, 0x00, 0, 0xc4, 0xc5, 0xc6, len) && data(r, *len, b);
}

int yika_mp_uint(yika_mp_reader *r, uint64_t *v) {
  uint8_t b;
  if (!need(r, 1)) return 0;
  b = r->p[r->pos];
  if (b <= 0x7f) {
    *v = b;
    r->pos++;
    return 1;
  }
  if (b >= 0xcc && b <= 0xcf) {
    unsigned k = 1u << (b - 0xcc);
    if (!need(r, 1 + k)) return 0;
    *v = be(r->p + r->pos + 1, k);
    r->pos += 1 + k;
    return 1;
  }
  if (b >= 0xd0 && b <= 0xd3) {
    unsigned k = 1u << (b - 0xd0);
    if (!need(r, 1 + k)) return 0;
    if (r->p[r->pos + 1] & 0x80) { /* negative */
      r->err = 1;
      return 0;
    }
    *v = be(r->p + r->pos + 1, k);
    r->pos += 1 + k;
    return 1;
  }
  r->err = 1;
  return 0;
}

int yika_mp_bool(yika_mp_reader *r, int *v) {
  if (!need(r, 1)) return 0;
  if (r->p[r->pos] != 0xc2 && r->p[r->pos] != 0xc3) {
    r->err = 1;
    return 0;
  }
  *v = r->p[r->pos++] == 0xc3;
  return 1;
}

static int skip_depth(yika_mp_reader *r, unsigned depth) {
  uint32_t len;
  const uint8_t *d;
  uint8_t b;
  uint64_t u;
  if (depth > 16) {
    r->err = 1;
    return 0;
  }
  switch (yika_mp_peek(r)) {
  case YIKA_MP_UINT:
    return yika_mp_uint(r, &u);
  case YIKA_MP_NINT:
    b = r->p[r->pos];
    return data(r, b >= 0xe0 ? 1u : 1u + (1u << (b - 0xd0)), &d);
  case YIKA_MP_NIL:
  case YIKA_MP_BOOL:
    r->pos++;
    return 1;
  case YIKA_MP_FLOAT:
    return data(r, r->p[r->pos] == 0xca ? 5u : 9u, &d);
  case YIKA_MP_STR:
    return yika_mp_str(r, &d, &len);
  case YIKA_MP_BIN:
    return yika_mp_bin(r, &d, &len);
  case YIKA_MP_ARRAY:
    if (!yika_mp_array(r, &len)) return 0;
    while (len--)
      if (!skip_depth(r, depth + 1)) return 0;
    return 1;
  case YIKA_MP_MAP:
    if (!yika_mp_map(r, &len)) return 0;
    while (len--)
      if (!skip_depth(r, depth + 1) || !skip_depth(r, depth + 1)) return 0;
    return 1;
  case YIKA_MP_EXT:
    b = r->p[r->pos];
    if (b >= 0xd4 && b <= 0xd8) return data(r, 2u + (1u << (b - 0xd4)), &d);
    {
      unsigned k = 1u << (b - 0xc7); /* ext8/16/32: length in 1/2/4 bytes, then a type byte */
      if (!need(r, 1 + k)) return 0;
      len = (uint32_t)be(r->p + r->pos + 1, k);
      r->pos += 1 + k;
      return data(r, 1, &d) && data(r, len, &d);
    }
  default:
    r->err = 1;
    return 0;
  }
}

int yika_mp_skip(yika_mp_reader *r) { return skip_depth(r, 0); }

int yika_mp_key_is(const uint8_t *s, uint32_t len, const char *key) {
  uint32_t i;
  for (i = 0; i < len; i++)
    if (key[i] == 0 || (uint8_t)key[i] != s[i]) return 0;
  return key[len] == 0;
}

/* ---- writer -------------------------------------------------------------------------------------- */
void yika_mp_writer_init(yika_mp_writer *w, uint8_t *p, size_t cap) {
  w->p = p;
  w->cap = cap;
  w->len = 0;
  w->err = 0;
}

static uint8_t *room(yika_mp_writer *w, size_t k) {
  uint8_t *at;
  if (w->err || k > w->cap - w->len) {
    w->err = 1;
    return 0;
  }
  at = w->p + w->len;
  w->len += k;
  return at;
}

static void put_be(uint8_t *p, uint64_t v, unsigned k) {
  for (unsigned i = 0; i < k; i++) p[i] = (uint8_t)(v >> (8 * (k - 1 - i)));
}

static void w_header(yika_mp_writer *w, uint32_t n, uint8_t fix, uint32_t fix_max, uint8_t b8, uint8_t b16, uint8_t b32) {
  uint8_t *p;
  if (fix && n <= fix_max) {
    if ((p = room(w, 1)) != 0) p[0] = (uint8_t)(fix | n);
  } else if (b8 && n <= 0xff) {
    if ((p = room(w, 2)) != 0) { p[0] = b8; p[1] = (uint8_t)n; }
  } else if (n <= 0xffff) {
    if ((p = room(w, 3)) != 0) { p[0] = b16; put_be(p + 1, n, 2); }
  } else if ((p = room(w, 5)) != 0) {
    p[0] = b32;
    put_be(p + 1, n, 4);
  }
}

void yika_mp_w_map(yika_mp_writer *w, uint32_t count) { w_header(w, count, 0x80, 15, 0, 0xde, 0xdf); }
void yika_mp_w_array(yika_mp_writer *w, uint32_t count) { w_header(w, count, 0x90, 15, 0, 0xdc, 0xdd); }

void yika_mp_w_strn(yika_mp_writer *w, const uint8_t *s, size_t len) {
  uint8_t *p;
  if (len > 0xffffffffu) { w->err = 1; return; }
  w_header(w, (uint32_t)len, 0xa0, 31, 0xd9, 0xda, 0xdb);
  if ((p = room(w, len)) != 0)
    for (size_t i = 0; i < len; i++) p[i] = s[i];
}

void yika_mp_w_str(yika_mp_writer *w, const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  yika_mp_w_strn(w, (const uint8_t *)s, n);
}

void yika_mp_w_uint(yika_mp_writer *w, uint64_t v) {
  uint8_t *p;
  if (v <= 0x7f) {
    if ((p = room(w, 1)) != 0) p[0] = (uint8_t)v;
  } else if (v <= 0xff) {
    if ((p = room(w, 2)) != 0) { p[0] = 0xcc; p[1] = (uint8_t)v; }
  } else if (v <= 0xffff) {
    if ((p = room(w, 3)) != 0) { p[0] = 0xcd; put_be(p + 1, v, 2); }
  } else if (v <= 0xffffffffu) {
    if ((p = room(w, 5)) != 0) { p[0] = 0xce; put_be(p + 1, v, 4); }
  } else if ((p = room(w, 9)) != 0) {
    p[0] = 0xcf;
    put_be(p + 1, v, 8);
  }
}

void yika_mp_w_bool(yika_mp_writer *w, int v) {
  uint8_t *p = room(w, 1);
  if (p) p[0] = v ? 0xc3 : 0xc2;
}

uint8_t *yika_mp_w_bin_begin(yika_mp_writer *w, size_t len) {
  if (len > 0xffffffffu) { w->err = 1; return 0; }
  w_header(w, (uint32_t)len, 0, 0, 0xc4, 0xc5, 0xc6);
  return room(w, len);
}

void yika_mp_w_bin(yika_mp_writer *w, const uint8_t *b, size_t len) {
  uint8_t *p = yika_mp_w_bin_begin(w, len);
  if (p)
    for (size_t i = 0; i < len; i++) p[i] = b[i];
}
