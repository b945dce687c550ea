// Market configuration and per-market state.
import { MarketRiskState } from "../risk/margin";
import { BookSide, TriggerList, type OrderIndex } from "./book";
import { TrailingStops } from "./trailing";
import { LevelBuffer } from "./eventLog";
import type { MarketStatus } from "./types";

/**
 * One market's parameters. All amounts are JS safe integers in sdk units: tickSize in price
 * units, lotSize / maxOrderQty in size units, minNotional in quote units, rates in ppm.
 */
export interface MarketConfig {
  id: number;
  symbol: string;
  tickSize: number;
  lotSize: number;
  /** Minimum notional (quote units) of a non-reduce-only order at its price (market: at mark). */
  minNotional: number;
  /** Maximum size of one order, size units. */
  maxOrderQty: number;
  /** Per account and market. */
  maxOpenOrders: number;
  maxConditionalOrders: number;
  /** Limit prices must lie within mark * (1 ± band). */
  priceBandPpm: number;
  /** Market orders are IOC limited to mark * (1 ± slippage). */
  marketSlippagePpm: number;
  imfPpm: number;
  mmfPpm: number;
  makerFeePpm: number;
  takerFeePpm: number;
  /**
   * Circuit breaker: if the trade price range (max - min) within the last windowMs exceeds
   * movePpm of the min, the market halts (cancel-only) until haltMs has passed; it reopens at
   * the first command (any market, a tick is enough) with ts >= reopenAt, and the price window
   * restarts empty. movePpm = 0 disables.
   */
  circuitBreaker?: { movePpm: number; windowMs: number; haltMs: number };
}

/** Convert a bigint amount (sdk units) into a safe JS number, refusing to lose precision. */
export function toNum(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`${v} exceeds 2^53`);
  return Number(v);
}

/** Monotonic deques over (time, price) for the circuit breaker's sliding window min and max. */
export class PriceWindow {
  maxT: number[] = [];
  maxP: number[] = [];
  minT: number[] = [];
  minP: number[] = [];
  maxH = 0;
  minH = 0;

  reset(): void {
    this.maxT = [];
    this.maxP = [];
    this.minT = [];
    this.minP = [];
    this.maxH = this.minH = 0;
  }

  push(t: number, p: number, windowMs: number): void {
    const from = t - windowMs;
    while (this.maxP.length > this.maxH && this.maxP[this.maxP.length - 1] <= p) {
      this.maxP.pop();
      this.maxT.pop();
    }
    this.maxP.push(p);
    this.maxT.push(t);
    while (this.minP.length > this.minH && this.minP[this.minP.length - 1] >= p) {
      this.minP.pop();
      this.minT.pop();
    }
    this.minP.push(p);
    this.minT.push(t);
    while (this.maxT[this.maxH] < from) this.maxH++;
    while (this.minT[this.minH] < from) this.minH++;
    if (this.maxH > 1024) {
      this.maxT = this.maxT.slice(this.maxH);
      this.maxP = this.maxP.slice(this.maxH);
      this.maxH = 0;
    }
    if (this.minH > 1024) {
      this.minT = this.minT.slice(this.minH);
      this.minP = this.minP.slice(this.minH);
      this.minH = 0;
    }
  }

  max(): number {
    return this.maxP[this.maxH];
  }
  /** Highest price at or after time `from`, NaN if none (reads only: push() drops the older ones). */
  maxSince(from: number): number {
    let i = this.maxH;
    while (i < this.maxT.length && this.maxT[i] < from) i++;
    return i < this.maxT.length ? this.maxP[i] : NaN;
  }
  /** Lowest price at or after time `from`, NaN if none. */
  minSince(from: number): number {
    let i = this.minH;
    while (i < this.minT.length && this.minT[i] < from) i++;
    return i < this.minT.length ? this.minP[i] : NaN;
  }
  min(): number {
    return this.minP[this.minH];
  }
}

export class Market {
  readonly id: number;
  readonly risk: MarketRiskState;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** per-market event sequence counter */
  seq = 0;
  lastDepthU = 0;
  status: MarketStatus = "TRADING";
  reopenAt = Infinity;
  /** last trade price, price units (0 = none yet) */
  lastPrice = 0;
  readonly upMark: TriggerList;
  readonly downMark: TriggerList;
  readonly upLast: TriggerList;
  readonly downLast: TriggerList;
  readonly trailing = new TrailingStops();
  readonly window = new PriceWindow();
  /** depth changes of the current command: [price, qty] pairs (absolute level quantities) */
  readonly dBids = new LevelBuffer();
  readonly dAsks = new LevelBuffer();
  /** price band limits (price units) for the mark of markVersion bandVersion */
  bandVersion = -1;
  bandHi = 0;
  bandLo = 0;
  depthTouched = false;
  /** set when last or mark moved in this command: triggers are checked */
  priceMoved = false;
  constructor(
    readonly index: number,
    readonly cfg: MarketConfig,
    /** the engine's live orders (book levels hold order ids) */
    orders: OrderIndex,
  ) {
    this.id = cfg.id;
    this.bids = new BookSide(true, orders);
    this.asks = new BookSide(false, orders);
    this.upMark = new TriggerList(true, orders);
    this.downMark = new TriggerList(false, orders);
    this.upLast = new TriggerList(true, orders);
    this.downLast = new TriggerList(false, orders);
    this.risk = new MarketRiskState(index, cfg.lotSize, cfg.tickSize, cfg.imfPpm, cfg.mmfPpm);
  }
}
