// Per-market state the gateway keeps from the engine's event stream: the book (levels and
// the depth counter), recent trades, klines, a rolling 24h ticker and the mark price. REST
// market data is served from it, and the market streams are built from it, so a depth
// snapshot's lastUpdateId and the diff stream's U/u/pu come from the same counter.
import type { DepthEvent, TradeEvent, MarkEvent, MarketStatusEvent } from "../../engine/types";
import type { MarketSpec, BookSnapshot } from "../venue/types";
import { KLINE_INTERVALS } from "./names";

export interface Trade {
  id: number;
  price: number;
  qty: number;
  quote: number;
  time: number;
  /** Binance `m`: the buyer was the maker. */
  buyerMaker: boolean;
}

export interface Kline {
  t: number;
  T: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  q: number;
  n: number;
  V: number;
  Q: number;
  f: number;
  L: number;
}

interface MinuteBucket {
  minute: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  q: number;
  n: number;
  f: number;
  L: number;
}

const TRADES_KEPT = 1000;
const KLINES_KEPT = 1500;

export class MarketData {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  lastUpdateId = 0;
  /** Set when an event arrives that does not follow the previous one (pu ≠ lastUpdateId). */
  gap = false;
  bestBid = 0;
  bestAsk = 0;
  bookTickerId = 0;
  readonly trades: Trade[] = [];
  readonly klines = new Map<string, Kline[]>();
  private readonly minutes: MinuteBucket[] = [];
  mark = 0;
  markTime = 0;
  fundingRatePpm = 0;
  nextFundingTime = 0;
  status: "TRADING" | "HALT" = "TRADING";
  lastTradeTime = 0;
  /** Klines come from the store of settled trades (Router.attachKlines), not from these trades. */
  durableKlines = false;

  constructor(readonly spec: MarketSpec) {
    for (const k of Object.keys(KLINE_INTERVALS)) this.klines.set(k, []);
  }

  /** Load the engine's book (on start). Events with u ≤ lastUpdateId are ignored afterwards. */
  load(s: BookSnapshot): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of s.bids) this.bids.set(p, q);
    for (const [p, q] of s.asks) this.asks.set(p, q);
    this.lastUpdateId = s.lastUpdateId;
    this.gap = false;
    if (s.mark !== undefined) this.mark = s.mark;
    if (s.status !== undefined) this.status = s.status;
    this.recomputeBest();
  }

  /** Apply a diff; returns true when the top of the book changed. */
  applyDepth(ev: DepthEvent): boolean {
    if (ev.u <= this.lastUpdateId) return false;
    if (ev.pu !== this.lastUpdateId) this.gap = true;
    const bb = this.bestBid;
    const ba = this.bestAsk;
    const bbq = this.bids.get(bb);
    const baq = this.asks.get(ba);
    let recompute = false;
    for (const [p, q] of ev.bids) {
      if (q === 0) {
        this.bids.delete(p);
        if (p === this.bestBid) recompute = true;
      } else {
        this.bids.set(p, q);
        if (p > this.bestBid) this.bestBid = p;
      }
    }
    for (const [p, q] of ev.asks) {
      if (q === 0) {
        this.asks.delete(p);
        if (p === this.bestAsk) recompute = true;
      } else {
        this.asks.set(p, q);
        if (this.bestAsk === 0 || p < this.bestAsk) this.bestAsk = p;
      }
    }
    if (recompute) this.recomputeBest();
    this.lastUpdateId = ev.u;
    const changed =
      bb !== this.bestBid ||
      ba !== this.bestAsk ||
      bbq !== this.bids.get(this.bestBid) ||
      baq !== this.asks.get(this.bestAsk);
    if (changed) this.bookTickerId = ev.u;
    return changed;
  }

  private recomputeBest(): void {
    let bb = 0;
    for (const p of this.bids.keys()) if (p > bb) bb = p;
    let ba = 0;
    for (const p of this.asks.keys()) if (ba === 0 || p < ba) ba = p;
    this.bestBid = bb;
    this.bestAsk = ba;
  }

  depth(limit: number): { bids: [number, number][]; asks: [number, number][] } {
    const bids = [...this.bids].sort((a, b) => b[0] - a[0]).slice(0, limit);
    const asks = [...this.asks].sort((a, b) => a[0] - b[0]).slice(0, limit);
    return { bids, asks };
  }

  applyTrade(ev: TradeEvent): Trade {
    const quote = Math.floor((ev.qty * ev.price) / 1e8);
    const t: Trade = {
      id: ev.tradeId,
      price: ev.price,
      qty: ev.qty,
      quote,
      time: ev.ts,
      buyerMaker: ev.takerSide === "SELL",
    };
    this.trades.push(t);
    if (this.trades.length > TRADES_KEPT * 2) this.trades.splice(0, this.trades.length - TRADES_KEPT);
    this.lastTradeTime = ev.ts;
    for (const [iv, ms] of this.durableKlines ? [] : Object.entries(KLINE_INTERVALS)) {
      const arr = this.klines.get(iv)!;
      const open = ev.ts - (ev.ts % ms);
      let k = arr[arr.length - 1];
      if (!k || k.t !== open) {
        k = {
          t: open,
          T: open + ms - 1,
          o: t.price,
          h: t.price,
          l: t.price,
          c: t.price,
          v: 0,
          q: 0,
          n: 0,
          V: 0,
          Q: 0,
          f: t.id,
          L: t.id,
        };
        arr.push(k);
        if (arr.length > KLINES_KEPT * 2) arr.splice(0, arr.length - KLINES_KEPT);
      }
      if (t.price > k.h) k.h = t.price;
      if (t.price < k.l) k.l = t.price;
      k.c = t.price;
      k.v += t.qty;
      k.q += quote;
      k.n++;
      k.L = t.id;
      if (!t.buyerMaker) {
        k.V += t.qty;
        k.Q += quote;
      }
    }
    const minute = Math.floor(ev.ts / 60_000);
    let b = this.minutes[this.minutes.length - 1];
    if (!b || b.minute !== minute) {
      b = { minute, o: t.price, h: t.price, l: t.price, c: t.price, v: 0, q: 0, n: 0, f: t.id, L: t.id };
      this.minutes.push(b);
      if (this.minutes.length > 3000) this.minutes.splice(0, this.minutes.length - 1500);
    }
    if (t.price > b.h) b.h = t.price;
    if (t.price < b.l) b.l = t.price;
    b.c = t.price;
    b.v += t.qty;
    b.q += quote;
    b.n++;
    b.L = t.id;
    return t;
  }

  applyMark(ev: MarkEvent): void {
    this.mark = ev.price;
    this.markTime = ev.ts;
  }

  applyStatus(ev: MarketStatusEvent): void {
    this.status = ev.status;
  }

  /** Rolling 24h statistics ending at `now`. */
  ticker24h(now: number): {
    open: number;
    high: number;
    low: number;
    last: number;
    lastQty: number;
    volume: number;
    quote: number;
    count: number;
    firstId: number;
    lastId: number;
    openTime: number;
  } {
    const from = Math.floor(now / 60_000) - 1439;
    let open = 0;
    let high = 0;
    let low = 0;
    let volume = 0;
    let quote = 0;
    let count = 0;
    let firstId = -1;
    let lastId = -1;
    for (const b of this.minutes) {
      if (b.minute < from) continue;
      if (count === 0) {
        open = b.o;
        low = b.l;
        firstId = b.f;
      }
      if (b.h > high) high = b.h;
      if (b.l < low) low = b.l;
      volume += b.v;
      quote += b.q;
      count += b.n;
      lastId = b.L;
    }
    const lt = this.trades[this.trades.length - 1];
    return {
      open,
      high,
      low,
      last: lt?.price ?? 0,
      lastQty: lt?.qty ?? 0,
      volume,
      quote,
      count,
      firstId,
      lastId,
      openTime: now - 86_400_000,
    };
  }
}
