import { describe, expect, it } from 'vitest';
import {
  SM2_P256,
  SM2_TEST_CURVE,
  baseMultiply,
  curveGenerator,
  isOnCurve,
  pointAdd,
  pointDouble,
  pointMultiply,
  pointNegate,
} from '../../../crypto/index.ts';
import { doubleMultiply, modInverse } from '../../../crypto/sm2-curve.ts';

for (const curve of [SM2_P256, SM2_TEST_CURVE]) {
  describe(`curve arithmetic on ${curve.name}`, () => {
    const G = curveGenerator(curve);

    it('G is on the curve and has order n', () => {
      expect(isOnCurve(curve, G)).toBe(true);
      expect(pointMultiply(curve, G, curve.n)).toBeNull();
      expect(pointMultiply(curve, G, curve.n + 1n)).toEqual(G);
      expect(baseMultiply(curve, curve.n)).toBeNull();
    });

    it('group laws: P + (−P) = O, P + P = 2P, P + O = P, small multiples by repeated addition', () => {
      const P = pointMultiply(curve, G, 12345n)!;
      expect(pointAdd(curve, P, pointNegate(curve, P))).toBeNull();
      expect(pointAdd(curve, P, P)).toEqual(pointDouble(curve, P));
      expect(pointAdd(curve, P, null)).toEqual(P);
      let acc = null as ReturnType<typeof pointAdd>;
      for (let i = 1n; i <= 20n; i++) {
        acc = pointAdd(curve, acc, G);
        expect(acc).toEqual(pointMultiply(curve, G, i));
        expect(baseMultiply(curve, i)).toEqual(acc);
      }
    });

    it('fixed-base, windowed and combined multiplications agree', () => {
      const k = curve.n - 0x1234567890abcdefn;
      const v = 0xfedcba0987654321fedcba0987654321n;
      const Q = baseMultiply(curve, 0xdeadbeefn)!;
      expect(baseMultiply(curve, k)).toEqual(pointMultiply(curve, G, k));
      const expected = pointAdd(curve, baseMultiply(curve, k), pointMultiply(curve, Q, v));
      for (let i = 0; i < 5; i++) expect(doubleMultiply(curve, k, Q, v)).toEqual(expected); // 3rd use builds Q's table
      expect(pointMultiply(curve, Q, -v)).toEqual(pointNegate(curve, pointMultiply(curve, Q, v)));
    });

    it('modular inverse', () => {
      const x = 0x123456789n;
      expect((modInverse(x, curve.n) * x) % curve.n).toBe(1n);
      expect(() => modInverse(0n, curve.p)).toThrow(RangeError);
    });
  });
}
