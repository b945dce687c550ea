// Market stream payloads in the fapi dialect (every event has `e` and `E`).
import type { MarketData, Trade, Kline } from "./market";
import { fmtFixed, fmtPrice, fmtQty, fmtQuote } from "./format";

type Levels = [number, number][];

function levels(md: MarketData, l: Levels, pd: number, qd: number): [string, string][] {
  return l.map(([p, q]) => [fmtPrice(p, pd), fmtQty(q, qd)]);
}

export function depthUpdate(
  md: MarketData,
  E: number,
  T: number,
  U: number,
  u: number,
  pu: number,
  bids: Levels,
  asks: Levels,
): Record<string, unknown> {
  const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
  return { e: "depthUpdate", E, T, s: symbol, U, u, pu, b: levels(md, bids, pd, qd), a: levels(md, asks, pd, qd) };
}

export function aggTrade(md: MarketData, t: Trade): Record<string, unknown> {
  const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
  return {
    e: "aggTrade",
    E: t.time,
    s: symbol,
    a: t.id,
    p: fmtPrice(t.price, pd),
    q: fmtQty(t.qty, qd),
    f: t.id,
    l: t.id,
    T: t.time,
    m: t.buyerMaker,
  };
}

export function bookTicker(md: MarketData, E: number): Record<string, unknown> {
  const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
  return {
    e: "bookTicker",
    u: md.bookTickerId,
    s: symbol,
    b: fmtPrice(md.bestBid, pd),
    B: fmtQty(md.bids.get(md.bestBid) ?? 0, qd),
    a: fmtPrice(md.bestAsk, pd),
    A: fmtQty(md.asks.get(md.bestAsk) ?? 0, qd),
    T: E,
    E,
  };
}

export function klinePayload(
  md: MarketData,
  iv: string,
  k: Kline,
  E: number,
  closed: boolean,
): Record<string, unknown> {
  const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
  return {
    e: "kline",
    E,
    s: symbol,
    k: {
      t: k.t,
      T: k.T,
      s: symbol,
      i: iv,
      f: k.f,
      L: k.L,
      o: fmtPrice(k.o, pd),
      c: fmtPrice(k.c, pd),
      h: fmtPrice(k.h, pd),
      l: fmtPrice(k.l, pd),
      v: fmtQty(k.v, qd),
      n: k.n,
      x: closed,
      q: fmtQuote(k.q),
      V: fmtQty(k.V, qd),
      Q: fmtQuote(k.Q),
      B: "0",
    },
  };
}

export function klineRow(md: MarketData, k: Kline): unknown[] {
  const { pricePrecision: pd, quantityPrecision: qd } = md.spec;
  return [
    k.t,
    fmtPrice(k.o, pd),
    fmtPrice(k.h, pd),
    fmtPrice(k.l, pd),
    fmtPrice(k.c, pd),
    fmtQty(k.v, qd),
    k.T,
    fmtQuote(k.q),
    k.n,
    fmtQty(k.V, qd),
    fmtQuote(k.Q),
    "0",
  ];
}

/** 24h change percent with 3 decimals, from integers (no floats in the figure itself). */
function pct(open: number, last: number): string {
  if (open === 0) return "0.000";
  const bp = Math.round(((last - open) * 100_000) / open); // thousandths of a percent
  const neg = bp < 0;
  const a = Math.abs(bp).toString().padStart(4, "0");
  return `${neg ? "-" : ""}${a.slice(0, -3)}.${a.slice(-3)}`;
}

export function ticker24(md: MarketData, now: number): Record<string, unknown> {
  const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
  const t = md.ticker24h(now);
  const w = t.volume > 0 ? Math.round((t.quote * 1e8) / t.volume) : 0;
  return {
    e: "24hrTicker",
    E: now,
    s: symbol,
    p: fmtPrice(t.last - t.open, pd),
    P: pct(t.open, t.last),
    w: fmtPrice(w - (w % md.spec.tickSize), pd),
    c: fmtPrice(t.last, pd),
    Q: fmtQty(t.lastQty, qd),
    o: fmtPrice(t.open, pd),
    h: fmtPrice(t.high, pd),
    l: fmtPrice(t.low, pd),
    v: fmtQty(t.volume, qd),
    q: fmtQuote(t.quote),
    O: t.openTime,
    C: now,
    F: t.firstId,
    L: t.lastId,
    n: t.count,
  };
}

export function miniTicker(md: MarketData, now: number): Record<string, unknown> {
  const full = ticker24(md, now);
  return { e: "24hrMiniTicker", E: now, s: full.s, c: full.c, o: full.o, h: full.h, l: full.l, v: full.v, q: full.q };
}

export function markPrice(md: MarketData, now: number): Record<string, unknown> {
  const { symbol } = md.spec;
  return {
    e: "markPriceUpdate",
    E: now,
    s: symbol,
    p: fmtPrice(md.mark, 6),
    i: fmtPrice(md.mark, 6),
    P: fmtPrice(md.mark, 6),
    r: fmtRate(md.fundingRatePpm),
    T: md.nextFundingTime,
  };
}

export function fmtRate(ppm: number): string {
  // ppm -> decimal fraction with 8 places (Binance shows funding rates like "0.00010000").
  return fmtFixed(ppm, 6, 8);
}
