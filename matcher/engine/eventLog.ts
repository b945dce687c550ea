// The engine's output log: events are written into typed arrays as they happen, with no object
// per event (building ~3 objects per command was ~40% of the engine's time at a 10k book, most
// of it in scavenges). Consumers decode what they read: toEvents() gives the same event objects
// the engine used to build. Order updates, trades and depth deltas (nearly all events) are rows
// of numbers plus references to strings the engine already holds; the rare kinds (status, mark,
// account) are kept as the objects themselves.
import {
  DepthEvent,
  OrderUpdateEvent,
  TradeEvent,
  type EngineEvent,
  type ExecType,
  type OrderStatus,
  type ReasonCode,
} from "./types";
import { kindsOrderType, kindsOrigType, kindsTif, kindsWorkingType } from "./orderKinds";

const KIND_ORDER = 1;
const KIND_TRADE = 2;
const KIND_DEPTH = 3;
const KIND_OBJECT = 4;

/** Numbers per event row (slot 0 is the kind). */
const SLOTS = 14;
/** References per event row (strings, or the event itself for the rare kinds). */
const REFS = 6;
/** Rows allocated at first, and the most a cleared log keeps (one huge group must not pin its memory). */
const INITIAL_ROWS = 1024;
const KEEP_ROWS = 1 << 16;
/** Numbers of depth levels (price, qty) allocated at first, and the most a cleared log keeps. */
const INITIAL_LEVELS = 4096;
const KEEP_LEVELS = 2 * KEEP_ROWS;

/** A copy of `a`, doubled in length until it holds at least `min` numbers. */
export function grown(a: Float64Array, min: number): Float64Array {
  let len = a.length * 2;
  while (len < min) len *= 2;
  const b = new Float64Array(len);
  b.set(a);
  return b;
}

/** Pads a reference array to twice its length with nulls (kept packed: no holes). */
export function doubleRefs(r: unknown[]): void {
  for (let i = r.length, n = r.length * 2; i < n; i++) r.push(null);
}

const F_BUY = 1;
const F_REDUCE_ONLY = 2;
const F_CLOSE_POSITION = 4;
const F_MAKER = 8;
/** An order row's flags slot holds the order's kinds (orderKinds.ts) above the flags. */
const KINDS_SHIFT = 4;

/** Shared empty side of a decoded depth event (frozen: events never change once published). */
export const NO_LEVELS: [number, number][] = Object.freeze([]) as unknown as [number, number][];

/** [price, qty] pairs of one side of one market's depth change in the current command. */
export class LevelBuffer {
  a = new Float64Array(64);
  n = 0;

  push(price: number, qty: number): void {
    let a = this.a;
    const i = this.n * 2;
    if (i === a.length) this.a = a = grown(a, i + 2);
    a[i] = price;
    a[i + 1] = qty;
    this.n++;
  }
}

export class EventLog {
  /** Events in the log. */
  length = 0;
  private f = new Float64Array(INITIAL_ROWS * SLOTS);
  private refs: unknown[] = new Array<unknown>(INITIAL_ROWS * REFS).fill(null);
  /** Depth levels of the depth rows: price, qty pairs. */
  private lv = new Float64Array(INITIAL_LEVELS);
  private nLv = 0;

  /** Forget every event (the arrays are kept for reuse, unless one huge batch grew them past KEEP_ROWS). */
  clear(): void {
    this.length = 0;
    this.nLv = 0;
    if (this.f.length > KEEP_ROWS * SLOTS) {
      this.f = new Float64Array(INITIAL_ROWS * SLOTS);
      this.refs = new Array<unknown>(INITIAL_ROWS * REFS).fill(null);
    }
    if (this.lv.length > KEEP_LEVELS) this.lv = new Float64Array(INITIAL_LEVELS);
  }

  /** Start row i (its numbers start at i * SLOTS, its refs at i * REFS); returns i. */
  private row(kind: number): number {
    const i = this.length;
    if ((i + 1) * SLOTS > this.f.length) this.grow();
    this.length = i + 1;
    this.f[i * SLOTS] = kind;
    return i;
  }

  private grow(): void {
    this.f = grown(this.f, 0);
    doubleRefs(this.refs);
  }

  order(
    market: number,
    seq: number,
    ts: number,
    orderId: number,
    clientOrderId: string,
    account: string,
    isBuy: boolean,
    /** orderType, origType, tif and workingType (orderKinds.ts) */
    kinds: number,
    price: number,
    stopPrice: number,
    qty: number,
    filledQty: number,
    filledQuote: number,
    lastQty: number,
    lastPrice: number,
    status: OrderStatus,
    execType: ExecType,
    reason: ReasonCode,
    reduceOnly: boolean,
    closePosition: boolean,
    hash: string,
    tradeId: number,
    isMaker: boolean,
  ): void {
    const i = this.row(KIND_ORDER);
    const at = i * SLOTS;
    const f = this.f;
    f[at + 1] = market;
    f[at + 2] = seq;
    f[at + 3] = ts;
    f[at + 4] = orderId;
    f[at + 5] = price;
    f[at + 6] = stopPrice;
    f[at + 7] = qty;
    f[at + 8] = filledQty;
    f[at + 9] = filledQuote;
    f[at + 10] = lastQty;
    f[at + 11] = lastPrice;
    f[at + 12] = tradeId;
    f[at + 13] =
      (isBuy ? F_BUY : 0) |
      (reduceOnly ? F_REDUCE_ONLY : 0) |
      (closePosition ? F_CLOSE_POSITION : 0) |
      (isMaker ? F_MAKER : 0) |
      (kinds << KINDS_SHIFT);
    const r = this.refs;
    const ri = i * REFS;
    r[ri] = clientOrderId;
    r[ri + 1] = account;
    r[ri + 2] = hash;
    r[ri + 3] = status;
    r[ri + 4] = execType;
    r[ri + 5] = reason;
  }

  trade(
    market: number,
    seq: number,
    ts: number,
    tradeId: number,
    price: number,
    qty: number,
    buyerPays: number,
    sellerGets: number,
    takerIsBuy: boolean,
    makerOrderId: number,
    takerOrderId: number,
    makerHash: string,
    takerHash: string,
    makerAccount: string,
    takerAccount: string,
    makerFee: number,
    takerFee: number,
  ): void {
    const i = this.row(KIND_TRADE);
    const at = i * SLOTS;
    const f = this.f;
    f[at + 1] = market;
    f[at + 2] = seq;
    f[at + 3] = ts;
    f[at + 4] = tradeId;
    f[at + 5] = price;
    f[at + 6] = qty;
    f[at + 7] = buyerPays;
    f[at + 8] = sellerGets;
    f[at + 9] = makerOrderId;
    f[at + 10] = takerOrderId;
    f[at + 11] = makerFee;
    f[at + 12] = takerFee;
    f[at + 13] = takerIsBuy ? 1 : 0;
    const r = this.refs;
    const ri = i * REFS;
    r[ri] = makerHash;
    r[ri + 1] = takerHash;
    r[ri + 2] = makerAccount;
    r[ri + 3] = takerAccount;
  }

  /** A depth row; the levels are copied out of the buffers, which are left empty. */
  depth(market: number, seq: number, ts: number, U: number, pu: number, bids: LevelBuffer, asks: LevelBuffer): void {
    const i = this.row(KIND_DEPTH);
    const at = i * SLOTS;
    const f = this.f;
    f[at + 1] = market;
    f[at + 2] = seq;
    f[at + 3] = ts;
    f[at + 4] = U;
    f[at + 5] = pu;
    f[at + 6] = this.nLv;
    f[at + 7] = bids.n;
    f[at + 8] = asks.n;
    const nb = bids.n * 2;
    const na = asks.n * 2;
    let lv = this.lv;
    const start = this.nLv;
    if (start + nb + na > lv.length) this.lv = lv = grown(lv, start + nb + na);
    for (let k = 0; k < nb; k++) lv[start + k] = bids.a[k];
    for (let k = 0; k < na; k++) lv[start + nb + k] = asks.a[k];
    this.nLv = start + nb + na;
    bids.n = 0;
    asks.n = 0;
  }

  /** A rare event kept as the object itself. */
  object(e: EngineEvent): void {
    this.refs[this.row(KIND_OBJECT) * REFS] = e;
  }

  /** Event i (0 <= i < length) as an object; the log itself is not changed. */
  at(i: number): EngineEvent {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`event log: no event ${i} (length ${this.length})`);
    const at = i * SLOTS;
    const f = this.f;
    const r = this.refs;
    const ri = i * REFS;
    switch (f[at]) {
      case KIND_ORDER: {
        const fl = f[at + 13];
        return new OrderUpdateEvent(
          f[at + 1],
          f[at + 2],
          f[at + 3],
          f[at + 4],
          r[ri] as string,
          r[ri + 1] as string,
          fl & F_BUY ? "BUY" : "SELL",
          kindsOrderType(fl >> KINDS_SHIFT),
          kindsOrigType(fl >> KINDS_SHIFT),
          kindsTif(fl >> KINDS_SHIFT),
          f[at + 5],
          f[at + 6],
          f[at + 7],
          f[at + 8],
          f[at + 9],
          f[at + 10],
          f[at + 11],
          r[ri + 3] as OrderStatus,
          r[ri + 4] as ExecType,
          r[ri + 5] as ReasonCode,
          (fl & F_REDUCE_ONLY) !== 0,
          (fl & F_CLOSE_POSITION) !== 0,
          kindsWorkingType(fl >> KINDS_SHIFT),
          r[ri + 2] as string,
          f[at + 12],
          (fl & F_MAKER) !== 0,
        );
      }
      case KIND_TRADE:
        return new TradeEvent(
          f[at + 1],
          f[at + 2],
          f[at + 3],
          f[at + 4],
          f[at + 5],
          f[at + 6],
          f[at + 7],
          f[at + 8],
          f[at + 13] !== 0 ? "BUY" : "SELL",
          f[at + 9],
          f[at + 10],
          r[ri] as string,
          r[ri + 1] as string,
          r[ri + 2] as string,
          r[ri + 3] as string,
          f[at + 11],
          f[at + 12],
        );
      case KIND_DEPTH: {
        const seq = f[at + 2];
        const start = f[at + 6];
        const nb = f[at + 7];
        return new DepthEvent(
          f[at + 1],
          seq,
          f[at + 3],
          f[at + 4],
          seq,
          f[at + 5],
          this.levels(start, nb),
          this.levels(start + nb * 2, f[at + 8]),
        );
      }
      case KIND_OBJECT:
        return r[ri] as EngineEvent;
      default:
        throw new Error(`event log: row ${i} has no known kind (${f[at]})`);
    }
  }

  private levels(start: number, n: number): [number, number][] {
    if (n === 0) return NO_LEVELS;
    const out: [number, number][] = new Array(n);
    for (let k = 0; k < n; k++) out[k] = [this.lv[start + 2 * k], this.lv[start + 2 * k + 1]];
    return out;
  }

  /** Is event i a trade? (without decoding it) */
  isTrade(i: number): boolean {
    return this.f[i * SLOTS] === KIND_TRADE;
  }

  /** Append every event, decoded, to `out` (a new array when none); returns it. */
  toEvents(out: EngineEvent[] = []): EngineEvent[] {
    for (let i = 0, n = this.length; i < n; i++) out.push(this.at(i));
    return out;
  }
}
