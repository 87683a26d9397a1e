/* The crypto interface of the Linux port on OpenSSL's libcrypto (SM4-CTR, SM2 point arithmetic). */
#ifndef YIKA_CRYPTO_OPENSSL_H
#define YIKA_CRYPTO_OPENSSL_H
#include "yika.h"

typedef struct yika_openssl {
  uint8_t d[32];          /* the device's static private key d_B */
  int fixed_ephemeral;    /* tests only: use r_B below instead of a fresh random one */
  uint8_t r[32];
} yika_openssl;

/* Fills crypto with the OpenSSL implementation; ctx must outlive it. 0, or -1 if OpenSSL lacks SM2/SM4. */
int yika_openssl_crypto(yika_openssl *ctx, const uint8_t d[32], yika_crypto *crypto);
/* Fresh random bytes (OpenSSL's CSPRNG). 0 or -1. */
int yika_openssl_random(uint8_t *out, size_t n);
#endif
