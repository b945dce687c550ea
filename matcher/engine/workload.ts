// The published, seeded benchmark workload of `npm run bench:matcher` (test/matcher/workload.test.ts checks it does what this says).
//
// One market (BTCUSD: tick 0.1 USD, lot 0.001 BTC, mark 60,000), 1,000 funded accounts.
// Book fill: `resting` GTC limits, bids at mid-1..mid-SPREAD ticks and asks at mid+1..mid+SPREAD
// (uniform), 1-10 lots. Then `ops` operations, drawn with a seeded xorshift:
//   42%  resting GTC limit (price as in the fill, 1-10 lots)
//    2%  resting reduce-only GTC limit (rejected when the account has no position to reduce)
//    1%  stop-market far from the price (rests in the conditional store, never triggers)
//   40%  cancel of a uniformly chosen order placed earlier (some were filled: ORDER_NOT_FOUND)
//   15%  crossing IOC limit, 1-10 lots, limit 0-4 ticks through the touch, STP expire-maker
// Cancels name an earlier place command, and a crossing order's limit depends on the book when it
// arrives: `resolveWorkload` runs the workload once on a scratch engine to learn the ids the engine
// gives and the opposite best price before each crossing order (the engine is deterministic, so a
// fresh engine sees the same). Priced from the mid instead, the crossing orders would stop crossing
// as soon as the touch moved more than 5 ticks away (in the first workload, 99% of them traded nothing).
import {
  placeCommand,
  cancelCommand,
  type Command,
  type MarkCmd,
  type PlaceCmd,
  type CancelCmd,
  type BalanceCmd,
} from "./types";
import type { Engine } from "./engine";
import type { MarketConfig } from "./market";

export const WL_TICK = 100_000;
export const WL_LOT = 100_000;
export const WL_MID = 600_000; // ticks: 60,000 USD
export const WL_SPREAD = 2_000; // ticks each side
export const WL_ACCOUNTS = 1_000;

export function workloadMarket(): MarketConfig {
  return {
    id: 1,
    symbol: "BTCUSD",
    tickSize: WL_TICK,
    lotSize: WL_LOT,
    minNotional: 5_000_000,
    maxOrderQty: 100 * 100_000_000,
    maxOpenOrders: 1_000_000,
    maxConditionalOrders: 1_000,
    priceBandPpm: 100_000,
    marketSlippagePpm: 50_000,
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: 200,
    takerFeePpm: 500,
  };
}

export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

export interface Workload {
  /** funding + mark (not timed) */
  setup: Command[];
  /** the book fill (timed separately) */
  fill: PlaceCmd[];
  /** the measured operations */
  ops: Command[];
  /** for each op: index (fill first, then ops) of the place command a cancel targets, else -1 */
  refs: Int32Array;
  /** for each op: ticks through the opposite best of a crossing order (0-4), else -1 */
  through: Int8Array;
}

export function makeWorkload(seed: number, resting: number, ops: number): Workload {
  const rng = new Rng(seed);
  const accounts: string[] = [];
  for (let i = 0; i < WL_ACCOUNTS; i++) accounts.push("0x" + (i + 1).toString(16).padStart(40, "0"));
  const setup: Command[] = [{ type: "mark", ts: 1, market: 1, price: WL_MID * WL_TICK } as MarkCmd];
  for (const a of accounts) setup.push({ type: "balance", ts: 1, account: a, delta: 1e13 } as BalanceCmd);
  const live: number[] = [];
  const ts = (i: number) => 2 + Math.floor(i / 1000);
  const limit = (i: number, isBuy: boolean, ticks: number, lots: number, tif: "GTC" | "IOC"): PlaceCmd =>
    placeCommand({
      type: "place",
      ts: ts(i),
      account: accounts[rng.int(WL_ACCOUNTS)],
      market: 1,
      side: isBuy ? "BUY" : "SELL",
      orderType: "LIMIT",
      tif,
      price: ticks * WL_TICK,
      qty: lots * WL_LOT,
      stp: "EXPIRE_MAKER",
    });
  const restingOrder = (i: number): PlaceCmd => {
    const isBuy = rng.int(2) === 0;
    const off = 1 + rng.int(WL_SPREAD);
    return limit(i, isBuy, isBuy ? WL_MID - off : WL_MID + off, 1 + rng.int(10), "GTC");
  };
  const fill: PlaceCmd[] = [];
  for (let i = 0; i < resting; i++) {
    fill.push(restingOrder(0));
    live.push(i);
  }
  const out: Command[] = [];
  const refs = new Int32Array(ops).fill(-1);
  const throughs = new Int8Array(ops).fill(-1);
  for (let i = 0; i < ops; i++) {
    const r = rng.int(100);
    const idx = resting + i;
    if (r < 42) {
      out.push(restingOrder(i));
      live.push(idx);
    } else if (r < 44) {
      const o = restingOrder(i);
      o.reduceOnly = true; // same shape: the field exists (undefined) in every place command
      out.push(o);
      live.push(idx);
    } else if (r < 45) {
      const isBuy = rng.int(2) === 0;
      out.push(
        placeCommand({
          type: "place",
          ts: ts(i),
          account: accounts[rng.int(WL_ACCOUNTS)],
          market: 1,
          side: isBuy ? "BUY" : "SELL",
          orderType: "STOP_MARKET",
          qty: WL_LOT,
          stopPrice: (isBuy ? WL_MID + 50_000 : WL_MID - 50_000) * WL_TICK,
        }),
      );
      live.push(idx);
    } else if (r < 85) {
      if (live.length > 0) {
        const k = rng.int(live.length);
        refs[i] = live[k];
        live[k] = live[live.length - 1];
        live.pop();
      }
      out.push(cancelCommand({ type: "cancel", ts: ts(i), account: "", market: 1, orderId: 0 }));
    } else {
      const isBuy = rng.int(2) === 0;
      const through = rng.int(5);
      throughs[i] = through;
      // priced at the mid's touch here; resolveWorkload moves it to the book's touch at its turn
      out.push(limit(i, isBuy, isBuy ? WL_MID + 1 + through : WL_MID - 1 - through, 1 + rng.int(10), "IOC"));
    }
  }
  return { setup, fill, ops: out, refs, through: throughs };
}

/** What resolveWorkload learnt: the ids the engine gives, and how much the workload trades. */
export interface ResolvedWorkload {
  /** order id each place command got (0 = rejected), fill first then ops */
  ids: Int32Array;
  /** trades in the measured ops */
  trades: number;
  /** crossing orders in the measured ops, and how many of them traded */
  crossing: number;
  crossingTraded: number;
}

/**
 * Fill in the cancels' order ids and accounts, and the crossing orders' limits (`through` ticks
 * past the opposite best at their turn; left at the mid's touch when that side is empty), by running
 * the workload on `scratch` (a fresh engine).
 */
export function resolveWorkload(wl: Workload, scratch: Engine): ResolvedWorkload {
  for (const c of wl.setup) scratch.process(c);
  const n = wl.fill.length;
  const ids = new Int32Array(n + wl.ops.length);
  for (let i = 0; i < n; i++) {
    ids[i] = scratch.process(wl.fill[i]).orderId;
    if ((i & 1023) === 0) scratch.eventLog.clear();
  }
  scratch.eventLog.clear();
  let trades = 0;
  let crossing = 0;
  let crossingTraded = 0;
  for (let j = 0; j < wl.ops.length; j++) {
    const c = wl.ops[j];
    const r = wl.refs[j];
    if (r >= 0) {
      const cc = c as CancelCmd;
      cc.orderId = ids[r];
      cc.account = (r < n ? wl.fill[r] : (wl.ops[r - n] as PlaceCmd)).account;
    }
    const through = wl.through[j];
    if (through >= 0) {
      const pc = c as PlaceCmd;
      const m = scratch.markets[0];
      const best = (pc.side === "BUY" ? m.asks : m.bids).best();
      if (best !== null) pc.price = (pc.side === "BUY" ? best.ticks + through : best.ticks - through) * WL_TICK;
    }
    ids[n + j] = scratch.process(c).orderId;
    let t = 0;
    const log = scratch.eventLog;
    for (let k = 0; k < log.length; k++) if (log.isTrade(k)) t++;
    log.clear();
    trades += t;
    if (through >= 0) {
      crossing++;
      if (t > 0) crossingTraded++;
    }
  }
  return { ids, trades, crossing, crossingTraded };
}
