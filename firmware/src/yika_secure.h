/* Internal: the SM secure channel's key schedule and record protection (PROTOCOL.md §10). */
#ifndef YIKA_SECURE_H
#define YIKA_SECURE_H
#include "yika.h"

#define YIKA_RECORD_MARKER 0xC1u
#define YIKA_RECORD_OVERHEAD 25u

/* HMAC-SM3 of the concatenation of parts (key ≤ 64 bytes). */
void yika_hmac_sm3(const uint8_t *key, size_t key_len, const uint8_t *const *parts, const size_t *lens, size_t count, uint8_t out[32]);
/* KDF of GB/T 32918 over the concatenation of parts (SM3, counter from 1). */
void yika_kdf(const uint8_t *const *parts, const size_t *lens, size_t count, uint8_t *out, size_t out_len);
/* One ratchet of a direction's keys (PROTOCOL.md §10.3). */
void yika_ratchet(uint8_t enc[16], uint8_t mac[16]);
/* Z of a public key (04 || x || y), default ID "1234567812345678". */
void yika_sm2_z(const uint8_t pub[65], uint8_t z[32]);

/* Seals msg into out (room for len + 25); returns the record length. */
size_t yika_record_seal(const yika_crypto *c, yika_direction *d, const uint8_t *msg, size_t len, uint8_t *out);
/* Opens a record in place; returns the message length and sets *msg, or -1 (the channel must close). */
long yika_record_open(const yika_crypto *c, yika_direction *d, uint8_t *rec, size_t len, uint8_t **msg, uint32_t *rekeys);

/* Responder's handshake math: from P_A, R_A, the device's public key and certificate and the hello
 * transcript prefix, produces R_B, S_B, the expected S_A and the 64 bytes of record keys. 0 or -1. */
int yika_handshake_respond(const yika_port *port, const yika_sm3_ctx *prefix, const uint8_t pa[65], const uint8_t ra[65],
                           uint8_t rb[65], uint8_t sb[32], uint8_t sa[32], uint8_t keys[64]);
#endif
