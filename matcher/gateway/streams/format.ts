// Integer units to the decimal strings of the fapi dialect, without floats.
import { PRICE_DECIMALS, SIZE_DECIMALS, COLLATERAL_DECIMALS } from "../../../sdk/units";

export function fmtFixed(v: number, scale: number, digits: number): string {
  const neg = v < 0;
  const s = Math.abs(v)
    .toString()
    .padStart(scale + 1, "0");
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale, s.length - scale + digits);
  return (neg ? "-" : "") + int + (digits > 0 ? "." + frac.padEnd(digits, "0") : "");
}

export const fmtPrice = (v: number, digits: number): string => fmtFixed(v, PRICE_DECIMALS, digits);
export const fmtQty = (v: number, digits: number): string => fmtFixed(v, SIZE_DECIMALS, digits);
export const fmtQuote = (v: number, digits = COLLATERAL_DECIMALS): string => fmtFixed(v, COLLATERAL_DECIMALS, digits);

/** Digits needed to show every multiple of `unit` in a scale of `scale` decimals. */
export function digitsOf(unit: number, scale: number): number {
  let d = scale;
  let u = unit;
  while (d > 0 && u % 10 === 0) {
    u /= 10;
    d--;
  }
  return d;
}
