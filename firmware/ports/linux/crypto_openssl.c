/* SM4-CTR and the SM2 key exchange of GB/T 32918.3 (responder B, steps B1–B5) on OpenSSL's
 * libcrypto: EVP for SM4, BIGNUM and EC_POINT for the point arithmetic (OpenSSL has no SM2 key
 * exchange API). Allocations here are the port's, not the core's. */
#include "crypto_openssl.h"
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

int yika_openssl_random(uint8_t *out, size_t n) { return RAND_bytes(out, (int)n) == 1 ? 0 : -1; }

static int sm4_ctr(void *ctx, const uint8_t key[16], const uint8_t iv[16], uint8_t *data, size_t len) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int out = 0, ok;
  (void)ctx;
  if (!c) return -1;
  ok = EVP_EncryptInit_ex(c, EVP_sm4_ctr(), NULL, key, iv) == 1 && EVP_EncryptUpdate(c, data, &out, data, (int)len) == 1 && (size_t)out == len;
  EVP_CIPHER_CTX_free(c);
  return ok ? 0 : -1;
}

/* x̄ = 2^w + (x AND (2^w − 1)), w = 127 for sm2p256v1 */
static int xbar(BIGNUM *x) { return BN_mask_bits(x, 127) == 1 && BN_set_bit(x, 127) == 1; }

static EC_POINT *point(const EC_GROUP *g, const uint8_t p[65], BN_CTX *bc) {
  EC_POINT *pt = EC_POINT_new(g);
  if (!pt) return NULL;
  if (p[0] != 0x04 || EC_POINT_oct2point(g, pt, p, 65, bc) != 1 || EC_POINT_is_on_curve(g, pt, bc) != 1 || EC_POINT_is_at_infinity(g, pt)) {
    EC_POINT_free(pt);
    return NULL;
  }
  return pt;
}

static int kx_responder(void *vctx, const uint8_t pa[65], const uint8_t ra[65], uint8_t rb[65], uint8_t v[64]) {
  yika_openssl *k = (yika_openssl *)vctx;
  int rc = -1;
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
  BN_CTX *bc = BN_CTX_new();
  EC_POINT *PA = NULL, *RA = NULL, *RB = NULL, *S = NULL;
  BIGNUM *d = BN_new(), *r = BN_new(), *t = BN_new(), *xb = BN_new(), *xa = BN_new(), *yv = BN_new(), *xv = BN_new();
  const BIGNUM *n;
  if (!g || !bc || !d || !r || !t || !xb || !xa || !yv || !xv) goto done;
  n = EC_GROUP_get0_order(g);
  if (!(PA = point(g, pa, bc)) || !(RA = point(g, ra, bc))) goto done;
  if (!BN_bin2bn(k->d, 32, d)) goto done;
  /* B1: r_B in [1, n−1], R_B = [r_B]G */
  if (k->fixed_ephemeral) {
    if (!BN_bin2bn(k->r, 32, r)) goto done;
  } else {
    do {
      if (BN_priv_rand_range(r, n) != 1) goto done;
    } while (BN_is_zero(r));
  }
  if (!(RB = EC_POINT_new(g)) || EC_POINT_mul(g, RB, r, NULL, NULL, bc) != 1) goto done;
  if (EC_POINT_point2oct(g, RB, POINT_CONVERSION_UNCOMPRESSED, rb, 65, bc) != 65) goto done;
  /* B2/B3: x̄_B, t_B = (d_B + x̄_B·r_B) mod n */
  if (EC_POINT_get_affine_coordinates(g, RB, xb, NULL, bc) != 1 || !xbar(xb)) goto done;
  if (BN_mod_mul(t, xb, r, n, bc) != 1 || BN_mod_add(t, t, d, n, bc) != 1) goto done;
  /* B4/B5: x̄_A, V = [h·t_B](P_A + [x̄_A]R_A), h = 1 */
  if (EC_POINT_get_affine_coordinates(g, RA, xa, NULL, bc) != 1 || !xbar(xa)) goto done;
  if (!(S = EC_POINT_new(g)) || EC_POINT_mul(g, S, NULL, RA, xa, bc) != 1 || EC_POINT_add(g, S, S, PA, bc) != 1) goto done;
  if (EC_POINT_mul(g, S, NULL, S, t, bc) != 1 || EC_POINT_is_at_infinity(g, S)) goto done;
  if (EC_POINT_get_affine_coordinates(g, S, xv, yv, bc) != 1) goto done;
  if (BN_bn2binpad(xv, v, 32) != 32 || BN_bn2binpad(yv, v + 32, 32) != 32) goto done;
  rc = 0;
done:
  BN_clear_free(r);
  BN_clear_free(t);
  BN_clear_free(d);
  BN_free(xb);
  BN_free(xa);
  BN_free(xv);
  BN_free(yv);
  EC_POINT_free(PA);
  EC_POINT_free(RA);
  EC_POINT_free(RB);
  EC_POINT_clear_free(S);
  BN_CTX_free(bc);
  EC_GROUP_free(g);
  return rc;
}

int yika_openssl_crypto(yika_openssl *ctx, const uint8_t d[32], yika_crypto *crypto) {
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
  size_t i;
  if (!g || !EVP_sm4_ctr()) {
    EC_GROUP_free(g);
    return -1;
  }
  EC_GROUP_free(g);
  for (i = 0; i < 32; i++) ctx->d[i] = d[i];
  ctx->fixed_ephemeral = 0;
  crypto->ctx = ctx;
  crypto->sm4_ctr = sm4_ctr;
  crypto->sm2_kx_responder = kx_responder;
  return 0;
}
