// Trades waiting for their settlement result, kept as numbers in typed-array pages.
//
// Why not the TradeEvent objects: a trade waits for the keeper's batch (seconds, or longer when the
// chain lags), so each one outlives a few young-generation collections and is copied twice before
// it settles. With ~160,000 trades pending in a million-op benchmark run that copying was about
// half of all GC time. Here a trade is a row of numbers in a page allocated once per 4,096 trades:
// nothing per trade for the collector to trace or copy.

const PAGE_BITS = 12;
/** trades per page */
const PAGE = 1 << PAGE_BITS;
/** Page number of a trade id (exact for every id below 2^53: `& (PAGE - 1)` is id mod PAGE). */
function pageOf(id: number): number {
  return (id - (id & (PAGE - 1))) / PAGE;
}

/** numbers kept per trade (market, qty, buyerPays, sellerGets, makerFee, takerFee) */
const NUMS = 6;

/** What a settlement result needs of a trade (a TradeEvent's fields of the same names). */
export interface PendingTrade {
  market: number;
  tradeId: number;
  qty: number;
  buyerPays: number;
  sellerGets: number;
  takerSide: "BUY" | "SELL";
  makerAccount: string;
  takerAccount: string;
  makerFee: number;
  takerFee: number;
}

const ABSENT = 0;
const TAKER_SOLD = 1;
const TAKER_BOUGHT = 2;

class TradePage {
  readonly nums = new Float64Array(PAGE * NUMS);
  /** ABSENT, TAKER_SOLD or TAKER_BOUGHT per slot */
  readonly state = new Uint8Array(PAGE);
  readonly makerAccount: string[] = new Array<string>(PAGE).fill("");
  readonly takerAccount: string[] = new Array<string>(PAGE).fill("");
  live = 0;
}

/**
 * Pending trades by trade id. Any id may be asked for: a hostile settlement's string, NaN,
 * fraction or negative id reads as absent. A page is freed when its last trade settles.
 */
export class PendingTrades {
  /** page number → page (a handful at a time: trades settle roughly in id order) */
  private readonly pages = new Map<number, TradePage>();
  size = 0;

  add(
    tradeId: number,
    market: number,
    qty: number,
    buyerPays: number,
    sellerGets: number,
    takerIsBuy: boolean,
    makerAccount: string,
    takerAccount: string,
    makerFee: number,
    takerFee: number,
  ): void {
    if (!Number.isSafeInteger(tradeId) || tradeId < 0) throw new RangeError(`trade id ${tradeId} is not an id`);
    const pg = pageOf(tradeId);
    let p = this.pages.get(pg);
    if (p === undefined) {
      p = new TradePage();
      this.pages.set(pg, p);
    }
    const i = tradeId & (PAGE - 1);
    if (p.state[i] === ABSENT) {
      p.live++;
      this.size++;
    }
    p.state[i] = takerIsBuy ? TAKER_BOUGHT : TAKER_SOLD;
    const n = p.nums;
    const b = i * NUMS;
    n[b] = market;
    n[b + 1] = qty;
    n[b + 2] = buyerPays;
    n[b + 3] = sellerGets;
    n[b + 4] = makerFee;
    n[b + 5] = takerFee;
    p.makerAccount[i] = makerAccount;
    p.takerAccount[i] = takerAccount;
  }

  /** add() from a PendingTrade (a snapshot's row; older snapshots' whole TradeEvents read the same). */
  addTrade(t: PendingTrade): void {
    this.add(
      t.tradeId,
      t.market,
      t.qty,
      t.buyerPays,
      t.sellerGets,
      t.takerSide === "BUY",
      t.makerAccount,
      t.takerAccount,
      t.makerFee,
      t.takerFee,
    );
  }

  has(tradeId: number): boolean {
    return this.pageHolding(tradeId) !== undefined;
  }

  /** The trade (a new object each call: settlement is rare next to trading). */
  get(tradeId: number): PendingTrade | undefined {
    const p = this.pageHolding(tradeId);
    if (p === undefined) return undefined;
    const i = tradeId & (PAGE - 1);
    const n = p.nums;
    const b = i * NUMS;
    return {
      market: n[b],
      tradeId,
      qty: n[b + 1],
      buyerPays: n[b + 2],
      sellerGets: n[b + 3],
      takerSide: p.state[i] === TAKER_BOUGHT ? "BUY" : "SELL",
      makerAccount: p.makerAccount[i],
      takerAccount: p.takerAccount[i],
      makerFee: n[b + 4],
      takerFee: n[b + 5],
    };
  }

  delete(tradeId: number): void {
    const p = this.pageHolding(tradeId);
    if (p === undefined) return;
    const i = tradeId & (PAGE - 1);
    p.state[i] = ABSENT;
    p.makerAccount[i] = "";
    p.takerAccount[i] = "";
    this.size--;
    if (--p.live === 0) this.pages.delete(pageOf(tradeId));
  }

  /** Pages allocated (memory held: 4,096 trades each). */
  get pagesHeld(): number {
    return this.pages.size;
  }

  /** The pending trades in id order. */
  values(): PendingTrade[] {
    const out: PendingTrade[] = [];
    for (const pg of [...this.pages.keys()].sort((a, b) => a - b)) {
      const p = this.pages.get(pg) as TradePage;
      for (let i = 0; i < PAGE; i++) if (p.state[i] !== ABSENT) out.push(this.get(pg * PAGE + i) as PendingTrade);
    }
    return out;
  }

  /** The page holding a pending trade of this id, else undefined (any input). */
  private pageHolding(tradeId: number): TradePage | undefined {
    if (typeof tradeId !== "number" || !Number.isSafeInteger(tradeId) || tradeId < 0) return undefined;
    const p = this.pages.get(pageOf(tradeId));
    return p !== undefined && p.state[tradeId & (PAGE - 1)] !== ABSENT ? p : undefined;
  }
}
