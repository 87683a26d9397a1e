/* A card slot on a PC/SC reader through pcsclite: turns any PC/SC reader into a Yika-protocol slot. */
#ifndef YIKA_PCSC_CARD_H
#define YIKA_PCSC_CARD_H
#include "yika.h"
#include <PCSC/winscard.h>

typedef struct yika_pcsc_card {
  SCARDCONTEXT context;
  SCARDHANDLE card;
  int connected;
  DWORD protocol;          /* SCARD_PROTOCOL_T0 / T1 while connected */
  char reader[256];        /* the reader's full name */
  DWORD last_state;        /* for insert/remove events */
  int present;
  /* Called every 20 ms while a card command runs (main sets it to yika_poll: pending notices). */
  void (*keepalive)(void *ctx);
  void *keepalive_ctx;
} yika_pcsc_card;

/* Connects to pcscd and picks the first reader whose name contains `name` (retrying for timeout_ms).
 * 0, or -1 with a message in err. */
int yika_pcsc_open(yika_pcsc_card *c, const char *name, unsigned timeout_ms, char *err, size_t err_len);
/* The slot (id 0x01 contact, or 0x11 … 0x14 for a SAM) of this reader. */
void yika_pcsc_slot(yika_pcsc_card *c, uint8_t id, yika_slot_kind kind, yika_card_slot *slot);
/* Polls presence without blocking: returns +1 a card arrived, −1 it left, 0 no change. */
int yika_pcsc_poll(yika_pcsc_card *c);
void yika_pcsc_close(yika_pcsc_card *c);
#endif
