// Exact integer arithmetic on JS numbers (no floats in results): floor/ceil of a*b/d for safe
// integers, falling back to bigint only when an intermediate product would leave the safe range.
// Property-tested against bigint in test/matcher/risk.fastmath.test.ts.

const MAX = Number.MAX_SAFE_INTEGER;

/** floor(p / d) for a safe integer p (any sign) and a positive safe integer d; exact. */
export function divFloorN(p: number, d: number): number {
  // |p| <= 2^53 - 1: the rounding error of p / d is below |p| / (d * 2^53) < 1 / d, the least
  // distance from a non-integer quotient to an integer, so flooring the double quotient is exact
  // (and an exact quotient is computed exactly). Division is far cheaper than % on doubles
  // (fmod). "+ 0" turns a -0 (from p = -0) into +0, as the % form gave.
  return Math.floor(p / d) + 0;
}

/** ceil(p / d) for a safe integer p (any sign) and a positive safe integer d; exact. */
export function divCeilN(p: number, d: number): number {
  return -divFloorN(-p, d);
}

function bigFloor(a: number, b: number, d: number): number {
  const p = BigInt(a) * BigInt(b);
  const D = BigInt(d);
  let q = p / D;
  if (p % D !== 0n && p < 0n) q -= 1n;
  return toSafe(q);
}

function toSafe(q: bigint): number {
  if (q > 9007199254740991n || q < -9007199254740991n) throw new RangeError(`fastmath: ${q} exceeds 2^53`);
  return Number(q);
}

/** floor(a * b / d): a and b any sign, d > 0, all safe integers; exact; throws if the result is unsafe. */
export function mulDivFloor(a: number, b: number, d: number): number {
  const p = a * b;
  if (p <= MAX && p >= -MAX) return divFloorN(p, d);
  // split a = ah*d + al (al in [0, d)): a*b/d = ah*b + al*b/d, exact if b*d is safe
  if ((b < 0 ? -b : b) * d <= MAX) {
    const ah = divFloorN(a, d);
    const ahd = ah * d; // may leave the safe range when |a| is near 2^53: then al would be wrong
    const al = a - ahd;
    const hi = ah * b;
    if (ahd <= MAX && ahd >= -MAX && hi <= MAX && hi >= -MAX) {
      const r = hi + divFloorN(al * b, d);
      if (r <= MAX && r >= -MAX) return r;
    }
  }
  return bigFloor(a, b, d);
}

/** ceil(a * b / d), same domain as mulDivFloor. */
export function mulDivCeil(a: number, b: number, d: number): number {
  return -mulDivFloor(-a, b, d);
}
