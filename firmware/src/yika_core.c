/* The device session of the Yika reader protocol (PROTOCOL.md revision 1.2): frames in, requests
 * decoded and checked in the order of §4.1, exactly-once window (maxInFlight 1), pending notices,
 * diagHold, the operations of §6 on the port's card slots, events with seq, and the secure channel. */
#include "yika_secure.h"
#include "yika_wire.h"

#define PENDING_NOTICE_MS 200u
#define MAX_DIAG_HOLD_MS 10000u
#define PROTOCOL_MAX_FRAME 262144u
#define BATCH_ANSWER_OVERHEAD 64u
#define PER_RESPONSE_OVERHEAD 5u
#define MAX_APDU 65544u

enum op {
  OP_HELLO, OP_SLOT_STATUS, OP_POWER_ON, OP_POWER_OFF, OP_RESET_CARD, OP_SET_PARAMS, OP_TRANSMIT,
  OP_TRANSMIT_BATCH, OP_PING, OP_DEVICE_RESET, OP_DEVICE_INFO, OP_SC_OPEN, OP_SC_FINISH, OP_DIAG_HOLD, OP_COUNT
};
static const char *const OP_NAMES[OP_COUNT] = {"hello", "slotStatus", "powerOn", "powerOff", "resetCard", "setParams", "transmit",
                                                "transmitBatch", "ping", "deviceReset", "deviceInfo", "scOpen", "scFinish", "diagHold"};

/* Argument keys: their value offsets are recorded in one pass over the request map. */
enum arg { A_SLOT, A_APDU, A_COMMANDS, A_VERSIONS, A_MAX_FRAME, A_HOST, A_PROTOCOL, A_FI, A_DI, A_SUITES, A_HOST_KEY, A_EPHEMERAL, A_CONFIRM, A_MS, A_COUNT };
static const char *const ARG_NAMES[A_COUNT] = {"slot", "apdu", "commands", "versions", "maxFrame", "host", "protocol", "fi", "di", "suites", "hostKey", "ephemeral", "confirm", "ms"};

typedef struct {
  const uint8_t *p;
  size_t n;
  uint32_t id;
  int op;               /* enum op, or -1 unknown, -2 absent/not a string */
  size_t arg[A_COUNT];  /* offset + 1 of each argument's value; 0 = absent */
} request;

/* ---- sending ----------------------------------------------------------------------------------- */
static int sink(void *ctx, const uint8_t *bytes, size_t n) {
  const yika_port *port = (const yika_port *)ctx;
  return port->transport.write(port->transport.ctx, bytes, n);
}

static void send_payload(yika_device *d, const uint8_t *payload, size_t n) {
  if (yika_frame_write(payload, n, sink, (void *)d->port) == 0) d->counters.frames_out++;
}

/* Sends one message: sealed inside the channel unless plain. */
static void send_msg(yika_device *d, const uint8_t *msg, size_t n, int plain) {
#if YIKA_SECURE_CHANNEL
  if (d->state == YIKA_ST_SECURE && !plain) {
    if (n + YIKA_RECORD_OVERHEAD > d->max_frame_out || n + YIKA_RECORD_OVERHEAD > sizeof d->seal) return;
    send_payload(d, d->seal, yika_record_seal(&d->port->crypto, &d->tx_dir, msg, n, d->seal));
    d->counters.records_out++;
    return;
  }
#endif
  (void)plain;
  send_payload(d, msg, n);
}

/* Writes {id, ok: false, code[, message]} into buf; returns its length, or 0 if it did not fit. */
static size_t write_error(uint8_t *buf, size_t cap, uint32_t id, int code, const char *message) {
  yika_mp_writer w;
  yika_mp_writer_init(&w, buf, cap);
  yika_mp_w_map(&w, message ? 4 : 3);
  yika_mp_w_str(&w, "id");
  yika_mp_w_uint(&w, id);
  yika_mp_w_str(&w, "ok");
  yika_mp_w_bool(&w, 0);
  yika_mp_w_str(&w, "code");
  yika_mp_w_uint(&w, (uint64_t)code);
  if (message) {
    yika_mp_w_str(&w, "message");
    yika_mp_w_str(&w, message);
  }
  return w.err ? 0 : w.len;
}

/* An error that is not kept as an answer (id 0, decode errors, BUSY). */
static void send_error_small(yika_device *d, uint32_t id, int code, const char *message, int plain) {
  size_t n = write_error(d->small, sizeof d->small, id, code, message);
  if (n) send_msg(d, d->small, n, plain);
}

static void send_pending(yika_device *d, uint32_t id) {
  yika_mp_writer w;
  yika_mp_writer_init(&w, d->small, sizeof d->small);
  yika_mp_w_map(&w, 2);
  yika_mp_w_str(&w, "id");
  yika_mp_w_uint(&w, id);
  yika_mp_w_str(&w, "pending");
  yika_mp_w_bool(&w, 1);
  d->counters.pending_notices++;
  send_msg(d, d->small, w.len, 0);
}

static void send_ping_result(yika_device *d, uint32_t id, uint32_t next_event) {
  yika_mp_writer w;
  yika_mp_writer_init(&w, d->small, sizeof d->small);
  yika_mp_w_map(&w, 3);
  yika_mp_w_str(&w, "id");
  yika_mp_w_uint(&w, id);
  yika_mp_w_str(&w, "ok");
  yika_mp_w_bool(&w, 1);
  yika_mp_w_str(&w, "nextEvent");
  yika_mp_w_uint(&w, next_event);
  send_msg(d, d->small, w.len, 0);
}

/* The answer in d->out goes out and is kept for repeats (it is the window's answer). */
static void send_answer(yika_device *d, int plain) {
  d->answered = 1;
  d->held = 0;
  send_msg(d, d->out, d->out_len, plain);
}

/* Writes an error answer for the current request into d->out (kept). */
static void answer_error(yika_device *d, uint32_t id, int code, const char *message) {
  d->out_len = write_error(d->out, sizeof d->out, id, code, message);
}

/* Starts a result map {id, ok: true, + extra entries} in d->out. */
static void result_begin(yika_mp_writer *w, yika_device *d, uint32_t id, uint32_t extra) {
  yika_mp_writer_init(w, d->out, sizeof d->out);
  yika_mp_w_map(w, 2 + extra);
  yika_mp_w_str(w, "id");
  yika_mp_w_uint(w, id);
  yika_mp_w_str(w, "ok");
  yika_mp_w_bool(w, 1);
}

/* Finishes a result: FRAME_TOO_LARGE if it does not fit what the host accepts. 1 = the result stands. */
static int result_end(yika_device *d, yika_mp_writer *w, uint32_t id) {
  size_t limit = d->max_frame_out - (d->state == YIKA_ST_SECURE ? YIKA_RECORD_OVERHEAD : 0u);
  if (w->err || w->len > limit) {
    answer_error(d, id, YIKA_FRAME_TOO_LARGE, "the answer does not fit the negotiated frame size");
    return 0;
  }
  d->out_len = w->len;
  return 1;
}

/* ---- connection -------------------------------------------------------------------------------- */
static void forget_connection(yika_device *d) {
  d->have_newest = 0;
  d->have_latest = 0;
  d->held = 0;
  d->answered = 0;
  d->ping_known = 0;
  d->scfinish_plain = 0;
  d->have_prefix = 0;
}

static void tear_down(yika_device *d, int report) {
  if (d->state == YIKA_ST_SECURE) {
    d->counters.secure_teardowns++;
    d->state = YIKA_ST_NOT_READY;
    forget_connection(d);
    d->reported_teardown = 0;
  }
  if (report && !d->reported_teardown) {
    d->reported_teardown = 1;
    send_error_small(d, 0, YIKA_SECURE_CHANNEL_FAILED, "the secure channel was torn down; send hello again", 1);
  }
}

void yika_init(yika_device *d, const yika_port *port) {
  size_t i;
  uint8_t *raw = (uint8_t *)d;
  for (i = 0; i < sizeof *d; i++) raw[i] = 0;
  d->port = port;
  d->state = YIKA_ST_NOT_READY;
  d->max_frame_out = 512u;
  d->started_ms = port->clock.now_ms(port->clock.ctx);
}

static uint32_t now(yika_device *d) { return d->port->clock.now_ms(d->port->clock.ctx); }

/* ---- decoding (PROTOCOL.md §4.1 steps 2–4) ------------------------------------------------------- */

/* Step 2/3: the map, its id and op, the offsets of the arguments. 0, or -1: BAD_REQUEST for id 0. */
static int parse_request(const uint8_t *p, size_t n, request *rq) {
  yika_mp_reader r;
  uint32_t count, klen, i;
  const uint8_t *key;
  int have_id = 0, k;
  rq->p = p;
  rq->n = n;
  rq->op = -2;
  rq->id = 0;
  for (k = 0; k < A_COUNT; k++) rq->arg[k] = 0;
  yika_mp_reader_init(&r, p, n);
  if (yika_mp_peek(&r) != YIKA_MP_MAP || !yika_mp_map(&r, &count)) return -1;
  for (i = 0; i < count; i++) {
    if (yika_mp_peek(&r) != YIKA_MP_STR) {
      if (!yika_mp_skip(&r) || !yika_mp_skip(&r)) return -1;
      continue;
    }
    yika_mp_str(&r, &key, &klen);
    if (yika_mp_key_is(key, klen, "id")) {
      uint64_t v;
      int t = yika_mp_peek(&r);
      if ((t == YIKA_MP_UINT || t == YIKA_MP_NINT) && yika_mp_uint(&r, &v) && v >= 1 && v <= 0xffffffffu) {
        rq->id = (uint32_t)v;
        have_id = 1;
      } else {
        r.err = 0;
        have_id = 0;
        if (!yika_mp_skip(&r)) return -1;
      }
      continue;
    }
    if (yika_mp_key_is(key, klen, "op")) {
      const uint8_t *op;
      uint32_t olen;
      if (yika_mp_peek(&r) == YIKA_MP_STR) {
        yika_mp_str(&r, &op, &olen);
        rq->op = -1;
        for (k = 0; k < OP_COUNT; k++)
          if (yika_mp_key_is(op, olen, OP_NAMES[k])) rq->op = k;
      } else {
        rq->op = -2;
        if (!yika_mp_skip(&r)) return -1;
      }
      continue;
    }
    for (k = 0; k < A_COUNT; k++)
      if (yika_mp_key_is(key, klen, ARG_NAMES[k])) rq->arg[k] = r.pos + 1;
    if (!yika_mp_skip(&r)) return -1;
  }
  if (r.err || r.pos != n || !have_id) return -1;
  return 0;
}

static int arg_reader(const request *rq, int a, yika_mp_reader *r) {
  if (!rq->arg[a]) return 0;
  yika_mp_reader_init(r, rq->p, rq->n);
  r->pos = rq->arg[a] - 1;
  return 1;
}

/* 1 = a uint ≤ max present, 0 = absent, -1 = wrong type or out of range */
static int arg_uint(const request *rq, int a, uint64_t max, uint64_t *v) {
  yika_mp_reader r;
  if (!arg_reader(rq, a, &r)) return 0;
  if (yika_mp_peek(&r) == YIKA_MP_NIL) return 0; /* nil counts as absent */
  if (!yika_mp_uint(&r, v) || *v > max) return -1;
  return 1;
}

static int arg_bin(const request *rq, int a, uint32_t min, uint32_t max, const uint8_t **b, uint32_t *len) {
  yika_mp_reader r;
  if (!arg_reader(rq, a, &r)) return 0;
  if (yika_mp_peek(&r) != YIKA_MP_BIN || !yika_mp_bin(&r, b, len) || *len < min || *len > max) return -1;
  return 1;
}

static int valid_slot_arg(const request *rq, int required) {
  uint64_t v;
  int s = arg_uint(rq, A_SLOT, 255, &v);
  return s == 1 || (s == 0 && !required);
}

/* One batch command map; fills apdu and the expect list (≤ 8). */
typedef struct {
  const uint8_t *apdu;
  uint32_t apdu_len;
  uint16_t sw[8], mask[8];
  uint32_t expects;
  int has_expect;
} batch_cmd;

static int read_batch_cmd(yika_mp_reader *r, batch_cmd *c) {
  uint32_t count, klen, i, j, m;
  const uint8_t *key;
  int have_apdu = 0;
  c->has_expect = 0;
  c->expects = 0;
  if (yika_mp_peek(r) != YIKA_MP_MAP || !yika_mp_map(r, &count)) return 0;
  for (i = 0; i < count; i++) {
    if (yika_mp_peek(r) != YIKA_MP_STR) {
      if (!yika_mp_skip(r) || !yika_mp_skip(r)) return 0;
      continue;
    }
    yika_mp_str(r, &key, &klen);
    if (yika_mp_key_is(key, klen, "apdu")) {
      if (yika_mp_peek(r) != YIKA_MP_BIN || !yika_mp_bin(r, &c->apdu, &c->apdu_len) || c->apdu_len < 4 || c->apdu_len > MAX_APDU) return 0;
      have_apdu = 1;
    } else if (yika_mp_key_is(key, klen, "expect") && yika_mp_peek(r) != YIKA_MP_NIL) {
      if (yika_mp_peek(r) != YIKA_MP_ARRAY || !yika_mp_array(r, &c->expects) || c->expects > 8) return 0;
      c->has_expect = 1;
      for (j = 0; j < c->expects; j++) {
        int have_sw = 0, have_mask = 0;
        if (yika_mp_peek(r) != YIKA_MP_MAP || !yika_mp_map(r, &m)) return 0;
        while (m--) {
          uint64_t v;
          const uint8_t *ek;
          uint32_t eklen;
          if (yika_mp_peek(r) != YIKA_MP_STR) {
            if (!yika_mp_skip(r) || !yika_mp_skip(r)) return 0;
            continue;
          }
          yika_mp_str(r, &ek, &eklen);
          if (yika_mp_key_is(ek, eklen, "sw") || yika_mp_key_is(ek, eklen, "mask")) {
            int is_sw = ek[0] == 's';
            if (!yika_mp_uint(r, &v) || v > 0xffff) return 0;
            if (is_sw) { c->sw[j] = (uint16_t)v; have_sw = 1; }
            else { c->mask[j] = (uint16_t)v; have_mask = 1; }
          } else if (!yika_mp_skip(r)) return 0;
        }
        if (!have_sw || !have_mask) return 0;
      }
    } else if (!yika_mp_skip(r)) return 0;
  }
  return have_apdu && !r->err;
}

/* Step 4: the arguments of the operation. 1 valid, 0 BAD_REQUEST. */
static int valid_args(const request *rq) {
  uint64_t v;
  const uint8_t *b;
  uint32_t len, count, i;
  yika_mp_reader r;
  switch (rq->op) {
  case OP_HELLO:
    if (!arg_reader(rq, A_VERSIONS, &r) || yika_mp_peek(&r) != YIKA_MP_ARRAY || !yika_mp_array(&r, &count) || count < 1 || count > 8) return 0;
    for (i = 0; i < count; i++)
      if (!yika_mp_uint(&r, &v) || v > 255) return 0;
    if (arg_uint(rq, A_MAX_FRAME, 0xffffffffu, &v) != 1) return 0;
    if (arg_reader(rq, A_HOST, &r) && yika_mp_peek(&r) != YIKA_MP_NIL) {
      if (yika_mp_peek(&r) != YIKA_MP_STR || !yika_mp_str(&r, &b, &len) || len > 64) return 0;
    }
    return 1;
  case OP_SLOT_STATUS:
    return valid_slot_arg(rq, 0);
  case OP_POWER_ON:
  case OP_POWER_OFF:
  case OP_RESET_CARD:
    return valid_slot_arg(rq, 1);
  case OP_SET_PARAMS:
    return valid_slot_arg(rq, 1) && arg_uint(rq, A_PROTOCOL, 1, &v) == 1 && arg_uint(rq, A_FI, 0xffff, &v) >= 0 && arg_uint(rq, A_DI, 0xff, &v) >= 0;
  case OP_TRANSMIT:
    return valid_slot_arg(rq, 1) && arg_bin(rq, A_APDU, 4, MAX_APDU, &b, &len) == 1;
  case OP_TRANSMIT_BATCH:
    if (!valid_slot_arg(rq, 1)) return 0;
    if (!arg_reader(rq, A_COMMANDS, &r) || yika_mp_peek(&r) != YIKA_MP_ARRAY || !yika_mp_array(&r, &count) || count < 1 || count > 255) return 0;
    for (i = 0; i < count; i++) {
      batch_cmd c;
      if (!read_batch_cmd(&r, &c)) return 0;
    }
    return 1;
  case OP_SC_OPEN:
    if (!arg_reader(rq, A_SUITES, &r) || yika_mp_peek(&r) != YIKA_MP_ARRAY || !yika_mp_array(&r, &count) || count < 1 || count > 8) return 0;
    for (i = 0; i < count; i++)
      if (!yika_mp_uint(&r, &v) || v > 255) return 0;
    return arg_bin(rq, A_HOST_KEY, 65, 65, &b, &len) == 1 && arg_bin(rq, A_EPHEMERAL, 65, 65, &b, &len) == 1;
  case OP_SC_FINISH:
    return arg_bin(rq, A_CONFIRM, 32, 32, &b, &len) == 1;
  case OP_DIAG_HOLD:
    return arg_uint(rq, A_MS, MAX_DIAG_HOLD_MS, &v) == 1 && v >= 1;
  default:
    return 1;
  }
}

/* Step 3: an operation this device does not implement. */
static int implemented(const yika_device *d, int op) {
  size_t i;
  switch (op) {
  case OP_SC_OPEN:
  case OP_SC_FINISH:
    return YIKA_SECURE_CHANNEL && d->port->secure != YIKA_SECURE_NONE;
  case OP_DIAG_HOLD:
    return d->port->diagnostics != 0;
  case OP_TRANSMIT_BATCH:
    return YIKA_MAX_BATCH > 0;
  case OP_SET_PARAMS:
    for (i = 0; i < d->port->slot_count; i++)
      if (d->port->slots[i].set_params) return 1;
    return 0;
  default:
    return op >= 0 && op < OP_COUNT;
  }
}

/* ---- operations -------------------------------------------------------------------------------- */
static const yika_card_slot *find_slot(const yika_device *d, uint32_t id) {
  size_t i;
  for (i = 0; i < d->port->slot_count; i++)
    if (d->port->slots[i].id == id) return &d->port->slots[i];
  return 0;
}

static const char *kind_name(yika_slot_kind k) { return k == YIKA_SLOT_SAM ? "sam" : k == YIKA_SLOT_CONTACTLESS ? "contactless" : "contact"; }

static void op_hello(yika_device *d, const request *rq) {
  yika_mp_reader r;
  uint64_t v, host_max = 0;
  uint32_t count, i;
  int found = 0;
  size_t s;
  yika_mp_writer w;
  /* A new connection: channel closed, window empty (the hello's own id is not in it: D1), events from 0. */
  d->state = YIKA_ST_NOT_READY;
  forget_connection(d);
  d->reported_teardown = 0;
  arg_reader(rq, A_VERSIONS, &r);
  yika_mp_array(&r, &count);
  for (i = 0; i < count; i++) {
    yika_mp_uint(&r, &v);
    if (v == 1) found = 1;
  }
  if (!found) {
    answer_error(d, rq->id, YIKA_UNSUPPORTED_VERSION, "this device speaks protocol version 1");
    send_answer(d, 1);
    return;
  }
  arg_uint(rq, A_MAX_FRAME, 0xffffffffu, &host_max);
  if (host_max < 512u) {
    answer_error(d, rq->id, YIKA_BAD_REQUEST, "maxFrame must be at least 512");
    send_answer(d, 1);
    return;
  }
  if (host_max > PROTOCOL_MAX_FRAME) host_max = PROTOCOL_MAX_FRAME; /* D11: accepted, counts as 262,144 */
  d->max_frame_out = (uint32_t)(host_max < YIKA_MAX_FRAME ? host_max : YIKA_MAX_FRAME);
  result_begin(&w, d, rq->id, 12u + (d->port->diagnostics ? 1u : 0u));
  yika_mp_w_str(&w, "version"); yika_mp_w_uint(&w, 1);
  yika_mp_w_str(&w, "vendor"); yika_mp_w_str(&w, d->port->vendor);
  yika_mp_w_str(&w, "model"); yika_mp_w_str(&w, d->port->model);
  yika_mp_w_str(&w, "serial"); yika_mp_w_str(&w, d->port->serial);
  yika_mp_w_str(&w, "firmware"); yika_mp_w_str(&w, d->port->firmware);
  yika_mp_w_str(&w, "slots");
  yika_mp_w_array(&w, (uint32_t)d->port->slot_count);
  for (s = 0; s < d->port->slot_count; s++) {
    yika_mp_w_map(&w, 2);
    yika_mp_w_str(&w, "id"); yika_mp_w_uint(&w, d->port->slots[s].id);
    yika_mp_w_str(&w, "kind"); yika_mp_w_str(&w, kind_name(d->port->slots[s].kind));
  }
  yika_mp_w_str(&w, "qrScanner"); yika_mp_w_bool(&w, 0);
  yika_mp_w_str(&w, "maxFrame"); yika_mp_w_uint(&w, YIKA_MAX_FRAME);
  yika_mp_w_str(&w, "secureChannel");
  yika_mp_w_str(&w, !YIKA_SECURE_CHANNEL || d->port->secure == YIKA_SECURE_NONE ? "none" : d->port->secure == YIKA_SECURE_REQUIRED ? "required" : "supported");
  yika_mp_w_str(&w, "batch"); yika_mp_w_bool(&w, YIKA_MAX_BATCH > 0);
  yika_mp_w_str(&w, "maxBatch"); yika_mp_w_uint(&w, YIKA_MAX_BATCH);
  yika_mp_w_str(&w, "maxInFlight"); yika_mp_w_uint(&w, 1);
  if (d->port->diagnostics) { yika_mp_w_str(&w, "diagnostics"); yika_mp_w_bool(&w, 1); }
  result_end(d, &w, rq->id);
  send_answer(d, 1);
  d->answered = 0; /* hello is not kept: a repeat is executed again */
  d->event_seq = 0;
  d->state = YIKA_ST_READY;
#if YIKA_SECURE_CHANNEL
  if (d->port->secure != YIKA_SECURE_NONE) {
    static const char label[] = "yika-sc1 transcript";
    uint8_t len[4];
    yika_sm3_init(&d->transcript_prefix);
    yika_sm3_update(&d->transcript_prefix, (const uint8_t *)label, sizeof label - 1);
    len[0] = (uint8_t)(rq->n >> 24); len[1] = (uint8_t)(rq->n >> 16); len[2] = (uint8_t)(rq->n >> 8); len[3] = (uint8_t)rq->n;
    yika_sm3_update(&d->transcript_prefix, len, 4);
    yika_sm3_update(&d->transcript_prefix, rq->p, rq->n);
    len[0] = (uint8_t)(d->out_len >> 24); len[1] = (uint8_t)(d->out_len >> 16); len[2] = (uint8_t)(d->out_len >> 8); len[3] = (uint8_t)d->out_len;
    yika_sm3_update(&d->transcript_prefix, len, 4);
    yika_sm3_update(&d->transcript_prefix, d->out, d->out_len);
    d->have_prefix = 1;
  }
#endif
}

/* The rate in effect (PROTOCOL.md 6.1), when the slot knows it: 1 and the values, else 0. */
typedef struct {
  uint16_t fi;
  uint8_t di;
  uint32_t clock_hz;
} card_rate;
static int slot_rate(const yika_card_slot *s, card_rate *r) {
  return s->rate && s->rate(s->ctx, &r->fi, &r->di, &r->clock_hz) == 1 && r->fi >= 1 && r->di >= 1 && r->clock_hz >= 1 && r->clock_hz <= 100000000u;
}
static void write_rate(yika_mp_writer *w, const card_rate *r) {
  yika_mp_w_str(w, "fi"); yika_mp_w_uint(w, r->fi);
  yika_mp_w_str(w, "di"); yika_mp_w_uint(w, r->di);
  yika_mp_w_str(w, "clockHz"); yika_mp_w_uint(w, r->clock_hz);
}

static void write_atr_state(yika_mp_writer *w, const uint8_t *atr, size_t atr_len, uint8_t protocol) {
  yika_mp_w_str(w, "atr");
  yika_mp_w_bin(w, atr, atr_len);
  yika_mp_w_str(w, "protocol");
  yika_mp_w_uint(w, protocol);
}

static void op_slot_status(yika_device *d, const request *rq) {
  uint64_t only = 0;
  int one = arg_uint(rq, A_SLOT, 255, &only) == 1;
  size_t i, n = 0;
  yika_mp_writer w;
  static const char *const states[4] = {"absent", "present", "powered", "mute"};
  if (one && !find_slot(d, (uint32_t)only)) {
    answer_error(d, rq->id, YIKA_BAD_SLOT, 0);
    return;
  }
  for (i = 0; i < d->port->slot_count; i++)
    if (!one || d->port->slots[i].id == only) n++;
  result_begin(&w, d, rq->id, 1);
  yika_mp_w_str(&w, "slots");
  yika_mp_w_array(&w, (uint32_t)n);
  for (i = 0; i < d->port->slot_count; i++) {
    const yika_card_slot *s = &d->port->slots[i];
    uint8_t atr[33], protocol = 0;
    size_t atr_len = 0;
    yika_card_state st;
    if (one && s->id != only) continue;
    st = s->status(s->ctx, atr, &atr_len, &protocol);
    if (st > YIKA_CARD_MUTE_STATE) st = YIKA_CARD_MUTE_STATE;
    if (atr_len > 33) atr_len = 33;
    {
      card_rate cr;
      int with_rate = st == YIKA_CARD_POWERED && slot_rate(s, &cr);
      yika_mp_w_map(&w, st == YIKA_CARD_POWERED ? (with_rate ? 7u : 4u) : 2u);
      yika_mp_w_str(&w, "slot"); yika_mp_w_uint(&w, s->id);
      yika_mp_w_str(&w, "card"); yika_mp_w_str(&w, states[st]);
      if (st == YIKA_CARD_POWERED) write_atr_state(&w, atr, atr_len, protocol);
      if (with_rate) write_rate(&w, &cr);
    }
  }
  result_end(d, &w, rq->id);
}

static void op_power(yika_device *d, const request *rq, int warm) {
  uint64_t slot = 0;
  const yika_card_slot *s;
  uint8_t atr[33], protocol = 0;
  size_t atr_len = 0;
  int rc;
  yika_mp_writer w;
  arg_uint(rq, A_SLOT, 255, &slot);
  if (!(s = find_slot(d, (uint32_t)slot))) { answer_error(d, rq->id, YIKA_BAD_SLOT, 0); return; }
  rc = s->power_on(s->ctx, warm, atr, &atr_len, &protocol);
  if (rc != YIKA_OK) { answer_error(d, rq->id, rc, 0); return; }
  if (atr_len < 2 || atr_len > 33) { answer_error(d, rq->id, YIKA_CARD_PROTOCOL_ERROR, "invalid ATR"); return; }
  {
    card_rate cr;
    int with_rate = slot_rate(s, &cr);
    result_begin(&w, d, rq->id, with_rate ? 5u : 2u);
    write_atr_state(&w, atr, atr_len, protocol);
    if (with_rate) write_rate(&w, &cr);
  }
  result_end(d, &w, rq->id);
}

static void op_power_off(yika_device *d, const request *rq) {
  uint64_t slot = 0;
  const yika_card_slot *s;
  int rc;
  yika_mp_writer w;
  arg_uint(rq, A_SLOT, 255, &slot);
  if (!(s = find_slot(d, (uint32_t)slot))) { answer_error(d, rq->id, YIKA_BAD_SLOT, 0); return; }
  rc = s->power_off(s->ctx);
  if (rc != YIKA_OK) { answer_error(d, rq->id, rc, 0); return; }
  result_begin(&w, d, rq->id, 0);
  result_end(d, &w, rq->id);
}

static void op_set_params(yika_device *d, const request *rq) {
  uint64_t slot = 0, protocol = 0, fi = 0, di = 0;
  const yika_card_slot *s;
  uint16_t f;
  uint8_t dd;
  int rc;
  yika_mp_writer w;
  arg_uint(rq, A_SLOT, 255, &slot);
  arg_uint(rq, A_PROTOCOL, 1, &protocol);
  arg_uint(rq, A_FI, 0xffff, &fi);
  arg_uint(rq, A_DI, 0xff, &di);
  if (!(s = find_slot(d, (uint32_t)slot))) { answer_error(d, rq->id, YIKA_BAD_SLOT, 0); return; }
  if (!s->set_params) { answer_error(d, rq->id, YIKA_CARD_PROTOCOL_ERROR, "this slot cannot change its parameters"); return; }
  f = (uint16_t)fi;
  dd = (uint8_t)di;
  rc = s->set_params(s->ctx, (uint8_t)protocol, &f, &dd);
  if (rc != YIKA_OK) { answer_error(d, rq->id, rc, 0); return; }
  {
    card_rate cr;
    int with_clock = slot_rate(s, &cr);
    result_begin(&w, d, rq->id, with_clock ? 4u : 3u);
    yika_mp_w_str(&w, "protocol"); yika_mp_w_uint(&w, protocol);
    yika_mp_w_str(&w, "fi"); yika_mp_w_uint(&w, f);
    yika_mp_w_str(&w, "di"); yika_mp_w_uint(&w, dd);
    if (with_clock) { yika_mp_w_str(&w, "clockHz"); yika_mp_w_uint(&w, cr.clock_hz); }
  }
  result_end(d, &w, rq->id);
}

/* Ne + 2 (PROTOCOL.md 1.2 §6, D3). */
static uint32_t worst_case_answer(const uint8_t *a, uint32_t n) {
  uint32_t lc;
  if (n <= 4) return 2;
  if (n == 5) return (a[4] ? a[4] : 256u) + 2u;
  if (a[4] != 0) {
    if (n == 5u + a[4]) return 2;
    if (n == 6u + a[4]) return (a[n - 1] ? a[n - 1] : 256u) + 2u;
    return 2;
  }
  if (n == 7) {
    lc = ((uint32_t)a[5] << 8) | a[6];
    return (lc ? lc : 65536u) + 2u;
  }
  if (n < 7) return 2;
  lc = ((uint32_t)a[5] << 8) | a[6];
  if (lc == 0) return 2;
  if (n == 7u + lc) return 2;
  if (n == 9u + lc) {
    uint32_t le = ((uint32_t)a[n - 2] << 8) | a[n - 1];
    return (le ? le : 65536u) + 2u;
  }
  return 2;
}

static uint32_t answer_limit(const yika_device *d) {
  uint32_t limit = d->max_frame_out - (d->state == YIKA_ST_SECURE ? YIKA_RECORD_OVERHEAD : 0u);
  return limit < sizeof d->out ? limit : (uint32_t)sizeof d->out;
}

static void op_transmit(yika_device *d, const request *rq) {
  uint64_t slot = 0;
  const yika_card_slot *s;
  const uint8_t *apdu;
  uint32_t apdu_len;
  size_t rlen = 0, room;
  uint8_t *at;
  int rc;
  yika_mp_writer w;
  arg_uint(rq, A_SLOT, 255, &slot);
  arg_bin(rq, A_APDU, 4, MAX_APDU, &apdu, &apdu_len);
  if (!(s = find_slot(d, (uint32_t)slot))) { answer_error(d, rq->id, YIKA_BAD_SLOT, 0); return; }
  if (BATCH_ANSWER_OVERHEAD + worst_case_answer(apdu, apdu_len) > answer_limit(d)) {
    answer_error(d, rq->id, YIKA_FRAME_TOO_LARGE, "the worst-case answer does not fit the negotiated frame");
    return;
  }
  /* The rapdu goes straight into the answer: bin32 header, then shrunk to the real size. */
  result_begin(&w, d, rq->id, 1);
  yika_mp_w_str(&w, "rapdu");
  if (w.err || w.len + 5u + 2u > answer_limit(d)) { answer_error(d, rq->id, YIKA_INTERNAL, 0); return; }
  room = answer_limit(d) - w.len - 5u;
  at = d->out + w.len + 5u;
  rc = s->transmit(s->ctx, apdu, apdu_len, at, room, &rlen);
  if (rc != YIKA_OK) { answer_error(d, rq->id, rc, 0); return; }
  if (rlen < 2 || rlen > room) { answer_error(d, rq->id, rlen > room ? YIKA_FRAME_TOO_LARGE : YIKA_CARD_PROTOCOL_ERROR, 0); return; }
  {
    /* Re-encode the bin header with the smallest form and move the data down. */
    uint8_t *dst = yika_mp_w_bin_begin(&w, rlen);
    size_t i;
    if (!dst) { answer_error(d, rq->id, YIKA_FRAME_TOO_LARGE, 0); return; }
    for (i = 0; i < rlen; i++) dst[i] = at[i];
  }
  result_end(d, &w, rq->id);
}

static void op_transmit_batch(yika_device *d, const request *rq) {
  uint64_t slot = 0;
  const yika_card_slot *s;
  yika_mp_reader r;
  uint32_t count, i, worst = BATCH_ANSWER_OVERHEAD;
  batch_cmd c;
  yika_mp_writer w;
  size_t arr_at, n_at;
  uint32_t done = 0;
  int stopped = -1;
  arg_uint(rq, A_SLOT, 255, &slot);
  if (!(s = find_slot(d, (uint32_t)slot))) { answer_error(d, rq->id, YIKA_BAD_SLOT, 0); return; }
  arg_reader(rq, A_COMMANDS, &r);
  yika_mp_array(&r, &count);
  if (count > YIKA_MAX_BATCH) { answer_error(d, rq->id, YIKA_BATCH_TOO_LONG, 0); return; }
  {
    yika_mp_reader scan = r;
    for (i = 0; i < count; i++) {
      read_batch_cmd(&scan, &c);
      worst += worst_case_answer(c.apdu, c.apdu_len) + PER_RESPONSE_OVERHEAD;
      if (worst > answer_limit(d)) break;
    }
    if (worst > answer_limit(d)) {
      answer_error(d, rq->id, YIKA_FRAME_TOO_LARGE, "the worst-case answer does not fit the negotiated frame");
      return;
    }
  }
  /* {id, ok, responses: [..], stoppedAt?}: the map size and array length are patched at the end
   * (map16/array16 headers keep their size fixed). */
  yika_mp_writer_init(&w, d->out, answer_limit(d));
  n_at = w.len;
  if (w.cap < 3) { answer_error(d, rq->id, YIKA_INTERNAL, 0); return; }
  d->out[0] = 0xde; d->out[1] = 0; d->out[2] = 3; w.len = 3;
  yika_mp_w_str(&w, "id"); yika_mp_w_uint(&w, rq->id);
  yika_mp_w_str(&w, "ok"); yika_mp_w_bool(&w, 1);
  yika_mp_w_str(&w, "responses");
  arr_at = w.len;
  yika_mp_w_array(&w, 0xffff); /* array16 placeholder */
  for (i = 0; i < count && stopped < 0; i++) {
    uint8_t *at;
    size_t rlen = 0, room;
    int rc;
    uint16_t sw;
    int go_on = 0;
    read_batch_cmd(&r, &c);
    if (w.err || w.len + 5u + 2u > w.cap) { answer_error(d, rq->id, YIKA_FRAME_TOO_LARGE, 0); return; }
    room = w.cap - w.len - 5u;
    at = d->out + w.len + 5u;
    rc = s->transmit(s->ctx, c.apdu, c.apdu_len, at, room, &rlen);
    if (rc != YIKA_OK) { answer_error(d, rq->id, rc, 0); return; } /* a device error fails the whole batch */
    if (rlen < 2 || rlen > room) { answer_error(d, rq->id, rlen > room ? YIKA_FRAME_TOO_LARGE : YIKA_CARD_PROTOCOL_ERROR, 0); return; }
    {
      uint8_t *dst = yika_mp_w_bin_begin(&w, rlen);
      size_t k;
      if (!dst) { answer_error(d, rq->id, YIKA_FRAME_TOO_LARGE, 0); return; }
      for (k = 0; k < rlen; k++) dst[k] = at[k];
      sw = (uint16_t)((dst[rlen - 2] << 8) | dst[rlen - 1]);
    }
    done++;
    /* Rule 1: 61xx and 6Cxx always stop (the card holds data / wants the command again). */
    if ((sw >> 8) == 0x61 || (sw >> 8) == 0x6C) {
      stopped = (int)i;
      break;
    }
    /* Rule 2: expect (absent: 9000 only). */
    if (!c.has_expect) go_on = sw == 0x9000;
    else {
      uint32_t e;
      for (e = 0; e < c.expects; e++)
        if ((uint16_t)(sw & c.mask[e]) == c.sw[e]) go_on = 1;
    }
    if (!go_on) stopped = (int)i;
  }
  d->out[arr_at] = 0xdc;
  d->out[arr_at + 1] = (uint8_t)(done >> 8);
  d->out[arr_at + 2] = (uint8_t)done;
  if (stopped >= 0) {
    d->out[n_at + 2] = 4;
    yika_mp_w_str(&w, "stoppedAt");
    yika_mp_w_uint(&w, (uint64_t)stopped);
  }
  result_end(d, &w, rq->id);
}

static void op_device_info(yika_device *d, const request *rq) {
  const yika_counters *c = &d->counters;
  static const char *const names[] = {"framesIn", "framesOut", "crcErrors", "cobsErrors", "shortFrames", "oversizeFrames", "badRequests", "busy", "repeatsAnswered",
                                      "repeatsPending", "repeatsStale", "pendingNotices", "eventsSent", "recordsIn", "recordsOut", "recordsRejected", "secureTeardowns", "rekeys"};
  const uint32_t values[] = {c->frames_in, c->frames_out, c->crc_errors, c->cobs_errors, c->short_frames, c->oversize_frames, c->bad_requests, c->busy, c->repeats_answered,
                             c->repeats_pending, c->repeats_stale, c->pending_notices, c->events_sent, c->records_in, c->records_out, c->records_rejected, c->secure_teardowns, c->rekeys};
  size_t i, n = sizeof values / sizeof values[0];
  yika_mp_writer w;
  result_begin(&w, d, rq->id, 2);
  yika_mp_w_str(&w, "uptimeMs");
  yika_mp_w_uint(&w, (uint32_t)(now(d) - d->started_ms));
  yika_mp_w_str(&w, "counters");
  yika_mp_w_map(&w, (uint32_t)n);
  for (i = 0; i < n; i++) {
    yika_mp_w_str(&w, names[i]);
    yika_mp_w_uint(&w, values[i]);
  }
  result_end(d, &w, rq->id);
}

#if YIKA_SECURE_CHANNEL
static void op_sc_open(yika_device *d, const request *rq) {
  yika_mp_reader r;
  uint32_t count, i;
  uint64_t v;
  int suite = 0;
  const uint8_t *pa, *ra;
  uint32_t len;
  uint8_t rb[65], sb[32];
  yika_mp_writer w;
  if (d->state == YIKA_ST_SECURE) { answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "the channel is already open"); return; }
  arg_reader(rq, A_SUITES, &r);
  yika_mp_array(&r, &count);
  for (i = 0; i < count; i++) {
    yika_mp_uint(&r, &v);
    if (v == 1) suite = 1;
  }
  d->state = YIKA_ST_READY;
  if (!suite) { answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "no common cipher suite"); return; }
  arg_bin(rq, A_HOST_KEY, 65, 65, &pa, &len);
  arg_bin(rq, A_EPHEMERAL, 65, 65, &ra, &len);
  if (!d->have_prefix || yika_handshake_respond(d->port, &d->transcript_prefix, pa, ra, rb, sb, d->expect_sa, d->pending_keys) != 0) {
    answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "the SM2 key exchange failed");
    return;
  }
  result_begin(&w, d, rq->id, 4);
  yika_mp_w_str(&w, "suite"); yika_mp_w_uint(&w, 1);
  yika_mp_w_str(&w, "cert");
  yika_mp_w_map(&w, 2);
  yika_mp_w_str(&w, "tbs"); yika_mp_w_bin(&w, d->port->cert_tbs, d->port->cert_tbs_len);
  yika_mp_w_str(&w, "sig"); yika_mp_w_bin(&w, d->port->cert_sig, 64);
  yika_mp_w_str(&w, "ephemeral"); yika_mp_w_bin(&w, rb, 65);
  yika_mp_w_str(&w, "confirm"); yika_mp_w_bin(&w, sb, 32);
  if (result_end(d, &w, rq->id)) d->state = YIKA_ST_HANDSHAKE;
}

static void op_sc_finish(yika_device *d, const request *rq) {
  const uint8_t *sa;
  uint32_t len, i;
  uint8_t diff = 0;
  yika_mp_writer w;
  if (d->state != YIKA_ST_HANDSHAKE) { answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "scFinish without scOpen"); return; }
  d->state = YIKA_ST_READY;
  arg_bin(rq, A_CONFIRM, 32, 32, &sa, &len);
  for (i = 0; i < 32; i++) diff |= (uint8_t)(sa[i] ^ d->expect_sa[i]);
  if (diff) { answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "key confirmation S_A does not match"); return; }
  result_begin(&w, d, rq->id, 0);
  result_end(d, &w, rq->id);
  send_answer(d, 1); /* the last plaintext frame */
  for (i = 0; i < 16; i++) {
    d->rx_dir.enc[i] = d->pending_keys[i];
    d->rx_dir.mac[i] = d->pending_keys[16 + i];
    d->tx_dir.enc[i] = d->pending_keys[32 + i];
    d->tx_dir.mac[i] = d->pending_keys[48 + i];
  }
  for (i = 0; i < 64; i++) d->pending_keys[i] = 0;
  d->rx_dir.seq = d->tx_dir.seq = 0;
  d->rx_dir.epoch = d->tx_dir.epoch = 0;
  d->state = YIKA_ST_SECURE;
  d->scfinish_plain = 1;
}
#endif

/* ---- the request pipeline (PROTOCOL.md §4.1) --------------------------------------------------- */
static int newer(uint32_t id, uint32_t than) {
  uint32_t ahead = id - than;
  return ahead != 0 && ahead < 0x80000000u;
}

static void execute(yika_device *d, const request *rq) {
  int op = rq->op;
  int sent_by_op = 0;
  if (op == OP_HELLO) {
    op_hello(d, rq);
    return;
  }
  d->have_latest = 1;
  d->latest_id = rq->id;
  if (op == OP_PING) {
    d->ping_known = 1;
    d->ping_id = rq->id;
    d->ping_next_event = d->event_seq;
    send_ping_result(d, rq->id, d->event_seq);
    return;
  }
  /* The window: this id is now the newest, held until its answer goes out. */
  d->have_newest = 1;
  d->newest_id = rq->id;
  d->answered = 0;
  d->scfinish_plain = 0;
  d->out_len = 0;
  /* Step 7: state. */
  if (d->state == YIKA_ST_HANDSHAKE && op != OP_SC_FINISH) {
    d->state = YIKA_ST_READY; /* abandoned (10.2, D4) */
    answer_error(d, rq->id, YIKA_SECURE_CHANNEL_FAILED, "request during the handshake: the handshake is abandoned");
  } else if (d->port->secure == YIKA_SECURE_REQUIRED && d->state != YIKA_ST_SECURE && op != OP_SC_OPEN && op != OP_SC_FINISH) {
    answer_error(d, rq->id, YIKA_SECURE_CHANNEL_REQUIRED, 0);
  } else {
    /* While the port executes it (a card command may take seconds), yika_poll sends pending notices. */
    d->executing = 1;
    d->held_since_ms = now(d);
    d->next_notice_ms = d->held_since_ms + PENDING_NOTICE_MS;
    switch (op) {
    case OP_SLOT_STATUS: op_slot_status(d, rq); break;
    case OP_POWER_ON: op_power(d, rq, 0); break;
    case OP_RESET_CARD: {
      uint64_t slot = 0;
      const yika_card_slot *s;
      uint8_t atr[33], protocol;
      size_t atr_len;
      yika_card_state st = YIKA_CARD_POWERED;
      arg_uint(rq, A_SLOT, 255, &slot);
      s = find_slot(d, (uint32_t)slot);
      if (s) st = s->status(s->ctx, atr, &atr_len, &protocol);
      if (st == YIKA_CARD_PRESENT) answer_error(d, rq->id, YIKA_CARD_NOT_POWERED, 0);
      else if (st == YIKA_CARD_ABSENT) answer_error(d, rq->id, YIKA_NO_CARD, 0);
      else op_power(d, rq, 1);
      break;
    }
    case OP_POWER_OFF: op_power_off(d, rq); break;
    case OP_SET_PARAMS: op_set_params(d, rq); break;
    case OP_TRANSMIT: op_transmit(d, rq); break;
    case OP_TRANSMIT_BATCH: op_transmit_batch(d, rq); break;
    case OP_DEVICE_INFO: op_device_info(d, rq); break;
    case OP_DEVICE_RESET: {
      size_t i;
      yika_mp_writer w;
      result_begin(&w, d, rq->id, 0);
      result_end(d, &w, rq->id);
      send_answer(d, 0);
      for (i = 0; i < d->port->slot_count; i++) d->port->slots[i].power_off(d->port->slots[i].ctx);
      d->state = YIKA_ST_NOT_READY;
      forget_connection(d);
      if (d->port->on_reset) d->port->on_reset(d->port->reset_ctx);
      d->executing = 0;
      return;
    }
    case OP_DIAG_HOLD: {
      uint64_t ms = 1;
      arg_uint(rq, A_MS, MAX_DIAG_HOLD_MS, &ms);
      d->held = 1;
      d->held_since_ms = now(d);
      d->hold_until_ms = d->held_since_ms + (uint32_t)ms;
      d->next_notice_ms = d->held_since_ms + PENDING_NOTICE_MS;
      sent_by_op = 1; /* answered by yika_poll */
      break;
    }
#if YIKA_SECURE_CHANNEL
    case OP_SC_OPEN: op_sc_open(d, rq); break;
    case OP_SC_FINISH:
      op_sc_finish(d, rq);
      if (d->state == YIKA_ST_SECURE && d->scfinish_plain) { d->executing = 0; return; } /* answered in plaintext, then switched */
      break;
#endif
    default: answer_error(d, rq->id, YIKA_INTERNAL, 0); break;
    }
    d->executing = 0;
  }
  if (!sent_by_op) send_answer(d, 0);
}

static void on_message(yika_device *d, const uint8_t *msg, size_t n, int sealed) {
  request rq;
  if (parse_request(msg, n, &rq) != 0) {
    if (d->state == YIKA_ST_SECURE && !sealed) { tear_down(d, 1); return; } /* D8 */
    d->counters.bad_requests++;
    send_error_small(d, 0, YIKA_BAD_REQUEST, "the request is not a valid message", 0);
    return;
  }
  if (d->state == YIKA_ST_SECURE) {
    if (sealed) d->scfinish_plain = 0; /* the host switched */
    else if (rq.op == OP_SC_FINISH && d->scfinish_plain && d->have_newest && rq.id == d->newest_id) {
      d->counters.repeats_answered++;
      send_msg(d, d->out, d->out_len, 1);
      return;
    } else if (rq.op == OP_HELLO) {
      tear_down(d, 0);
    } else {
      tear_down(d, 1); /* not executed, no answer of its own (D8) */
      return;
    }
  }
  /* Step 3 and 4: operation and arguments. */
  if (rq.op == -2 || (rq.op >= 0 && !valid_args(&rq))) {
    d->counters.bad_requests++;
    send_error_small(d, rq.id, YIKA_BAD_REQUEST, rq.op == -2 ? "op must be a string" : "an argument is missing or invalid", 0);
    return;
  }
  if (rq.op == -1 || !implemented(d, rq.op)) {
    d->counters.bad_requests++;
    send_error_small(d, rq.id, YIKA_UNKNOWN_OPERATION, 0, 0);
    return;
  }
  /* Step 5: a repeat (not before hello; hello is always executed). */
  if (d->state != YIKA_ST_NOT_READY && rq.op != OP_HELLO) {
    if (d->ping_known && rq.id == d->ping_id) {
      d->counters.repeats_answered++;
      send_ping_result(d, rq.id, d->ping_next_event);
      return;
    }
    if (d->have_newest && rq.id == d->newest_id) {
      if (d->held) {
        d->counters.repeats_pending++;
        send_pending(d, rq.id);
      } else if (d->answered) {
        d->counters.repeats_answered++;
        send_msg(d, d->out, d->out_len, 0);
      }
      return;
    }
    if (d->have_latest && !newer(rq.id, d->latest_id)) {
      d->counters.repeats_stale++;
      return;
    }
  }
  /* Step 6: BUSY (one request at a time; ping and hello are answered at once). */
  if (d->held && rq.op != OP_PING && rq.op != OP_HELLO) {
    d->counters.busy++;
    send_error_small(d, rq.id, YIKA_BUSY, 0, 0);
    return;
  }
  /* Step 7: before hello. */
  if (d->state == YIKA_ST_NOT_READY && rq.op != OP_HELLO) {
    send_error_small(d, rq.id, YIKA_NOT_READY, "send hello first", 0);
    return;
  }
  execute(d, &rq);
}

static void on_frame(yika_device *d, uint8_t *body, size_t n) {
  long dec = yika_cobs_decode(body, n), len;
  if (dec < 0) { d->counters.cobs_errors++; return; }
  if (dec < 5) { d->counters.short_frames++; return; }
  len = yika_frame_check(body, (size_t)dec);
  if (len < 0) { d->counters.crc_errors++; return; }
  if ((size_t)len > YIKA_MAX_FRAME) { /* D10: decided on the decoded payload */
    d->counters.oversize_frames++;
    send_error_small(d, 0, YIKA_FRAME_TOO_LARGE, "frames are limited to maxFrame bytes", 0);
    return;
  }
  d->counters.frames_in++;
  if (body[0] == YIKA_RECORD_MARKER) {
#if YIKA_SECURE_CHANNEL
    if (d->state == YIKA_ST_SECURE) {
      uint8_t *msg;
      long m = yika_record_open(&d->port->crypto, &d->rx_dir, body, (size_t)len, &msg, &d->counters.rekeys);
      if (m < 0) {
        d->counters.records_rejected++;
        tear_down(d, 1);
        return;
      }
      d->counters.records_in++;
      on_message(d, msg, (size_t)m, 1);
      return;
    }
    if (d->port->secure != YIKA_SECURE_NONE) { /* D12: a record while no channel is open */
      d->counters.records_rejected++;
      tear_down(d, 1);
      return;
    }
#endif
    d->counters.bad_requests++;
    send_error_small(d, 0, YIKA_BAD_REQUEST, "a record, but this device has no secure channel", 0);
    return;
  }
  on_message(d, body, (size_t)len, 0);
}

void yika_input(yika_device *d, const uint8_t *bytes, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t b = bytes[i];
    if (b == 0) {
      if (d->rx_overflow) {
        d->counters.oversize_frames++;
        send_error_small(d, 0, YIKA_FRAME_TOO_LARGE, "frames are limited to maxFrame bytes", 0);
      } else if (d->rx_len > 0) {
        on_frame(d, d->rx, d->rx_len);
      }
      d->rx_len = 0;
      d->rx_overflow = 0;
      continue;
    }
    if (d->rx_overflow) continue;
    if (d->rx_len >= YIKA_MAX_ENCODED) {
      d->rx_overflow = 1; /* stop storing; drop up to the next 0x00 */
      continue;
    }
    d->rx[d->rx_len++] = b;
  }
}

void yika_poll(yika_device *d) {
  uint32_t t;
  if (d->executing) {
    /* Called by the port from inside a long card command: only the pending notices. */
    t = now(d);
    if ((int32_t)(t - d->next_notice_ms) >= 0) {
      send_pending(d, d->newest_id);
      d->next_notice_ms = t + PENDING_NOTICE_MS;
    }
    return;
  }
  if (!d->held) return;
  t = now(d);
  if ((int32_t)(t - d->hold_until_ms) >= 0) {
    yika_mp_writer w;
    result_begin(&w, d, d->newest_id, 1);
    yika_mp_w_str(&w, "heldMs");
    yika_mp_w_uint(&w, t - d->held_since_ms);
    result_end(d, &w, d->newest_id);
    send_answer(d, 0);
    return;
  }
  if ((int32_t)(t - d->next_notice_ms) >= 0) {
    send_pending(d, d->newest_id);
    d->next_notice_ms = t + PENDING_NOTICE_MS;
  }
}

int yika_card_event(yika_device *d, uint8_t slot, int inserted) {
  yika_mp_writer w;
  if (d->state == YIKA_ST_NOT_READY) return 0;
  if (d->port->secure == YIKA_SECURE_REQUIRED && d->state != YIKA_ST_SECURE) return 0;
  yika_mp_writer_init(&w, d->small, sizeof d->small);
  yika_mp_w_map(&w, 3);
  yika_mp_w_str(&w, "ev");
  yika_mp_w_str(&w, inserted ? "card.inserted" : "card.removed");
  yika_mp_w_str(&w, "seq");
  yika_mp_w_uint(&w, d->event_seq);
  yika_mp_w_str(&w, "slot");
  yika_mp_w_uint(&w, slot);
  d->event_seq++;
  d->counters.events_sent++;
  send_msg(d, d->small, w.len, 0);
  return 1;
}
