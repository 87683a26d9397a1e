/* Internal: the frame layer (CRC-32, COBS) and the MessagePack subset of the protocol. Pure functions
 * over caller buffers; every read is bounded by the buffer length. Also used by the fuzz target. */
#ifndef YIKA_WIRE_H
#define YIKA_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32/ISO-HDLC (zlib): crc32("123456789") = 0xCBF43926. */
uint32_t yika_crc32(const uint8_t *p, size_t n);

/* Decodes one COBS frame body buf[0..n) (without its 0x00) in place. Returns the decoded length or -1. */
long yika_cobs_decode(uint8_t *buf, size_t n);

/* Streams COBS(payload || CRC32 LE) || 0x00 to a sink in chunks of at most 255 bytes. Returns 0 or -1. */
typedef int (*yika_sink)(void *ctx, const uint8_t *bytes, size_t n);
int yika_frame_write(const uint8_t *payload, size_t n, yika_sink sink, void *ctx);

/* Checks a decoded body (payload || CRC, len >= 5): returns the payload length, or -1 (short/CRC). */
long yika_frame_check(const uint8_t *body, size_t n);

/* ---- MessagePack reader -------------------------------------------------------------------------- */
typedef struct {
  const uint8_t *p;
  size_t n, pos;
  int err;
} yika_mp_reader;

enum { YIKA_MP_NIL, YIKA_MP_BOOL, YIKA_MP_UINT, YIKA_MP_NINT, YIKA_MP_FLOAT, YIKA_MP_STR, YIKA_MP_BIN, YIKA_MP_ARRAY, YIKA_MP_MAP, YIKA_MP_EXT, YIKA_MP_BAD };

void yika_mp_reader_init(yika_mp_reader *r, const uint8_t *p, size_t n);
/* Kind of the next value without consuming it (YIKA_MP_BAD at the end or on the reserved 0xC1). */
int yika_mp_peek(const yika_mp_reader *r);
int yika_mp_map(yika_mp_reader *r, uint32_t *count);
int yika_mp_array(yika_mp_reader *r, uint32_t *count);
int yika_mp_str(yika_mp_reader *r, const uint8_t **s, uint32_t *len);
int yika_mp_bin(yika_mp_reader *r, const uint8_t **b, uint32_t *len);
/* Any msgpack integer with a value >= 0 (positive fixint, uint8..64, int8..64). */
int yika_mp_uint(yika_mp_reader *r, uint64_t *v);
int yika_mp_bool(yika_mp_reader *r, int *v);
/* Skips one value (nested up to 16 levels; deeper is an error). */
int yika_mp_skip(yika_mp_reader *r);
/* Key equality helper. */
int yika_mp_key_is(const uint8_t *s, uint32_t len, const char *key);

/* ---- MessagePack writer -------------------------------------------------------------------------- */
typedef struct {
  uint8_t *p;
  size_t cap, len;
  int err; /* set when something did not fit; the buffer is then unusable */
} yika_mp_writer;

void yika_mp_writer_init(yika_mp_writer *w, uint8_t *p, size_t cap);
void yika_mp_w_map(yika_mp_writer *w, uint32_t count);
void yika_mp_w_array(yika_mp_writer *w, uint32_t count);
void yika_mp_w_str(yika_mp_writer *w, const char *s);
void yika_mp_w_strn(yika_mp_writer *w, const uint8_t *s, size_t len);
void yika_mp_w_uint(yika_mp_writer *w, uint64_t v);
void yika_mp_w_bool(yika_mp_writer *w, int v);
void yika_mp_w_bin(yika_mp_writer *w, const uint8_t *b, size_t len);
/* Writes a bin header for len bytes and returns where its data goes (NULL if it does not fit). */
uint8_t *yika_mp_w_bin_begin(yika_mp_writer *w, size_t len);

#endif
