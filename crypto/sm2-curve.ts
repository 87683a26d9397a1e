// SM2 elliptic curves over Fp (y² = x³ + ax + b) and BigInt point arithmetic in Jacobian coordinates.
// Used for key validation, key exchange and the pure-JS signature fallback. Not constant time: the native
// OpenSSL path does the hot signing work; this code runs on public data or in tests, handshakes and fallback.

export interface Sm2Curve {
  readonly name: string;
  readonly p: bigint;
  readonly a: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly h: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  /** Field element / scalar length in bytes. */
  readonly size: number;
}

export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** A point, or null for the point at infinity. */
export type CurvePoint = AffinePoint | null;

/** The recommended curve sm2p256v1 (GB/T 32918.5, OID 1.2.156.10197.1.301). */
export const SM2_P256: Sm2Curve = Object.freeze({
  name: 'sm2p256v1',
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  size: 32,
});

/** The 256-bit prime test curve of the GB/T 32918 annexes (parts 2 and 3 worked examples). */
export const SM2_TEST_CURVE: Sm2Curve = Object.freeze({
  name: 'sm2-annex-test-fp256',
  p: 0x8542d69e4c044f18e8b92435bf6ff7de457283915c45517d722edb8b08f1dfc3n,
  a: 0x787968b4fa32c3fd2417842e73bbfeff2f3c848b6831d7e0ec65228b3937e498n,
  b: 0x63e4c6d3b23b0c849cf84241484bfe48f61d59a5b16ba06e6e12d1da27c5249an,
  n: 0x8542d69e4c044f18e8b92435bf6ff7dd297720630485628d5ae74ee7c32e79b7n,
  h: 1n,
  gx: 0x421debd61b62eab6746434ebc3cc315e32220b3badd50bdc4c4e6c147fedd43dn,
  gy: 0x0680512bcbb42c07d47349d2153b70c4e5d7fdfcbfa36ea1a85841b9e46e09a2n,
  size: 32,
});

export function mod(x: bigint, m: bigint): bigint {
  const r = x % m;
  return r < 0n ? r + m : r;
}

/** Modular inverse by the extended Euclidean algorithm (much faster than Fermat with BigInt). */
export function modInverse(x: bigint, m: bigint): bigint {
  let a = mod(x, m);
  if (a === 0n) throw new RangeError('no inverse of zero');
  let b = m;
  let u = 1n;
  let v = 0n;
  while (a !== 0n) {
    const q = b / a;
    [b, a] = [a, b - q * a];
    [v, u] = [u, v - q * u];
  }
  if (b !== 1n) throw new RangeError('not invertible');
  return mod(v, m);
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

export function isOnCurve(curve: Sm2Curve, point: CurvePoint): boolean {
  if (point === null) return false;
  const { p, a, b } = curve;
  const { x, y } = point;
  if (x < 0n || x >= p || y < 0n || y >= p) return false;
  return mod(y * y - (x * x * x + a * x + b), p) === 0n;
}

/** y for a given x and parity (0 = even, 1 = odd), or undefined when x is not the abscissa of a point. */
export function decompressY(curve: Sm2Curve, x: bigint, odd: boolean): bigint | undefined {
  const { p, a, b } = curve;
  if (x < 0n || x >= p) return undefined;
  const rhs = mod(x * x * x + a * x + b, p);
  if (p % 4n !== 3n) throw new RangeError('square root implemented for p ≡ 3 (mod 4) only');
  const y = modPow(rhs, (p + 1n) / 4n, p);
  if ((y * y) % p !== rhs) return undefined;
  if (y === 0n && odd) return undefined;
  return (y & 1n) === (odd ? 1n : 0n) ? y : p - y;
}

interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint; // Z = 0 is infinity
}

const J_INF: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function toJacobian(pt: CurvePoint): Jacobian {
  return pt === null ? J_INF : { X: pt.x, Y: pt.y, Z: 1n };
}

function toAffine(curve: Sm2Curve, j: Jacobian): CurvePoint {
  if (j.Z === 0n) return null;
  const p = curve.p;
  const zi = modInverse(j.Z, p);
  const zi2 = (zi * zi) % p;
  return { x: mod(j.X * zi2, p), y: mod(j.Y * zi2 * zi, p) };
}

function jDouble(curve: Sm2Curve, P: Jacobian): Jacobian {
  if (P.Z === 0n || P.Y === 0n) return J_INF;
  const p = curve.p;
  const XX = (P.X * P.X) % p;
  const YY = (P.Y * P.Y) % p;
  const ZZ = (P.Z * P.Z) % p;
  const S = (4n * P.X * YY) % p;
  const M = (3n * XX + curve.a * ((ZZ * ZZ) % p)) % p;
  const X3 = mod(M * M - 2n * S, p);
  const Y3 = mod(M * (S - X3) - 8n * ((YY * YY) % p), p);
  const Z3 = (2n * P.Y * P.Z) % p;
  return { X: X3, Y: Y3, Z: Z3 };
}

function jAdd(curve: Sm2Curve, P: Jacobian, Q: Jacobian): Jacobian {
  if (P.Z === 0n) return Q;
  if (Q.Z === 0n) return P;
  const p = curve.p;
  const Z1Z1 = (P.Z * P.Z) % p;
  const Z2Z2 = (Q.Z * Q.Z) % p;
  const U1 = (P.X * Z2Z2) % p;
  const U2 = (Q.X * Z1Z1) % p;
  const S1 = (((P.Y * Q.Z) % p) * Z2Z2) % p;
  const S2 = (((Q.Y * P.Z) % p) * Z1Z1) % p;
  const H = mod(U2 - U1, p);
  const r = mod(S2 - S1, p);
  if (H === 0n) return r === 0n ? jDouble(curve, P) : J_INF;
  const HH = (H * H) % p;
  const HHH = (H * HH) % p;
  const V = (U1 * HH) % p;
  const X3 = mod(r * r - HHH - 2n * V, p);
  const Y3 = mod(r * (V - X3) - S1 * HHH, p);
  const Z3 = (((P.Z * Q.Z) % p) * H) % p;
  return { X: X3, Y: Y3, Z: Z3 };
}

const WINDOW = 4;

function jMultiply(curve: Sm2Curve, P: Jacobian, k: bigint): Jacobian {
  if (k === 0n || P.Z === 0n) return J_INF;
  // fixed 4-bit window: table of 0..15 multiples
  const table: Jacobian[] = [J_INF, P];
  for (let i = 2; i < 1 << WINDOW; i++) table.push(jAdd(curve, table[i - 1], P));
  const digits: number[] = [];
  let e = k;
  while (e > 0n) {
    digits.push(Number(e & 15n));
    e >>= 4n;
  }
  let acc = J_INF;
  for (let i = digits.length - 1; i >= 0; i--) {
    if (acc.Z !== 0n) for (let j = 0; j < WINDOW; j++) acc = jDouble(curve, acc);
    if (digits[i] !== 0) acc = jAdd(curve, acc, table[digits[i]]);
  }
  return acc;
}

export function pointAdd(curve: Sm2Curve, a: CurvePoint, b: CurvePoint): CurvePoint {
  return toAffine(curve, jAdd(curve, toJacobian(a), toJacobian(b)));
}

export function pointDouble(curve: Sm2Curve, a: CurvePoint): CurvePoint {
  return toAffine(curve, jDouble(curve, toJacobian(a)));
}

export function pointNegate(curve: Sm2Curve, a: CurvePoint): CurvePoint {
  return a === null ? null : { x: a.x, y: mod(-a.y, curve.p) };
}

/** k·P for any non-negative k (reduced mod n is the caller's choice: for points of order n it changes nothing). */
export function pointMultiply(curve: Sm2Curve, point: CurvePoint, k: bigint): CurvePoint {
  if (k < 0n) return pointMultiply(curve, pointNegate(curve, point), -k);
  return toAffine(curve, jMultiply(curve, toJacobian(point), k));
}

// Fixed-base tables: for each 4-bit position i and digit d, the point d·2^(4i)·P, so k·P needs only
// additions (64 for a 256-bit k) and no doublings. Built once for G per curve, and for a public key
// after it has been used a few times (the pure-JS verify path: trust-bundle keys verify many messages).
type FixedTable = Jacobian[][];

function buildFixedTable(curve: Sm2Curve, point: AffinePoint): FixedTable {
  const table: FixedTable = [];
  let base: Jacobian = toJacobian(point);
  const positions = Math.ceil(curve.n.toString(2).length / WINDOW);
  for (let i = 0; i < positions; i++) {
    const row: Jacobian[] = [J_INF, base];
    for (let d = 2; d < 1 << WINDOW; d++) row.push(jAdd(curve, row[d - 1], base));
    table.push(row);
    base = timesSixteen(curve, base);
  }
  return table;
}

function timesSixteen(curve: Sm2Curve, b: Jacobian): Jacobian {
  let r = b;
  for (let j = 0; j < WINDOW; j++) r = jDouble(curve, r);
  return r;
}

function fixedMultiply(curve: Sm2Curve, table: FixedTable, k: bigint): Jacobian {
  let acc = J_INF;
  let e = mod(k, curve.n);
  for (let i = 0; e > 0n; i++, e >>= 4n) {
    const d = Number(e & 15n);
    if (d !== 0) acc = jAdd(curve, acc, table[i][d]);
  }
  return acc;
}

const baseTables = new WeakMap<Sm2Curve, FixedTable>();

function baseTable(curve: Sm2Curve): FixedTable {
  let t = baseTables.get(curve);
  if (!t) {
    t = buildFixedTable(curve, curveGenerator(curve));
    baseTables.set(curve, t);
  }
  return t;
}

/** k·G (k reduced mod n) with a per-curve precomputed table. */
export function baseMultiply(curve: Sm2Curve, k: bigint): CurvePoint {
  return toAffine(curve, fixedMultiply(curve, baseTable(curve), k));
}

const TABLE_AFTER_USES = 3;
const pointTables = new WeakMap<AffinePoint, { uses: number; table?: FixedTable }>();

/**
 * k·Q for a long-lived point Q (a public key object): plain windowed multiplication for the first uses,
 * then a fixed table for Q kept as long as the point object lives. Only for points of order n.
 */
function longLivedMultiply(curve: Sm2Curve, q: AffinePoint, k: bigint): Jacobian {
  let entry = pointTables.get(q);
  if (!entry) {
    entry = { uses: 0 };
    pointTables.set(q, entry);
  }
  if (!entry.table && ++entry.uses >= TABLE_AFTER_USES) entry.table = buildFixedTable(curve, q);
  return entry.table ? fixedMultiply(curve, entry.table, k) : jMultiply(curve, toJacobian(q), k);
}

/** u·G + v·Q for a public key Q of order n (two table-driven multiplications and an addition). */
export function doubleMultiply(curve: Sm2Curve, u: bigint, q: AffinePoint, v: bigint): CurvePoint {
  const a = fixedMultiply(curve, baseTable(curve), u);
  const b = longLivedMultiply(curve, q, v);
  return toAffine(curve, jAdd(curve, a, b));
}

export function curveGenerator(curve: Sm2Curve): AffinePoint {
  return { x: curve.gx, y: curve.gy };
}
