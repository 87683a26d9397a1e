/* libFuzzer target for the decoders: COBS and CRC, the MessagePack reader, and the whole request
 * pipeline of the session (READY and SECURE), fed (a) the input as raw line bytes and (b) the input
 * as a frame payload with a good CRC, so the msgpack decoder sees every input. Any crash, sanitizer
 * report or out-of-bounds access fails it.
 *   make -C firmware fuzz && firmware/build/fuzz-decode -max_total_time=30 */
#include <stdint.h>
#include <string.h>

#include "demo_card.h"
#include "yika.h"
#include "yika_wire.h"

static uint8_t staging[YIKA_MAX_ENCODED + 64];
static size_t staged;
static int discard(void *ctx, const uint8_t *b, size_t n) { (void)ctx; (void)b; (void)n; return 0; }
static int stage(void *ctx, const uint8_t *b, size_t n) {
  (void)ctx;
  if (staged + n > sizeof staging) return -1;
  memcpy(staging + staged, b, n);
  staged += n;
  return 0;
}
static uint32_t t;
static uint32_t clock_ms(void *ctx) { (void)ctx; return t += 7; }
static int rnd(uint8_t *o, size_t n) { memset(o, 0x5a, n); return 0; }
static int ctr_identity(void *ctx, const uint8_t k[16], const uint8_t iv[16], uint8_t *d, size_t n) {
  (void)ctx; (void)k; (void)iv;
  for (size_t i = 0; i < n; i++) d[i] ^= 0x3c;
  return 0;
}
static int kx_fail(void *ctx, const uint8_t a[65], const uint8_t b[65], uint8_t c[65], uint8_t v[64]) {
  (void)ctx; (void)a; (void)b; (void)c; (void)v;
  return -1;
}

static void feed_payload(yika_device *d, const uint8_t *p, size_t n) {
  staged = 0;
  if (n == 0 || yika_frame_write(p, n, stage, NULL) != 0) return;
  yika_input(d, staging, staged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static yika_port port;
  static yika_device dev;
  static yika_demo_card card;
  static const uint8_t tbs[8] = {0x80}, sig[64] = {0}, pub[65] = {4};
  static const uint8_t hello[] = {0x84, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa5, 'h', 'e', 'l', 'l', 'o', 0xa8, 'v', 'e', 'r', 's', 'i', 'o', 'n', 's', 0x91, 0x01,
                                  0xa8, 'm', 'a', 'x', 'F', 'r', 'a', 'm', 'e', 0xcd, 0x10, 0x00};
  uint8_t copy[4096];
  yika_mp_reader r;

  /* the pure decoders */
  if (size <= sizeof copy) {
    long n;
    memcpy(copy, data, size);
    n = yika_cobs_decode(copy, size);
    if (n >= 0) (void)yika_frame_check(copy, (size_t)n);
    yika_mp_reader_init(&r, data, size);
    while (yika_mp_skip(&r) && r.pos < size) {}
  }

  /* the session, plaintext and inside the channel */
  for (int secure = 0; secure < 2; secure++) {
    memset(&port, 0, sizeof port);
    port.transport.write = discard;
    port.clock.now_ms = clock_ms;
    port.vendor = port.model = port.serial = port.firmware = "F";
    port.secure = secure ? YIKA_SECURE_SUPPORTED : YIKA_SECURE_NONE;
    port.diagnostics = 1;
    port.crypto.sm4_ctr = ctr_identity;
    port.crypto.sm2_kx_responder = kx_fail;
    port.cert_tbs = tbs;
    port.cert_tbs_len = sizeof tbs;
    port.cert_sig = sig;
    port.device_public_key = pub;
    yika_demo_card_slot(&card, rnd, &port.slots[0]);
    yika_empty_slot(0x02, YIKA_SLOT_CONTACTLESS, &port.slots[1]);
    port.slot_count = 2;
    yika_init(&dev, &port);
    feed_payload(&dev, hello, sizeof hello);
    if (secure) dev.state = YIKA_ST_SECURE; /* zero keys: the record layer parses and checks tags */
    yika_input(&dev, data, size);
    feed_payload(&dev, data, size);
    yika_poll(&dev);
  }
  return 0;
}
