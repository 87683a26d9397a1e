#include "demo_card.h"

/* 3B 12 96 14 50: TA1 = 96 (Fi 512, Di 32: 250 kbit/s at 4 MHz), no TD1 so T=0 is the only protocol
 * offered (PROTOCOL.md 13, example 6), two historical bytes. */
static const uint8_t ATR[5] = {0x3B, 0x12, 0x96, 0x14, 0x50};
#define TA1_FI 512u
#define TA1_DI 32u
#define CLOCK_HZ 4000000u
/* FCI of the MF: 6F len { 83 02 3F00, 84 len "1PAY.SYS.DDF01"-like name } */
static const uint8_t FCI_MF[] = {0x6F, 0x10, 0x83, 0x02, 0x3F, 0x00, 0x84, 0x0A, 'Y', 'I', 'K', 'A', '.', 'D', 'E', 'M', 'O', '1'};

static yika_card_state status(void *ctx, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  size_t i;
  if (!c->present) return YIKA_CARD_ABSENT;
  if (!c->powered) return YIKA_CARD_PRESENT;
  for (i = 0; i < sizeof ATR; i++) atr[i] = ATR[i];
  *atr_len = sizeof ATR;
  *protocol = 0;
  return YIKA_CARD_POWERED;
}

static int power_on(void *ctx, int warm, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  size_t i;
  if (!c->present) return YIKA_NO_CARD;
  if (warm && !c->powered) return YIKA_CARD_NOT_POWERED;
  c->powered = 1;
  c->pending_len = 0;
  c->fi = 372; /* a reset returns the card to the default rate */
  c->di = 1;
  for (i = 0; i < sizeof ATR; i++) atr[i] = ATR[i];
  *atr_len = sizeof ATR;
  *protocol = 0;
  return YIKA_OK;
}

static int power_off(void *ctx) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  c->powered = 0;
  c->pending_len = 0;
  return YIKA_OK;
}

static size_t sw(uint8_t *r, uint8_t sw1, uint8_t sw2) {
  r[0] = sw1;
  r[1] = sw2;
  return 2;
}

static int transmit(void *ctx, const uint8_t *a, size_t n, uint8_t *r, size_t cap, size_t *rlen) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  size_t i, held = c->pending_len;
  if (!c->present) return YIKA_NO_CARD;
  if (!c->powered) return YIKA_CARD_NOT_POWERED;
  if (cap < 2 + sizeof FCI_MF) return YIKA_INTERNAL;
  c->pending_len = 0; /* any command but the GET RESPONSE below discards what the card held */
  if (a[0] != 0x00) { *rlen = sw(r, 0x6E, 0x00); return YIKA_OK; }
  switch (a[1]) {
  case 0xA4: /* SELECT: only the MF by FID (3F00) or by P1 = 00 with no data */
    if (n >= 7 && a[4] == 2 && a[5] == 0x3F && a[6] == 0x00) {
      if (a[3] == 0x0C) { *rlen = sw(r, 0x90, 0x00); return YIKA_OK; }
      /* T=0, case 4: the FCI waits for GET RESPONSE */
      for (i = 0; i < sizeof FCI_MF; i++) c->pending[i] = FCI_MF[i];
      c->pending_len = sizeof FCI_MF;
      *rlen = sw(r, 0x61, (uint8_t)sizeof FCI_MF);
      return YIKA_OK;
    }
    *rlen = sw(r, 0x6A, 0x82);
    return YIKA_OK;
  case 0xC0: { /* GET RESPONSE */
    size_t le = n == 5 ? (a[4] ? a[4] : 256u) : 0;
    if (held == 0 || n != 5) { *rlen = sw(r, 0x69, 0x85); return YIKA_OK; }
    if (le != held) { /* wrong Le: ask again with the right one, the data stays */
      c->pending_len = held;
      *rlen = sw(r, 0x6C, (uint8_t)held);
      return YIKA_OK;
    }
    for (i = 0; i < held; i++) r[i] = c->pending[i];
    *rlen = held + sw(r + held, 0x90, 0x00);
    return YIKA_OK;
  }
  case 0x84: { /* GET CHALLENGE: 4 or 8 fresh random bytes */
    size_t le = n == 5 ? a[4] : 0;
    if (le != 4 && le != 8) { *rlen = sw(r, 0x67, 0x00); return YIKA_OK; }
    if (!c->random || c->random(r, le) != 0) return YIKA_INTERNAL;
    *rlen = le + sw(r + le, 0x90, 0x00);
    return YIKA_OK;
  }
  default:
    *rlen = sw(r, 0x6D, 0x00);
    return YIKA_OK;
  }
}

static int set_params(void *ctx, uint8_t protocol, uint16_t *fi, uint8_t *di) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  if (!c->present) return YIKA_NO_CARD;
  if (!c->powered) return YIKA_CARD_NOT_POWERED;
  {
  uint16_t want_fi = *fi ? *fi : c->fi;
  uint8_t want_di = *di ? *di : c->di;
  /* T=0 only; PPS to 372/1 or to what TA1 offers, anything else refused (PROTOCOL.md 6.1) */
  if (protocol != 0) return YIKA_CARD_PROTOCOL_ERROR;
  if (!((want_fi == 372 && want_di == 1) || (want_fi == TA1_FI && want_di == TA1_DI))) return YIKA_CARD_PROTOCOL_ERROR;
  c->fi = want_fi;
  c->di = want_di;
  *fi = c->fi;
  *di = c->di;
  return YIKA_OK;
  }
}

static int rate(void *ctx, uint16_t *fi, uint8_t *di, uint32_t *clock_hz) {
  yika_demo_card *c = (yika_demo_card *)ctx;
  if (!c->present || !c->powered) return 0;
  *fi = c->fi;
  *di = c->di;
  *clock_hz = CLOCK_HZ;
  return 1;
}

void yika_demo_card_slot(yika_demo_card *card, int (*random)(uint8_t *, size_t), yika_card_slot *slot) {
  card->present = 1;
  card->powered = 0;
  card->pending_len = 0;
  card->random = random;
  slot->ctx = card;
  slot->id = 0x01;
  slot->kind = YIKA_SLOT_CONTACT;
  slot->status = status;
  slot->power_on = power_on;
  slot->power_off = power_off;
  slot->transmit = transmit;
  slot->set_params = set_params;
  slot->rate = rate;
}

static yika_card_state empty_status(void *ctx, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  (void)ctx; (void)atr; (void)protocol;
  *atr_len = 0;
  return YIKA_CARD_ABSENT;
}
static int empty_power_on(void *ctx, int warm, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  (void)ctx; (void)warm; (void)atr; (void)atr_len; (void)protocol;
  return YIKA_NO_CARD;
}
static int empty_power_off(void *ctx) { (void)ctx; return YIKA_OK; }
static int empty_transmit(void *ctx, const uint8_t *a, size_t n, uint8_t *r, size_t cap, size_t *rlen) {
  (void)ctx; (void)a; (void)n; (void)r; (void)cap; (void)rlen;
  return YIKA_NO_CARD;
}
static int empty_set_params(void *ctx, uint8_t protocol, uint16_t *fi, uint8_t *di) {
  (void)ctx; (void)protocol; (void)fi; (void)di;
  return YIKA_NO_CARD;
}

void yika_empty_slot(uint8_t id, yika_slot_kind kind, yika_card_slot *slot) {
  slot->ctx = 0;
  slot->id = id;
  slot->kind = kind;
  slot->status = empty_status;
  slot->power_on = empty_power_on;
  slot->power_off = empty_power_off;
  slot->transmit = empty_transmit;
  slot->set_params = empty_set_params;
  slot->rate = 0;
}
