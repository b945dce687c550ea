import { expect } from "chai";
import {
  Engine,
  type MarketConfig,
  type Ack,
  type Command,
  type EngineEvent,
  type PlaceCmd,
  type DepthEvent,
} from "../../matcher";
import type { Account } from "../../matcher/engine/account";
import { Order } from "../../matcher/engine/book";
import { packKinds } from "../../matcher/engine/orderKinds";
import { healthOf, type AccountMarket, type MarketRiskState } from "../../matcher/risk/margin";

export const TICK = 100_000; // 0.1 USD in price units
export const LOT = 100_000; // 0.001 BTC in size units
export const USD = 1_000_000;

/** A plain GTC limit order in market 0, as the engine builds one (for book-level tests). */
export function limitOrder(id: number, acct: Account, isBuy: boolean, ticks: number, lots: number): Order {
  return new Order(
    id,
    acct,
    0,
    isBuy,
    "LIMIT",
    "LIMIT",
    "GTC",
    ticks,
    lots,
    0,
    "CONTRACT_PRICE",
    false,
    false,
    0,
    "",
    "",
    0,
    0,
    0,
    packKinds("LIMIT", "LIMIT", "GTC", "CONTRACT_PRICE"),
  );
}

export function btc(over: Partial<MarketConfig> = {}): MarketConfig {
  return {
    id: 1,
    symbol: "BTCUSD",
    tickSize: TICK,
    lotSize: LOT,
    minNotional: 5 * USD,
    maxOrderQty: 1_000 * 100_000_000,
    maxOpenOrders: 200,
    maxConditionalOrders: 10,
    priceBandPpm: 100_000,
    marketSlippagePpm: 50_000,
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: 200,
    takerFeePpm: 500,
    ...over,
  };
}

/** price in whole USD (may be fractional to 0.1) -> price units */
export const px = (usd: number): number => Math.round(usd * 10) * TICK;
/** size in lots -> size units */
export const lots = (n: number): number => n * LOT;

/** A small harness: an engine with one market, mark 60000, funded accounts. */
export class H {
  e: Engine;
  ts = 1_000;
  acks: Ack[] = [];
  events: EngineEvent[] = [];
  constructor(
    cfgs: MarketConfig[] = [btc()],
    fund: Record<string, number> = { A: 1e6 * USD, B: 1e6 * USD, C: 1e6 * USD },
  ) {
    this.e = new Engine({ markets: cfgs });
    for (const m of cfgs) this.run({ type: "mark", ts: this.ts, market: m.id, price: px(60_000) });
    for (const [a, v] of Object.entries(fund)) this.run({ type: "balance", ts: this.ts, account: a, delta: v });
  }
  run(cmd: Command): Ack {
    const ack = this.e.process(cmd);
    this.acks.push(ack);
    this.events.push(...this.e.events);
    this.last = this.e.events;
    this.e.events = [];
    return ack;
  }
  last: EngineEvent[] = [];
  place(p: Partial<PlaceCmd> & { account: string; side: "BUY" | "SELL" }): Ack {
    return this.run({ type: "place", ts: this.ts, market: 1, orderType: "LIMIT", qty: lots(1), ...p } as PlaceCmd);
  }
  limit(account: string, side: "BUY" | "SELL", priceUsd: number, nLots: number, extra: Partial<PlaceCmd> = {}): Ack {
    return this.place({ account, side, price: px(priceUsd), qty: lots(nLots), ...extra });
  }
  cancel(account: string, orderId: number): Ack {
    return this.run({ type: "cancel", ts: this.ts, account, market: 1, orderId });
  }
  trades() {
    return this.events.filter((e) => e.kind === "trade");
  }
  lastOfKind<K extends EngineEvent["kind"]>(kind: K): Extract<EngineEvent, { kind: K }>[] {
    return this.last.filter((e) => e.kind === kind) as Extract<EngineEvent, { kind: K }>[];
  }
  depth() {
    return this.e.depth(1);
  }
}

/** A client keeping a local book from a snapshot and depth diffs (Binance's procedure). */
export class LocalBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  lastU: number;
  gap = false;
  constructor(snap: { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] }) {
    for (const [p, q] of snap.bids) this.bids.set(p, q);
    for (const [p, q] of snap.asks) this.asks.set(p, q);
    this.lastU = snap.lastUpdateId;
  }
  apply(d: DepthEvent): void {
    if (d.u <= this.lastU) return;
    if (d.pu !== this.lastU || d.U > this.lastU + 1) {
      this.gap = true;
      return;
    }
    for (const [p, q] of d.bids) {
      if (q === 0) this.bids.delete(p);
      else this.bids.set(p, q);
    }
    for (const [p, q] of d.asks) {
      if (q === 0) this.asks.delete(p);
      else this.asks.set(p, q);
    }
    this.lastU = d.u;
  }
  view() {
    const b = [...this.bids.entries()].sort((x, y) => y[0] - x[0]);
    const a = [...this.asks.entries()].sort((x, y) => x[0] - y[0]);
    return { bids: b, asks: a };
  }
}

/** Every market state of every account the engine holds, with its market's risk state and a label for messages. */
export function* accountMarkets(
  e: Engine,
): IterableIterator<{ am: AccountMarket; risk: MarketRiskState; label: string }> {
  for (const a of e.accounts.values())
    for (const j of a.touched)
      yield { am: a.markets[j] as AccountMarket, risk: e.markets[j].risk, label: `account ${a.id} market ${j}` };
}

/**
 * If am's cached health is valid (clean, at this mark): that it, and each of its terms (which the margin
 * check reuses: it computes only the side an order changes), are those of am's current sums. Whether it was.
 */
export function expectCachedHealthExact(risk: MarketRiskState, am: AccountMarket, at: string): boolean {
  if (am.dirty || am.healthVersion !== risk.markVersion) return false;
  expect(am.health, at).to.equal(healthOf(risk, am.pos, am.buyLots, am.buyQP, am.sellLots, am.sellQP));
  const h0 = risk.scenario(am.pos, 0);
  expect(am.hPos, `position term, ${at}`).to.equal(h0);
  expect(am.hBuy, `buy term, ${at}`).to.equal(
    am.buyLots > 0 ? risk.scenario(am.pos + am.buyLots * risk.lotSize, -risk.qpCeil(am.buyQP)) : h0,
  );
  expect(am.hSell, `sell term, ${at}`).to.equal(
    am.sellLots > 0 ? risk.scenario(am.pos - am.sellLots * risk.lotSize, risk.qpFloor(am.sellQP)) : h0,
  );
  return true;
}
