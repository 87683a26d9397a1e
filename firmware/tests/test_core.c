/* Unit tests of the reader core: known answers from PROTOCOL.md section 13 (frames, the complete
 * SM2 handshake with fixed ephemeral keys, the key schedule, records), SM3 vectors, and the session
 * rules of revision 1.2 on a port with a fake clock and the demo card. Exit status 0 = all passed. */
#include <stdio.h>
#include <string.h>

#include "crypto_openssl.h"
#include "demo_card.h"
#include "vectors.h"
#include "yika.h"
#include "yika_secure.h"
#include "yika_wire.h"

static int failures, checks;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    checks++;                                              \
    if (!(cond)) {                                         \
      failures++;                                          \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);          \
      printf(__VA_ARGS__);                                 \
      printf("\n");                                        \
    }                                                      \
  } while (0)

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (h[0] && h[1] && n < cap) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (uint8_t)v;
    h += 2;
  }
  return n;
}

/* ---- capture what the device writes, split into messages ----------------------------------------- */
static uint8_t wire[1 << 18];
static size_t wire_len;
static uint32_t fake_now = 1000;
static int cap_write(void *ctx, const uint8_t *b, size_t n) {
  (void)ctx;
  if (wire_len + n > sizeof wire) return -1;
  memcpy(wire + wire_len, b, n);
  wire_len += n;
  return 0;
}
static uint32_t fake_clock(void *ctx) {
  (void)ctx;
  return fake_now;
}
static int counter_random(uint8_t *out, size_t n) {
  static uint8_t c;
  for (size_t i = 0; i < n; i++) out[i] = c++;
  return 0;
}

/* The next message the device sent (decoded payload), or 0 when none is left. */
static size_t wire_pos;
static size_t next_msg(uint8_t *out, size_t cap) {
  while (wire_pos < wire_len) {
    size_t start = wire_pos, end = start;
    long n, len;
    while (end < wire_len && wire[end] != 0) end++;
    wire_pos = end + 1;
    if (end == start || end - start > cap) continue;
    memcpy(out, wire + start, end - start);
    n = yika_cobs_decode(out, end - start);
    if (n < 0) continue;
    len = yika_frame_check(out, (size_t)n);
    if (len > 0) return (size_t)len;
  }
  return 0;
}
static void wire_reset(void) { wire_len = wire_pos = 0; }

/* Value of a top-level uint key of a message map (-1 absent). */
static long long msg_uint(const uint8_t *m, size_t n, const char *key) {
  yika_mp_reader r;
  uint32_t count, klen;
  const uint8_t *k;
  yika_mp_reader_init(&r, m, n);
  if (!yika_mp_map(&r, &count)) return -2;
  while (count--) {
    uint64_t v;
    if (!yika_mp_str(&r, &k, &klen)) return -2;
    if (yika_mp_key_is(k, klen, key) && yika_mp_peek(&r) == YIKA_MP_UINT && yika_mp_uint(&r, &v)) return (long long)v;
    if (!yika_mp_skip(&r)) return -2;
  }
  return -1;
}
static int msg_has(const uint8_t *m, size_t n, const char *key) {
  yika_mp_reader r;
  uint32_t count, klen;
  const uint8_t *k;
  yika_mp_reader_init(&r, m, n);
  if (!yika_mp_map(&r, &count)) return 0;
  while (count--) {
    if (!yika_mp_str(&r, &k, &klen)) return 0;
    if (yika_mp_key_is(k, klen, key)) return 1;
    if (!yika_mp_skip(&r)) return 0;
  }
  return 0;
}
/* The whole message is one well-formed map (no trailing bytes). */
static int msg_valid(const uint8_t *m, size_t n) {
  yika_mp_reader r;
  yika_mp_reader_init(&r, m, n);
  return yika_mp_peek(&r) == YIKA_MP_MAP && yika_mp_skip(&r) && r.pos == n;
}

/* ---- a tiny msgpack request builder --------------------------------------------------------------- */
static uint8_t req[70000];
static void send_req(yika_device *d, const uint8_t *payload, size_t n) {
  static uint8_t frame[80000];
  size_t saved = wire_len;
  /* encode through the core's own frame writer into a side buffer */
  wire_len = 0;
  yika_frame_write(payload, n, cap_write, NULL);
  memcpy(frame, wire, wire_len);
  n = wire_len;
  wire_len = saved;
  yika_input(d, frame, n);
}
#define W_BEGIN(w, entries) yika_mp_writer_init(&w, req, sizeof req), yika_mp_w_map(&w, entries)
static void w_id_op(yika_mp_writer *w, uint32_t id, const char *op) {
  yika_mp_w_str(w, "id"); yika_mp_w_uint(w, id);
  yika_mp_w_str(w, "op"); yika_mp_w_str(w, op);
}
static void hello(yika_device *d, uint32_t id, uint32_t max_frame) {
  yika_mp_writer w;
  W_BEGIN(w, 4);
  w_id_op(&w, id, "hello");
  yika_mp_w_str(&w, "versions"); yika_mp_w_array(&w, 1); yika_mp_w_uint(&w, 1);
  yika_mp_w_str(&w, "maxFrame"); yika_mp_w_uint(&w, max_frame);
  send_req(d, req, w.len);
}
static void simple(yika_device *d, uint32_t id, const char *op) {
  yika_mp_writer w;
  W_BEGIN(w, 2);
  w_id_op(&w, id, op);
  send_req(d, req, w.len);
}
static void with_uint(yika_device *d, uint32_t id, const char *op, const char *key, uint32_t v) {
  yika_mp_writer w;
  W_BEGIN(w, 3);
  w_id_op(&w, id, op);
  yika_mp_w_str(&w, key); yika_mp_w_uint(&w, v);
  send_req(d, req, w.len);
}

static yika_port port;
static yika_device dev;
static yika_demo_card card;

static void fresh_device(yika_secure_mode secure) {
  memset(&port, 0, sizeof port);
  port.transport.write = cap_write;
  port.clock.now_ms = fake_clock;
  port.vendor = "Yika";
  port.model = "TEST";
  port.serial = "T-1";
  port.firmware = "1";
  port.secure = secure;
  port.diagnostics = 1;
  yika_demo_card_slot(&card, counter_random, &port.slots[0]);
  yika_empty_slot(0x02, YIKA_SLOT_CONTACTLESS, &port.slots[1]);
  port.slot_count = 2;
  yika_init(&dev, &port);
  wire_reset();
}

/* ---- tests -------------------------------------------------------------------------------------- */
static void test_frames(void) {
  uint8_t p[64], f[64], m[128];
  size_t pn = unhex(PING_PAYLOAD, p, sizeof p), fn = unhex(PING_FRAME, f, sizeof f), n;
  CHECK(yika_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "crc32 check value");
  wire_reset();
  yika_frame_write(p, pn, cap_write, NULL);
  CHECK(wire_len == fn && memcmp(wire, f, fn) == 0, "example 1 frame");
  n = next_msg(m, sizeof m);
  CHECK(n == pn && memcmp(m, p, pn) == 0, "example 1 decodes back");
  {
    uint8_t one = 1, body[5] = {0x01, 0x1b, 0xdf, 0x05, 0xa5};
    wire_reset();
    yika_frame_write(&one, 1, cap_write, NULL);
    CHECK(wire_len == 7 && wire[0] == 6 && memcmp(wire + 1, body, 5) == 0 && wire[6] == 0, "payload 01 body 01 1b df 05 a5");
  }
  /* every length 1..600 with zeros and 0xFF runs: encode, then decode back */
  {
    static uint8_t big[700], back[800];
    size_t len, i;
    int ok = 1;
    for (len = 1; len <= 600 && ok; len++) {
      for (i = 0; i < len; i++) big[i] = (uint8_t)((i * 7 + len) % 5 == 0 ? 0 : (i * 31 + len) & 0xff);
      wire_reset();
      yika_frame_write(big, len, cap_write, NULL);
      n = next_msg(back, sizeof back);
      ok = n == len && memcmp(back, big, len) == 0 && wire_len <= len + 4 + (len + 4) / 254 + 2;
    }
    CHECK(ok, "COBS round trip of every length up to 600 (failed at %zu)", len - 1);
  }
  {
    uint8_t bad[3] = {0x05, 0x01, 0x02}; /* code points past the end */
    CHECK(yika_cobs_decode(bad, 3) == -1, "COBS code past the end");
  }
}

static void test_sm3(void) {
  uint8_t h[32], want[32];
  uint8_t abcd[64];
  yika_sm3((const uint8_t *)"abc", 3, h);
  unhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", want, 32);
  CHECK(memcmp(h, want, 32) == 0, "SM3(abc)");
  for (int i = 0; i < 64; i++) abcd[i] = (uint8_t)"abcd"[i % 4];
  yika_sm3(abcd, 64, h);
  unhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732", want, 32);
  CHECK(memcmp(h, want, 32) == 0, "SM3(abcd x16)");
}

/* The complete handshake of PROTOCOL.md example 13–18 with its fixed keys, as the device computes it. */
static void test_handshake_vectors(void) {
  static yika_port p;
  static yika_openssl ossl;
  uint8_t d_b[32], p_b[65], tbs[256], sig[64], hreq[64], hres[256], sc[256], pa[65], ra[65];
  uint8_t rb[65], sb[32], sa[32], keys[64], want[32], w16[16];
  size_t tbs_len = unhex(TBS, tbs, sizeof tbs), hq = unhex(HELLO_REQ, hreq, sizeof hreq), hr = unhex(HELLO_RES, hres, sizeof hres), scn = unhex(SCOPEN_REQ, sc, sizeof sc);
  yika_sm3_ctx prefix;
  yika_mp_reader r;
  uint32_t count, klen, blen;
  const uint8_t *k, *b;
  uint8_t len4[4];
  unhex(D_B, d_b, 32);
  unhex(P_B, p_b, 65);
  unhex(SIG, sig, 64);
  yika_mp_reader_init(&r, sc, scn);
  yika_mp_map(&r, &count);
  while (count--) {
    yika_mp_str(&r, &k, &klen);
    if (yika_mp_key_is(k, klen, "hostKey") && yika_mp_bin(&r, &b, &blen)) memcpy(pa, b, 65);
    else if (yika_mp_key_is(k, klen, "ephemeral") && yika_mp_bin(&r, &b, &blen)) memcpy(ra, b, 65);
    else yika_mp_skip(&r);
  }
  CHECK(yika_openssl_crypto(&ossl, d_b, &p.crypto) == 0, "OpenSSL has SM2 and SM4");
  ossl.fixed_ephemeral = 1;
  unhex(R_B_SCALAR, ossl.r, 32);
  p.device_public_key = p_b;
  p.cert_tbs = tbs;
  p.cert_tbs_len = tbs_len;
  p.cert_sig = sig;
  yika_sm3_init(&prefix);
  yika_sm3_update(&prefix, (const uint8_t *)"yika-sc1 transcript", 19);
  len4[0] = len4[1] = 0; len4[2] = (uint8_t)(hq >> 8); len4[3] = (uint8_t)hq;
  yika_sm3_update(&prefix, len4, 4);
  yika_sm3_update(&prefix, hreq, hq);
  len4[2] = (uint8_t)(hr >> 8); len4[3] = (uint8_t)hr;
  yika_sm3_update(&prefix, len4, 4);
  yika_sm3_update(&prefix, hres, hr);
  CHECK(yika_handshake_respond(&p, &prefix, pa, ra, rb, sb, sa, keys) == 0, "handshake computes");
  unhex(S_B, want, 32);
  CHECK(memcmp(sb, want, 32) == 0, "S_B of example 18");
  unhex(S_A, want, 32);
  CHECK(memcmp(sa, want, 32) == 0, "S_A of example 18");
  unhex(HD_ENC, w16, 16); CHECK(memcmp(keys, w16, 16) == 0, "host->device enc key");
  unhex(HD_MAC, w16, 16); CHECK(memcmp(keys + 16, w16, 16) == 0, "host->device mac key");
  unhex(DH_ENC, w16, 16); CHECK(memcmp(keys + 32, w16, 16) == 0, "device->host enc key");
  unhex(DH_MAC, w16, 16); CHECK(memcmp(keys + 48, w16, 16) == 0, "device->host mac key");
  /* a bad point is refused */
  pa[64] ^= 1;
  CHECK(yika_handshake_respond(&p, &prefix, pa, ra, rb, sb, sa, keys) != 0, "P_A off the curve refused");

  /* records 19 and 20 */
  {
    yika_direction dh, hd;
    uint8_t msg[64], rec[128], want_rec[128], *opened;
    size_t mn = unhex(MSG8_RESULT, msg, sizeof msg), wn = unhex(REC20, want_rec, sizeof want_rec), rn;
    long on;
    memset(&dh, 0, sizeof dh);
    memset(&hd, 0, sizeof hd);
    unhex(DH_ENC, dh.enc, 16); unhex(DH_MAC, dh.mac, 16);
    unhex(HD_ENC, hd.enc, 16); unhex(HD_MAC, hd.mac, 16);
    /* example 20 is the result of request 8 (90 00): open it, then seal the message again */
    (void)mn;
    {
      yika_direction dh2 = dh;
      uint8_t copy[128], *plain;
      long pn2;
      memcpy(copy, want_rec, wn);
      pn2 = yika_record_open(&p.crypto, &dh2, copy, wn, &plain, NULL);
      CHECK(pn2 > 0 && msg_uint(plain, (size_t)pn2, "id") == 8 && msg_has(plain, (size_t)pn2, "rapdu"), "record of example 20 opens to the result of 8");
      memcpy(msg, plain, (size_t)pn2);
      rn = yika_record_seal(&p.crypto, &dh, msg, (size_t)pn2, rec);
      CHECK(rn == wn && memcmp(rec, want_rec, wn) == 0, "sealing it again with seq 0 gives example 20 byte for byte");
    }
    rn = unhex(REC19, rec, sizeof rec);
    on = yika_record_open(&p.crypto, &hd, rec, rn, &opened, NULL);
    CHECK(on > 0 && msg_uint(opened, (size_t)on, "id") == 8 && msg_has(opened, (size_t)on, "apdu"), "record of example 19 opens to request 8");
    rn = unhex(REC19, rec, sizeof rec);
    CHECK(yika_record_open(&p.crypto, &hd, rec, rn, &opened, NULL) < 0, "the same record again is a replay");
  }
  /* the device->host ratchet against the TypeScript: seq 131,077 = two ratchets (the conformance
   * suite checks only the host->device direction: a device would have to send 65,536 records) */
  {
    yika_direction dh;
    uint8_t msg[9] = {0x82, 0xa2, 0x69, 0x64, 0x07, 0xa2, 0x6f, 0x6b, 0xc3}, rec[64], want_rec[64];
    size_t wn = unhex(REC_SEQ_131077, want_rec, sizeof want_rec), rn;
    memset(&dh, 0, sizeof dh);
    unhex(DH_ENC, dh.enc, 16);
    unhex(DH_MAC, dh.mac, 16);
    dh.seq = 131077;
    rn = yika_record_seal(&p.crypto, &dh, msg, sizeof msg, rec);
    CHECK(rn == wn && memcmp(rec, want_rec, wn) == 0 && dh.epoch == 2, "seq 131,077 sealed with keys ratcheted twice, as the TypeScript does");
  }
  /* the ratchet: seq 65,536 uses keys ratcheted once */
  {
    yika_direction a, b2;
    uint8_t msg[4] = {0x80, 1, 2, 3}, rec[64], *opened;
    memset(&a, 0, sizeof a);
    memset(&b2, 0, sizeof b2);
    a.seq = 65536 - 1;
    b2.seq = 65536 - 1;
    yika_record_seal(&p.crypto, &a, msg, 4, rec);          /* seq 65535, epoch 0 */
    CHECK(yika_record_open(&p.crypto, &b2, rec, 29, &opened, NULL) == 4, "seq 65535 opens");
    yika_record_seal(&p.crypto, &a, msg, 4, rec);          /* seq 65536, epoch 1 */
    CHECK(a.epoch == 1, "the sender ratcheted once at 65536");
    CHECK(yika_record_open(&p.crypto, &b2, rec, 29, &opened, NULL) == 4 && b2.epoch == 1, "seq 65536 opens with the ratcheted keys");
  }
}

static int last_code(void) {
  uint8_t m[70000];
  size_t n, last = 0;
  long long code = -1;
  while ((n = next_msg(m, sizeof m)) != 0) {
    last = n;
    code = msg_uint(m, n, "code");
  }
  return last ? (int)code : -3;
}

static void test_session(void) {
  uint8_t m[70000];
  size_t n;
  fresh_device(YIKA_SECURE_NONE);
  simple(&dev, 1, "ping");
  CHECK(last_code() == YIKA_NOT_READY, "ping before hello: NOT_READY");
  with_uint(&dev, 2, "powerOn", "slot", 1);
  CHECK(last_code() == YIKA_NOT_READY, "powerOn before hello: NOT_READY");
  simple(&dev, 3, "noSuchOp");
  CHECK(last_code() == YIKA_UNKNOWN_OPERATION, "unknown op before hello: UNKNOWN_OPERATION (4.1)");
  simple(&dev, 4, "diagHold");
  CHECK(last_code() == YIKA_BAD_REQUEST, "diagHold without ms before hello: BAD_REQUEST (4.1)");

  /* hello: a valid map; the hello id 500 is not in the window (D1) */
  hello(&dev, 500, 4096);
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_valid(m, n) && msg_uint(m, n, "id") == 500 && msg_uint(m, n, "maxInFlight") == 1 && msg_has(m, n, "diagnostics"), "hello result");
  simple(&dev, 1, "ping");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "id") == 1 && msg_uint(m, n, "nextEvent") == 0, "ping 1 after hello 500 answered");

  /* exactly once: a repeat of an answered request gets the same answer, not a new challenge */
  with_uint(&dev, 2, "powerOn", "slot", 1);
  CHECK(last_code() == -1, "powerOn");
  {
    yika_mp_writer w;
    uint8_t first[64], again[64];
    size_t fn, an;
    const uint8_t challenge[5] = {0x00, 0x84, 0x00, 0x00, 0x08};
    W_BEGIN(w, 4);
    w_id_op(&w, 3, "transmit");
    yika_mp_w_str(&w, "slot"); yika_mp_w_uint(&w, 1);
    yika_mp_w_str(&w, "apdu"); yika_mp_w_bin(&w, challenge, 5);
    send_req(&dev, req, w.len);
    fn = next_msg(first, sizeof first);
    send_req(&dev, req, w.len);
    an = next_msg(again, sizeof again);
    CHECK(fn > 10 && fn == an && memcmp(first, again, fn) == 0, "a repeated GET CHALLENGE gets the kept answer");
    CHECK(dev.counters.repeats_answered == 1, "counted as a repeat");
  }
  /* an id older than the window is ignored */
  simple(&dev, 2, "deviceInfo");
  CHECK(next_msg(m, sizeof m) == 0, "a stale id is ignored");

  /* diagHold: pending notices every 200 ms, one at once for a repeat, BUSY for a new request, ping answered */
  with_uint(&dev, 10, "diagHold", "ms", 700);
  CHECK(next_msg(m, sizeof m) == 0, "nothing at once");
  fake_now += 200;
  yika_poll(&dev);
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "id") == 10 && msg_has(m, n, "pending") && !msg_has(m, n, "ok"), "pending notice after 200 ms");
  with_uint(&dev, 10, "diagHold", "ms", 700);
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "id") == 10 && msg_has(m, n, "pending"), "a repeat while held: a notice at once");
  simple(&dev, 11, "slotStatus");
  CHECK(last_code() == YIKA_BUSY, "a new request while one is held: BUSY");
  simple(&dev, 12, "ping");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "id") == 12 && msg_has(m, n, "nextEvent"), "ping answered while a request is held");
  fake_now += 200; yika_poll(&dev);
  fake_now += 200; yika_poll(&dev);
  CHECK(dev.counters.pending_notices == 4, "notices at 200, 400, 600 ms and the repeat (%u)", dev.counters.pending_notices);
  fake_now += 100; yika_poll(&dev);
  {
    uint8_t mm[64];
    size_t k, got = 0;
    while ((k = next_msg(mm, sizeof mm)) != 0) if (msg_has(mm, k, "heldMs")) got = k;
    CHECK(got > 0 && msg_uint(mm, got, "heldMs") == 700, "diagHold answered after 700 ms");
  }

  /* transmitBatch stops at 61xx whatever expect says; GET RESPONSE then returns the FCI */
  {
    yika_mp_writer w;
    const uint8_t select_mf[7] = {0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00};
    W_BEGIN(w, 4);
    w_id_op(&w, 20, "transmitBatch");
    yika_mp_w_str(&w, "slot"); yika_mp_w_uint(&w, 1);
    yika_mp_w_str(&w, "commands"); yika_mp_w_array(&w, 2);
    for (int i = 0; i < 2; i++) {
      yika_mp_w_map(&w, 2);
      yika_mp_w_str(&w, "apdu"); yika_mp_w_bin(&w, select_mf, 7);
      yika_mp_w_str(&w, "expect"); yika_mp_w_array(&w, 1); yika_mp_w_map(&w, 2);
      yika_mp_w_str(&w, "sw"); yika_mp_w_uint(&w, 0); yika_mp_w_str(&w, "mask"); yika_mp_w_uint(&w, 0);
    }
    send_req(&dev, req, w.len);
    n = next_msg(m, sizeof m);
    CHECK(n > 0 && msg_valid(m, n) && msg_uint(m, n, "stoppedAt") == 0, "batch stopped at command 0 (61xx)");
    CHECK(card.pending_len > 0, "the FCI still waits for GET RESPONSE");
  }
  /* answer-fits (D3): with maxFrame 512, three commands with Le 00 cannot fit: refused before running */
  hello(&dev, 30, 512);
  (void)next_msg(m, sizeof m);
  {
    yika_mp_writer w;
    const uint8_t read[5] = {0x00, 0x84, 0x00, 0x00, 0x00};
    W_BEGIN(w, 4);
    w_id_op(&w, 31, "transmitBatch");
    yika_mp_w_str(&w, "slot"); yika_mp_w_uint(&w, 1);
    yika_mp_w_str(&w, "commands"); yika_mp_w_array(&w, 3);
    for (int i = 0; i < 3; i++) { yika_mp_w_map(&w, 1); yika_mp_w_str(&w, "apdu"); yika_mp_w_bin(&w, read, 5); }
    send_req(&dev, req, w.len);
    CHECK(last_code() == YIKA_FRAME_TOO_LARGE, "worst case 853 > 512: FRAME_TOO_LARGE");
  }
  /* oversize decided on the decoded payload (D10): 513 zero bytes are dropped */
  {
    uint8_t zeros[YIKA_MAX_FRAME + 1];
    memset(zeros, 0, sizeof zeros);
    zeros[0] = 0x80;
    send_req(&dev, zeros, sizeof zeros);
    CHECK(last_code() == YIKA_FRAME_TOO_LARGE && dev.counters.oversize_frames == 1, "a (maxFrame+1)-byte payload: FRAME_TOO_LARGE for id 0");
  }
  /* not a map: id 0 BAD_REQUEST; a record without a channel on a device without one: BAD_REQUEST */
  {
    uint8_t arr[4] = {0x93, 1, 2, 3};
    send_req(&dev, arr, 4);
    n = next_msg(m, sizeof m);
    CHECK(n > 0 && msg_uint(m, n, "id") == 0 && msg_uint(m, n, "code") == YIKA_BAD_REQUEST, "not a map: id 0 BAD_REQUEST");
  }
  /* events: seq from 0 after hello, nextEvent in ping */
  CHECK(yika_card_event(&dev, 1, 0) == 1 && yika_card_event(&dev, 1, 1) == 1, "events sent in READY");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "seq") == 0, "first event seq 0");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "seq") == 1, "second event seq 1");
  simple(&dev, 40, "ping");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "nextEvent") == 2, "ping nextEvent 2");
}

/* A slow card: its transmit takes 700 ms and the port calls yika_poll meanwhile (as ports/linux does
 * around SCardTransmit): pending notices at 200, 400, 600 ms, then the answer. */
static yika_device *slow_dev;
static int slow_transmit(void *ctx, const uint8_t *a, size_t n, uint8_t *r, size_t cap, size_t *rlen) {
  int i;
  (void)ctx; (void)a; (void)n; (void)cap;
  for (i = 0; i < 70; i++) {
    fake_now += 10;
    yika_poll(slow_dev);
  }
  r[0] = 0x90;
  r[1] = 0x00;
  *rlen = 2;
  return YIKA_OK;
}
static yika_card_state slow_status(void *ctx, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  (void)ctx;
  atr[0] = 0x3b; atr[1] = 0x00; *atr_len = 2; *protocol = 0;
  return YIKA_CARD_POWERED;
}
static void test_slow_card(void) {
  uint8_t m[256];
  size_t n;
  int notices = 0, answered = 0, answer_after_notices = 0;
  fresh_device(YIKA_SECURE_NONE);
  slow_dev = &dev;
  port.slots[0].transmit = slow_transmit;
  port.slots[0].status = slow_status;
  hello(&dev, 1, 4096);
  (void)next_msg(m, sizeof m);
  {
    yika_mp_writer w;
    const uint8_t apdu[4] = {0x00, 0xb0, 0x00, 0x00};
    W_BEGIN(w, 4);
    w_id_op(&w, 2, "transmit");
    yika_mp_w_str(&w, "slot"); yika_mp_w_uint(&w, 1);
    yika_mp_w_str(&w, "apdu"); yika_mp_w_bin(&w, apdu, 4);
    send_req(&dev, req, w.len);
  }
  while ((n = next_msg(m, sizeof m)) != 0) {
    if (msg_has(m, n, "pending") && msg_uint(m, n, "id") == 2) notices++;
    if (msg_has(m, n, "rapdu") && msg_uint(m, n, "id") == 2) { answered++; answer_after_notices = notices; }
  }
  CHECK(notices == 3 && answered == 1 && answer_after_notices == 3, "a 700 ms card command: 3 pending notices, then the answer (%d notices, %d answers)", notices, answered);
}

static void test_required(void) {
  uint8_t m[4096];
  size_t n;
  fresh_device(YIKA_SECURE_REQUIRED);
  hello(&dev, 1, 4096);
  (void)next_msg(m, sizeof m);
  simple(&dev, 2, "slotStatus");
  CHECK(last_code() == YIKA_SECURE_CHANNEL_REQUIRED, "required: slotStatus refused");
  simple(&dev, 3, "noSuchOp");
  CHECK(last_code() == YIKA_UNKNOWN_OPERATION, "required: unknown op is UNKNOWN_OPERATION first");
  CHECK(yika_card_event(&dev, 1, 1) == 0, "required: no events before the channel");
  {
    uint8_t rec[40];
    memset(rec, 0x33, sizeof rec);
    rec[0] = 0xC1;
    send_req(&dev, rec, sizeof rec);
    n = next_msg(m, sizeof m);
    CHECK(n > 0 && msg_uint(m, n, "id") == 0 && msg_uint(m, n, "code") == YIKA_SECURE_CHANNEL_FAILED, "a record without a channel: id 0 SECURE_CHANNEL_FAILED (D12)");
  }
  simple(&dev, 4, "ping");
  n = next_msg(m, sizeof m);
  CHECK(n > 0 && msg_uint(m, n, "id") == 4, "still READY after the stray record");
  {
    uint8_t c[32] = {0};
    yika_mp_writer w;
    W_BEGIN(w, 3);
    w_id_op(&w, 5, "scFinish");
    yika_mp_w_str(&w, "confirm"); yika_mp_w_bin(&w, c, 32);
    send_req(&dev, req, w.len);
    CHECK(last_code() == YIKA_SECURE_CHANNEL_FAILED, "scFinish without scOpen (D4)");
  }
}

int main(void) {
  test_frames();
  test_sm3();
  test_handshake_vectors();
  test_session();
  test_required();
  test_slow_card();
  printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
