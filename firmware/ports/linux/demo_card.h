/* A built-in demo card for the Linux port (and the tests): a T=0 card (ATR 3B 12 96 14 50: TA1 = 96
 * offers Fi 512 / Di 32, PPS to it through setParams, the rate reported as PROTOCOL.md 6.1 says) with
 * an MF whose SELECT answers 61xx (the FCI waits for GET RESPONSE), GET CHALLENGE with fresh random bytes, and an empty
 * second slot. Portable C: no OS calls (the random source is a function pointer). */
#ifndef YIKA_DEMO_CARD_H
#define YIKA_DEMO_CARD_H
#include "yika.h"

typedef struct yika_demo_card {
  int present, powered;
  uint16_t fi; /* the rate in effect: 372/1 after reset, 512/32 after PPS to TA1 */
  uint8_t di;
  uint8_t pending[32]; /* data held for GET RESPONSE (T=0) */
  size_t pending_len;
  int (*random)(uint8_t *out, size_t n);
} yika_demo_card;

/* Fills slot as a contact slot 0x01 with the demo card inserted. */
void yika_demo_card_slot(yika_demo_card *card, int (*random)(uint8_t *, size_t), yika_card_slot *slot);
/* Fills slot as an empty slot (id, kind given): every card operation answers NO_CARD. */
void yika_empty_slot(uint8_t id, yika_slot_kind kind, yika_card_slot *slot);
#endif
