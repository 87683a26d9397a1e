/* PC/SC card slot (pcsclite). Card answers pass through as they are: 61xx/6Cxx go to the host
 * (PROTOCOL.md §6), which runs GET RESPONSE itself. */
#define _POSIX_C_SOURCE 200809L
#include "pcsc_card.h"
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <PCSC/winscard.h>

static void sleep_ms(unsigned ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000u;
  ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
  nanosleep(&ts, NULL);
}

static int map_error(LONG rv) {
  switch (rv) {
  case (LONG)SCARD_W_REMOVED_CARD:
  case (LONG)SCARD_E_NO_SMARTCARD:
    return YIKA_CARD_REMOVED;
  case (LONG)SCARD_W_UNRESPONSIVE_CARD:
  case (LONG)SCARD_E_TIMEOUT:
    return YIKA_CARD_MUTE;
  case (LONG)SCARD_W_UNPOWERED_CARD:
    return YIKA_CARD_NOT_POWERED;
  case (LONG)SCARD_E_INSUFFICIENT_BUFFER:
    return YIKA_APDU_TOO_LONG;
  default:
    return YIKA_CARD_PROTOCOL_ERROR;
  }
}

static DWORD reader_state(yika_pcsc_card *c) {
  SCARD_READERSTATE rs;
  memset(&rs, 0, sizeof rs);
  rs.szReader = c->reader;
  rs.dwCurrentState = SCARD_STATE_UNAWARE;
  if (SCardGetStatusChange(c->context, 0, &rs, 1) != SCARD_S_SUCCESS) return SCARD_STATE_UNAVAILABLE;
  return rs.dwEventState;
}

int yika_pcsc_open(yika_pcsc_card *c, const char *name, unsigned timeout_ms, char *err, size_t err_len) {
  unsigned waited = 0;
  memset(c, 0, sizeof *c);
  for (;;) {
    char list[4096];
    DWORD len = sizeof list;
    LONG rv = c->context ? SCARD_S_SUCCESS : SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->context);
    if (rv == SCARD_S_SUCCESS) {
      rv = SCardListReaders(c->context, NULL, list, &len);
      if (rv == SCARD_S_SUCCESS) {
        const char *p;
        for (p = list; *p; p += strlen(p) + 1) {
          if (strstr(p, name) && strlen(p) < sizeof c->reader) {
            strcpy(c->reader, p);
            c->last_state = reader_state(c);
            c->present = (c->last_state & SCARD_STATE_PRESENT) != 0;
            return 0;
          }
        }
      }
    } else {
      c->context = 0;
    }
    if (waited >= timeout_ms) {
      snprintf(err, err_len, "no PC/SC reader named \"%s\" (%s)", name, pcsc_stringify_error(rv));
      return -1;
    }
    sleep_ms(200);
    waited += 200;
  }
}

static yika_card_state status(void *ctx, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  yika_pcsc_card *c = (yika_pcsc_card *)ctx;
  DWORD st = reader_state(c);
  if (!(st & SCARD_STATE_PRESENT)) {
    if (c->connected) {
      SCardDisconnect(c->card, SCARD_LEAVE_CARD);
      c->connected = 0;
    }
    return YIKA_CARD_ABSENT;
  }
  if (st & SCARD_STATE_MUTE) return YIKA_CARD_MUTE_STATE;
  if (c->connected) {
    BYTE a[MAX_ATR_SIZE];
    DWORD alen = sizeof a, state, proto, rlen = 0;
    if (SCardStatus(c->card, NULL, &rlen, &state, &proto, a, &alen) == SCARD_S_SUCCESS && alen >= 2 && alen <= 33) {
      memcpy(atr, a, alen);
      *atr_len = alen;
      *protocol = proto == SCARD_PROTOCOL_T1 ? 1 : 0;
      return YIKA_CARD_POWERED;
    }
    SCardDisconnect(c->card, SCARD_LEAVE_CARD);
    c->connected = 0;
  }
  return YIKA_CARD_PRESENT;
}

static int power_on(void *ctx, int warm, uint8_t *atr, size_t *atr_len, uint8_t *protocol) {
  yika_pcsc_card *c = (yika_pcsc_card *)ctx;
  BYTE a[MAX_ATR_SIZE];
  DWORD alen = sizeof a, state, proto, rlen = 0;
  LONG rv;
  if (warm && !c->connected) return status(ctx, atr, atr_len, protocol) == YIKA_CARD_ABSENT ? YIKA_NO_CARD : YIKA_CARD_NOT_POWERED;
  if (c->connected) {
    rv = SCardReconnect(c->card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, warm ? SCARD_RESET_CARD : SCARD_UNPOWER_CARD, &c->protocol);
  } else {
    rv = SCardConnect(c->context, c->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->card, &c->protocol);
    if (rv == SCARD_S_SUCCESS) c->connected = 1;
  }
  if (rv == (LONG)SCARD_E_NO_SMARTCARD || rv == (LONG)SCARD_W_REMOVED_CARD) return YIKA_NO_CARD;
  if (rv != SCARD_S_SUCCESS) return rv == (LONG)SCARD_W_UNRESPONSIVE_CARD ? YIKA_CARD_MUTE : map_error(rv);
  rv = SCardStatus(c->card, NULL, &rlen, &state, &proto, a, &alen);
  if (rv != SCARD_S_SUCCESS || alen < 2 || alen > 33) return YIKA_CARD_PROTOCOL_ERROR;
  memcpy(atr, a, alen);
  *atr_len = alen;
  *protocol = c->protocol == SCARD_PROTOCOL_T1 ? 1 : 0;
  return YIKA_OK;
}

static int power_off(void *ctx) {
  yika_pcsc_card *c = (yika_pcsc_card *)ctx;
  if (c->connected) SCardDisconnect(c->card, SCARD_UNPOWER_CARD);
  c->connected = 0;
  return YIKA_OK;
}

/* SCardTransmit in a worker thread while this thread calls keepalive every 20 ms, so a slow card
 * (seconds at 9600 bd) does not silence the pending notices of PROTOCOL.md 9.1. */
typedef struct {
  yika_pcsc_card *c;
  const uint8_t *apdu;
  DWORD n;
  uint8_t *r;
  DWORD len;
  LONG rv;
  int done;
  pthread_mutex_t m;
  pthread_cond_t cv;
} tx_job;

static void *tx_worker(void *arg) {
  tx_job *j = (tx_job *)arg;
  LONG rv = SCardTransmit(j->c->card, j->c->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0, j->apdu, j->n, NULL, j->r, &j->len);
  pthread_mutex_lock(&j->m);
  j->rv = rv;
  j->done = 1;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->m);
  return NULL;
}

static LONG transmit_with_keepalive(yika_pcsc_card *c, const uint8_t *apdu, DWORD n, uint8_t *r, DWORD *len) {
  tx_job j;
  pthread_t t;
  if (!c->keepalive) return SCardTransmit(c->card, c->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0, apdu, n, NULL, r, len);
  j.c = c; j.apdu = apdu; j.n = n; j.r = r; j.len = *len; j.rv = SCARD_F_UNKNOWN_ERROR; j.done = 0;
  pthread_mutex_init(&j.m, NULL);
  pthread_cond_init(&j.cv, NULL);
  if (pthread_create(&t, NULL, tx_worker, &j) != 0) {
    pthread_cond_destroy(&j.cv);
    pthread_mutex_destroy(&j.m);
    return SCardTransmit(c->card, c->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0, apdu, n, NULL, r, len);
  }
  pthread_mutex_lock(&j.m);
  while (!j.done) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 20000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    if (pthread_cond_timedwait(&j.cv, &j.m, &until) != 0 && !j.done) {
      pthread_mutex_unlock(&j.m);
      c->keepalive(c->keepalive_ctx);
      pthread_mutex_lock(&j.m);
    }
  }
  pthread_mutex_unlock(&j.m);
  pthread_join(t, NULL);
  pthread_cond_destroy(&j.cv);
  pthread_mutex_destroy(&j.m);
  *len = j.len;
  return j.rv;
}

static int transmit(void *ctx, const uint8_t *apdu, size_t n, uint8_t *r, size_t cap, size_t *rlen) {
  yika_pcsc_card *c = (yika_pcsc_card *)ctx;
  DWORD len = (DWORD)cap;
  LONG rv;
  if (!c->connected) {
    uint8_t atr[33], p;
    size_t al;
    return status(ctx, atr, &al, &p) == YIKA_CARD_ABSENT ? YIKA_NO_CARD : YIKA_CARD_NOT_POWERED;
  }
  rv = transmit_with_keepalive(c, apdu, (DWORD)n, r, &len);
  if (rv != SCARD_S_SUCCESS) {
    if (rv == (LONG)SCARD_W_REMOVED_CARD || rv == (LONG)SCARD_E_NO_SMARTCARD || rv == (LONG)SCARD_E_READER_UNAVAILABLE) {
      SCardDisconnect(c->card, SCARD_LEAVE_CARD);
      c->connected = 0;
      return YIKA_CARD_REMOVED;
    }
    return map_error(rv);
  }
  *rlen = len;
  return YIKA_OK;
}

void yika_pcsc_slot(yika_pcsc_card *c, uint8_t id, yika_slot_kind kind, yika_card_slot *slot) {
  slot->ctx = c;
  slot->id = id;
  slot->kind = kind;
  slot->status = status;
  slot->power_on = power_on;
  slot->power_off = power_off;
  slot->transmit = transmit;
  slot->set_params = 0;
  slot->rate = 0; /* pcsclite does not say which Fi/Di the CCID driver chose */
}

int yika_pcsc_poll(yika_pcsc_card *c) {
  DWORD st = reader_state(c);
  int present = (st & SCARD_STATE_PRESENT) != 0;
  if (present == c->present) return 0;
  c->present = present;
  if (!present && c->connected) {
    SCardDisconnect(c->card, SCARD_LEAVE_CARD);
    c->connected = 0;
  }
  return present ? 1 : -1;
}

void yika_pcsc_close(yika_pcsc_card *c) {
  if (c->connected) SCardDisconnect(c->card, SCARD_UNPOWER_CARD);
  c->connected = 0;
  if (c->context) SCardReleaseContext(c->context);
  c->context = 0;
}
