/* Yika reader protocol v1 (PROTOCOL.md revision 1.2), device side, in portable C99.
 *
 * The core is one struct (yika_device) and three calls: yika_init, yika_input (bytes from the host),
 * yika_poll (time passes: pending notices, diagHold, card events). Hardware and crypto are behind
 * the small interfaces below, which a port fills in. No dynamic allocation, no global state: every
 * buffer lives in yika_device and is sized by yika_config.h; every input is bounded.
 *
 *   yika_device dev;
 *   yika_init(&dev, &port);
 *   for (;;) { n = uart_read(buf); yika_input(&dev, buf, n); yika_poll(&dev); }
 */
#ifndef YIKA_H
#define YIKA_H

#include <stddef.h>
#include <stdint.h>
#include "yika_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire error codes (PROTOCOL.md §8) --------------------------------------------------------- */
enum yika_error {
  YIKA_OK = 0,
  YIKA_BAD_REQUEST = 1,
  YIKA_UNKNOWN_OPERATION = 2,
  YIKA_UNSUPPORTED_VERSION = 3,
  YIKA_NOT_READY = 4,
  YIKA_BUSY = 5,
  YIKA_BAD_SLOT = 10,
  YIKA_NO_CARD = 11,
  YIKA_CARD_NOT_POWERED = 12,
  YIKA_CARD_REMOVED = 13,
  YIKA_CARD_MUTE = 14,
  YIKA_CARD_PROTOCOL_ERROR = 15,
  YIKA_APDU_TOO_LONG = 16,
  YIKA_BATCH_TOO_LONG = 17,
  YIKA_FRAME_TOO_LARGE = 20,
  YIKA_SECURE_CHANNEL_REQUIRED = 30,
  YIKA_SECURE_CHANNEL_FAILED = 31,
  YIKA_HOST_NOT_PAIRED = 32,
  YIKA_INTERNAL = 99
};

/* ---- port interfaces ----------------------------------------------------------------------------- */

/* Bytes to the host. Must write all n bytes (block or buffer); returns 0, or -1 if the link is gone. */
typedef struct yika_transport {
  void *ctx;
  int (*write)(void *ctx, const uint8_t *bytes, size_t n);
} yika_transport;

/* Milliseconds from any fixed origin (monotonic; wraps after 49 days, the core compares differences). */
typedef struct yika_clock {
  void *ctx;
  uint32_t (*now_ms)(void *ctx);
} yika_clock;

typedef enum { YIKA_SLOT_CONTACT = 0, YIKA_SLOT_CONTACTLESS = 1, YIKA_SLOT_SAM = 2 } yika_slot_kind;
typedef enum { YIKA_CARD_ABSENT = 0, YIKA_CARD_PRESENT = 1, YIKA_CARD_POWERED = 2, YIKA_CARD_MUTE_STATE = 3 } yika_card_state;

/* One card slot. Calls are synchronous; each returns YIKA_OK or a wire error code (enum yika_error). */
typedef struct yika_card_slot {
  void *ctx;
  uint8_t id;           /* 0x01 contact, 0x02 contactless, 0x11..0x14 SAM (PROTOCOL.md §6) */
  yika_slot_kind kind;
  /* Current state; when powered, also the ATR (≤ 33 bytes) and protocol (0 or 1). */
  yika_card_state (*status)(void *ctx, uint8_t *atr, size_t *atr_len, uint8_t *protocol);
  /* Cold reset (warm = 0) or warm reset (warm = 1): fills the ATR (buffer of 33) and the protocol. */
  int (*power_on)(void *ctx, int warm, uint8_t *atr, size_t *atr_len, uint8_t *protocol);
  int (*power_off)(void *ctx);
  /* One APDU; the response (data + SW1 SW2, ≤ cap bytes) in rapdu. 61xx/6Cxx are returned as they are. */
  int (*transmit)(void *ctx, const uint8_t *apdu, size_t apdu_len, uint8_t *rapdu, size_t cap, size_t *rapdu_len);
  /* Optional (NULL: setParams is UNKNOWN_OPERATION). fi/di 0 = keep; fills what is in effect. */
  int (*set_params)(void *ctx, uint8_t protocol, uint16_t *fi, uint8_t *di);
  /* Optional: the card rate in effect while powered (PROTOCOL.md 6.1: fi, di, clockHz reported in
   * powerOn, resetCard, setParams and slotStatus). Returns 1 when known. */
  int (*rate)(void *ctx, uint16_t *fi, uint8_t *di, uint32_t *clock_hz);
} yika_card_slot;

/* SM4-CTR and the SM2 key-exchange point arithmetic (GB/T 32918.3, responder B). SM3 is in the core's
 * crypto module (crypto/yika_sm3.c), plain data so it can be copied. */
typedef struct yika_crypto {
  void *ctx;
  /* data[0..len) ^= SM4 keystream (key, IV = iv as a 128-bit big-endian counter). Returns 0. */
  int (*sm4_ctr)(void *ctx, const uint8_t key[16], const uint8_t iv[16], uint8_t *data, size_t len);
  /* Checks P_A and R_A (04 || x || y on the curve), picks a fresh r_B, returns R_B and
   * V = [h*t_B](P_A + [x̄_A]R_A), t_B = (d_B + x̄_B*r_B) mod n, with the device's static key d_B.
   * Returns 0, or -1 for an invalid point or V at infinity. */
  int (*sm2_kx_responder)(void *ctx, const uint8_t pa[65], const uint8_t ra[65], uint8_t rb[65], uint8_t v[64]);
} yika_crypto;

typedef enum { YIKA_SECURE_NONE = 0, YIKA_SECURE_SUPPORTED = 1, YIKA_SECURE_REQUIRED = 2 } yika_secure_mode;

/* Everything a port provides. Strings are NUL-terminated, ≤ 64 bytes. */
typedef struct yika_port {
  yika_transport transport;
  yika_clock clock;
  yika_card_slot slots[YIKA_MAX_SLOTS];
  size_t slot_count;
  const char *vendor, *model, *serial, *firmware;
  yika_secure_mode secure;
  yika_crypto crypto;                /* used when secure != NONE */
  const uint8_t *cert_tbs;           /* the device certificate (PROTOCOL.md §10.1) */
  size_t cert_tbs_len;
  const uint8_t *cert_sig;           /* 64 bytes r || s */
  const uint8_t *device_public_key;  /* 65 bytes 04 || x || y: P_B, the certificate's key */
  int diagnostics;                   /* announce and execute diagHold */
  /* Optional: called when deviceReset has been answered (the port may restart the hardware). */
  void (*on_reset)(void *ctx);
  void *reset_ctx;
} yika_port;

/* ---- the device ---------------------------------------------------------------------------------- */

/* Counters reported by deviceInfo (PROTOCOL.md §2: each kind of frame error). */
typedef struct yika_counters {
  uint32_t frames_in, frames_out, crc_errors, cobs_errors, short_frames, oversize_frames;
  uint32_t bad_requests, busy, repeats_answered, repeats_pending, repeats_stale, pending_notices;
  uint32_t events_sent, records_in, records_out, records_rejected, secure_teardowns, rekeys;
} yika_counters;

typedef struct yika_sm3_ctx {
  uint32_t v[8];
  uint8_t block[64];
  uint64_t total;  /* bytes hashed */
  size_t used;     /* bytes in block */
} yika_sm3_ctx;

/* One direction of the record layer (PROTOCOL.md §10.3). */
typedef struct yika_direction {
  uint8_t enc[16], mac[16];
  uint64_t seq;     /* send: next seq; receive: last accepted + 1 (0 = none yet) */
  uint64_t epoch;   /* ratchets applied to enc/mac */
} yika_direction;

typedef enum { YIKA_ST_NOT_READY = 0, YIKA_ST_READY = 1, YIKA_ST_HANDSHAKE = 2, YIKA_ST_SECURE = 3 } yika_state;

typedef struct yika_device {
  const yika_port *port;
  yika_state state;
  uint32_t started_ms;
  yika_counters counters;

  /* receiving (PROTOCOL.md §2): the encoded frame, decoded in place */
  uint8_t rx[YIKA_MAX_ENCODED + 1];
  size_t rx_len;
  int rx_overflow;

  /* negotiated */
  uint32_t max_frame_out;      /* min(host, device) */
  uint32_t event_seq;

  /* exactly once (PROTOCOL.md §9.1), maxInFlight = 1: the newest request and its kept answer */
  int have_newest;
  uint32_t newest_id;
  int held;                    /* the newest request is held (diagHold running) */
  int executing;               /* the port is executing the newest request (yika_poll may be called meanwhile) */
  int answered;                /* out[0..out_len) is the newest request's answer */
  uint32_t hold_until_ms, held_since_ms, next_notice_ms;
  int ping_known;              /* the last ping's id and its answer (kept apart from the window) */
  uint32_t ping_id, ping_next_event;
  int have_latest;             /* the highest id of the connection (requests and pings): older ids are stale */
  uint32_t latest_id;
  int scfinish_plain;          /* the kept answer is the scFinish answer, sent in plaintext again until the host's first record */
  int reported_teardown;

  uint8_t out[YIKA_MAX_FRAME];       /* the kept answer (plaintext message) */
  size_t out_len;
  uint8_t small[320];                /* notices, events, id-0 errors, BUSY, ping results */
  uint8_t seal[YIKA_MAX_FRAME];      /* a record being sealed */

  /* secure channel */
  yika_sm3_ctx transcript_prefix;    /* label || hello request || hello result */
  int have_prefix;
  uint8_t pending_keys[64];          /* keys of the handshake in progress */
  uint8_t expect_sa[32];
  yika_direction tx_dir, rx_dir;
} yika_device;

/* Starts the device (state NOT_READY). The port must outlive the device. */
void yika_init(yika_device *dev, const yika_port *port);
/* Bytes received from the host, in any chunks. */
void yika_input(yika_device *dev, const uint8_t *bytes, size_t n);
/* Call often (every few ms): sends pending notices, finishes a diagHold. A port whose card commands
 * can take long SHOULD also call it from inside them (from the same thread, never concurrently with
 * yika_input): while a request executes it only sends that request's pending notices, every 200 ms. */
void yika_poll(yika_device *dev);
/* An unsolicited card event (inserted = 1: card.inserted, 0: card.removed). Dropped before hello and
 * in plaintext on a device that requires the channel (PROTOCOL.md §7). Returns 1 if sent. */
int yika_card_event(yika_device *dev, uint8_t slot, int inserted);

/* ---- crypto module (crypto/yika_sm3.c) ----------------------------------------------------------- */
void yika_sm3_init(yika_sm3_ctx *c);
void yika_sm3_update(yika_sm3_ctx *c, const uint8_t *p, size_t n);
void yika_sm3_final(yika_sm3_ctx *c, uint8_t out[32]);
void yika_sm3(const uint8_t *p, size_t n, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
