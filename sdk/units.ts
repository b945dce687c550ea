// Units used everywhere: contract, matcher, keeper, web. Written down once, here.
//
// - Collateral (quote) amounts: integer units of the 6-decimal USD token (1 USD = 1_000_000).
// - Price: quote units per ONE WHOLE base unit (BTC at 60,000 USD = 60_000_000_000n).
// - Size: integer base units of 1e-8 (1 BTC = 100_000_000n). Positive = long, negative = short.
// - Rates (margin fractions, fee rates): parts per million (ppm). 5% = 50_000n. Fees may be
//   negative (a maker rebate).
// - Notional of (size, price) in quote units = size * price / SIZE_ONE.
//
// The Solidity side mirrors these constants in contracts/libraries/Units.sol.

export const COLLATERAL_DECIMALS = 6;
export const PRICE_DECIMALS = 6;
export const SIZE_DECIMALS = 8;

export const QUOTE_ONE = 10n ** BigInt(COLLATERAL_DECIMALS);
export const PRICE_ONE = 10n ** BigInt(PRICE_DECIMALS);
export const SIZE_ONE = 10n ** BigInt(SIZE_DECIMALS);
export const RATE_ONE = 1_000_000n;

/** Floor division toward negative infinity (Solidity's `/` truncates toward zero). */
export function divFloor(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError(`divFloor: divisor must be positive, got ${b}`);
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Ceiling division toward positive infinity. */
export function divCeil(a: bigint, b: bigint): bigint {
  return -divFloor(-a, b);
}

export function abs(a: bigint): bigint {
  return a < 0n ? -a : a;
}

/** Signed value of a position (size * price / SIZE_ONE), rounded down: against the holder. */
export function positionValue(size: bigint, price: bigint): bigint {
  return divFloor(size * price, SIZE_ONE);
}

/** Absolute notional of a size at a price, rounded up (used for requirements and fees). */
export function notionalCeil(size: bigint, price: bigint): bigint {
  return divCeil(abs(size) * price, SIZE_ONE);
}

/** Parse a decimal string ("60000.5") into integer units with `decimals` places; exact. */
export function parseUnits(value: string, decimals: number): bigint {
  const m = /^(-)?(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) throw new Error(`parseUnits: "${value}" is not a decimal number`);
  const frac = m[3] ?? "";
  if (frac.length > decimals && /[1-9]/.test(frac.slice(decimals))) {
    throw new Error(`parseUnits: "${value}" has more than ${decimals} decimal places`);
  }
  const v = BigInt(m[2]) * 10n ** BigInt(decimals) + BigInt(frac.slice(0, decimals).padEnd(decimals, "0") || "0");
  return m[1] ? -v : v;
}

/** Format integer units with `decimals` places as a plain decimal string, trailing zeros kept. */
export function formatUnits(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const s = abs(value)
    .toString()
    .padStart(decimals + 1, "0");
  const out = decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
  return neg ? `-${out}` : out;
}

export const usd = (v: string): bigint => parseUnits(v, COLLATERAL_DECIMALS);
export const price = (v: string): bigint => parseUnits(v, PRICE_DECIMALS);
export const size = (v: string): bigint => parseUnits(v, SIZE_DECIMALS);
