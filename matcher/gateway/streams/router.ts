// Engine events -> gateway state -> streams. Each event updates the market and account
// mirrors, then is published once per stream that has subscribers. Interval streams
// (batched and partial depth, tickers, mark price) are paced by one timer.
import type { TradeEvent, DepthEvent } from "../../engine/types";
import type { VenueEvent } from "../venue/types";
import type { MarketSpec } from "../venue/types";
import type { Hub } from "../ws/hub";
import { MarketData } from "./market";
import { AccountState, accountUpdate, orderTradeUpdate, type UserTrade } from "./accounts";
import * as P from "./payloads";
import { KLINE_INTERVALS } from "./names";
import { fmtPrice, fmtQty } from "./format";
import { RecentKlines, STORED_INTERVALS, baseInterval, type KlineStore, type StoredKline } from "./klines";

interface DepthBatch {
  U: number;
  pu: number;
  u: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

export class Router {
  readonly markets = new Map<number, MarketData>();
  readonly bySymbol = new Map<string, MarketData>();
  readonly accounts = new Map<string, AccountState>();
  /** account -> live listenKeys subscribed on this gateway */
  readonly userKeys = new Map<string, Set<string>>();
  private readonly keyOwner = new Map<string, string>();
  private readonly batches = new Map<string, DepthBatch>();
  private readonly lastEmit = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  eventsIn = 0;
  /** Depth events whose pu did not follow (should stay 0). */
  gaps = 0;
  /** Durable klines of settled trades (attachKlines); without it klines come from the engine's trades. */
  klineStore?: KlineStore;
  private readonly recentKlines = new Map<number, RecentKlines>();
  /**
   * Where @forceOrder comes from: the engine's LIQUIDATION account events (default), or a chain
   * liquidation feed (onForceOrder; the engine events are then not published, so nothing twice).
   */
  forceOrdersFromEngine = true;
  private readonly forceOrderIds = new Set<string>();

  constructor(
    specs: MarketSpec[],
    private readonly hub: Hub,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of specs) {
      const md = new MarketData(s);
      this.markets.set(s.id, md);
      this.bySymbol.set(s.symbol, md);
    }
    this.timer = setInterval(() => this.onTimer(), 100);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  account(a: string): AccountState {
    let s = this.accounts.get(a);
    if (!s) this.accounts.set(a, (s = new AccountState(a)));
    return s;
  }

  /** Routes `account`'s events to the listenKey stream `key`. */
  addUserKey(account: string, key: string): void {
    let keys = this.userKeys.get(account);
    if (!keys) this.userKeys.set(account, (keys = new Set()));
    keys.add(key);
    this.keyOwner.set(key, account);
  }

  /** Stops routing events to the listenKey stream `key`. */
  dropUserKey(key: string): void {
    const account = this.keyOwner.get(key);
    if (account === undefined) return;
    this.keyOwner.delete(key);
    const keys = this.userKeys.get(account);
    keys?.delete(key);
    if (keys?.size === 0) this.userKeys.delete(account);
  }

  private userPublish(account: string, payload: Record<string, unknown>): void {
    const keys = this.userKeys.get(account);
    if (!keys || keys.size === 0) return;
    const json = JSON.stringify(payload);
    for (const k of keys) this.hub.publish(k, json);
  }

  private pub(stream: string, payload: () => Record<string, unknown>): void {
    if (this.hub.has(stream)) this.hub.publish(stream, JSON.stringify(payload()));
  }

  onEvents(events: readonly VenueEvent[]): void {
    this.eventsIn += events.length;
    let trades: Map<number, TradeEvent> | undefined;
    const touched = new Map<string, { reason: string; ts: number; markets: Set<number> }>();
    const touch = (acct: string, reason: string, ts: number, market: number) => {
      let t = touched.get(acct);
      if (!t) touched.set(acct, (t = { reason, ts, markets: new Set() }));
      t.ts = ts;
      if (market >= 0) t.markets.add(market);
    };
    for (const ev of events) {
      switch (ev.kind) {
        case "depth":
          this.onDepth(ev);
          break;
        case "trade": {
          (trades ??= new Map()).set(ev.tradeId, ev);
          const md = this.markets.get(ev.market);
          if (!md) break;
          const t = md.applyTrade(ev);
          const sym = md.spec.symbol.toLowerCase();
          this.pub(`${sym}@aggTrade`, () => P.aggTrade(md, t));
          if (!this.klineStore) {
            for (const iv of Object.keys(KLINE_INTERVALS)) {
              const k = md.klines.get(iv)!;
              this.pub(`${sym}@kline_${iv}`, () => P.klinePayload(md, iv, k[k.length - 1], ev.ts, false));
            }
          }
          const buyer = ev.takerSide === "BUY" ? ev.takerAccount : ev.makerAccount;
          const seller = ev.takerSide === "BUY" ? ev.makerAccount : ev.takerAccount;
          this.account(buyer).onFill(ev, "BUY", buyer === ev.makerAccount && ev.takerSide === "SELL");
          this.account(seller).onFill(ev, "SELL", seller === ev.makerAccount && ev.takerSide === "BUY");
          touch(buyer, "ORDER", ev.ts, ev.market);
          touch(seller, "ORDER", ev.ts, ev.market);
          break;
        }
        case "order": {
          const md = this.markets.get(ev.market);
          if (!md) break;
          const acct = this.account(ev.account);
          const v = acct.onOrder(ev);
          if (this.userKeys.has(ev.account)) {
            let fill: UserTrade | undefined;
            for (let i = acct.trades.length - 1; ev.tradeId > 0 && i >= 0 && i >= acct.trades.length - 8; i--) {
              const t = acct.trades[i];
              if (t.id === ev.tradeId && t.orderId === ev.orderId) fill = t;
            }
            this.userPublish(ev.account, orderTradeUpdate(md.spec, v, fill));
          }
          break;
        }
        case "settled": {
          for (const acct of new Set(ev.accounts)) {
            this.userPublish(acct, {
              e: "TRADE_SETTLEMENT",
              E: ev.ts,
              t: String(ev.tradeId),
              X: "SETTLED",
              m: ev.market,
            });
          }
          break;
        }
        case "mark": {
          const md = this.markets.get(ev.market);
          md?.applyMark(ev);
          break;
        }
        case "status": {
          this.markets.get(ev.market)?.applyStatus(ev);
          break;
        }
        case "account": {
          const acct = this.account(ev.account);
          acct.onAccount(ev);
          const reason =
            ev.reason === "BALANCE"
              ? ev.cashDelta >= 0
                ? "DEPOSIT"
                : "WITHDRAW"
              : ev.reason === "FUNDING"
                ? "FUNDING_FEE"
                : ev.reason;
          touch(ev.account, reason, ev.ts, ev.market);
          if (ev.reason === "LIQUIDATION" && this.forceOrdersFromEngine)
            this.onLiquidation(ev.market, ev.ts, ev.position);
          if (ev.reason === "SETTLEMENT_FAILED") {
            this.userPublish(ev.account, { e: "TRADE_SETTLEMENT", E: ev.ts, t: ev.ref, X: "FAILED", m: ev.market });
          }
          break;
        }
      }
    }
    for (const [acct, t] of touched) {
      if (!this.userKeys.has(acct)) continue;
      const a = this.account(acct);
      const ms = [...t.markets].map((id) => this.markets.get(id)!).filter(Boolean);
      this.userPublish(
        acct,
        accountUpdate(
          a,
          t.reason,
          t.ts,
          ms.map((md) => ({ spec: md.spec, mark: md.mark })),
        ),
      );
    }
  }

  private onLiquidation(market: number, ts: number, position: number): void {
    const md = this.markets.get(market);
    if (!md) return;
    const sym = md.spec.symbol.toLowerCase();
    const payload = () => ({
      e: "forceOrder",
      E: ts,
      o: {
        s: md.spec.symbol,
        S: position > 0 ? "SELL" : "BUY",
        o: "LIMIT",
        f: "IOC",
        q: fmtQty(Math.abs(position), md.spec.quantityPrecision),
        p: fmtPrice(md.mark, md.spec.pricePrecision),
        ap: fmtPrice(md.mark, md.spec.pricePrecision),
        X: "FILLED",
        l: fmtQty(Math.abs(position), md.spec.quantityPrecision),
        z: fmtQty(Math.abs(position), md.spec.quantityPrecision),
        T: ts,
      },
    });
    this.pub(`${sym}@forceOrder`, payload);
    this.pub("!forceOrder@arr", payload);
  }

  /**
   * Serve klines from a store of settled-trade candles: REST reads it, streams follow onCandle.
   * `seed` are the newest stored candles (KlineStore.recent) at attach time.
   */
  attachKlines(store: KlineStore, seed: readonly { market: number; interval: string; kline: StoredKline }[]): void {
    this.klineStore = store;
    for (const md of this.markets.values()) md.durableKlines = true;
    for (const s of seed) this.recent(s.market).apply(s.interval, s.kline);
  }

  private recent(market: number): RecentKlines {
    let r = this.recentKlines.get(market);
    if (!r) this.recentKlines.set(market, (r = new RecentKlines()));
    return r;
  }

  /** A stored candle changed (or was removed by a reorg: `removed`); pushes every kline stream it feeds. */
  onCandle(market: number, interval: string, k: StoredKline, removed = false): void {
    const md = this.markets.get(market);
    if (!md || !STORED_INTERVALS.includes(interval as never)) return;
    const r = this.recent(market);
    if (!(removed ? r.remove(interval, k.t, k.version) : r.apply(interval, k))) return;
    const sym = md.spec.symbol.toLowerCase();
    const now = this.now();
    for (const iv of Object.keys(KLINE_INTERVALS)) {
      if (baseInterval(iv) !== interval) continue;
      const name = `${sym}@kline_${iv}`;
      if (!this.hub.has(name)) continue;
      const c = r.candleAt(iv, k.t);
      if (c) this.hub.publish(name, JSON.stringify(P.klinePayload(md, iv, c, now, now > c.T)));
    }
  }

  /** The candle of a stream interval containing `t`, from the durable klines (tests, REST helpers). */
  durableKlineAt(market: number, iv: string, t: number) {
    return this.recentKlines.get(market)?.candleAt(iv, t);
  }

  /**
   * A liquidation on chain (keeper's liquidation feed): publishes @forceOrder and !forceOrder@arr once
   * per `id` (the bot and the listener may both report it). `isBuy`: the side of the forced order (a
   * long is closed by a sell).
   */
  onForceOrder(f: { id: string; market: number; isBuy: boolean; size: number; price: number; ts: number }): boolean {
    const md = this.markets.get(f.market);
    if (!md || this.forceOrderIds.has(f.id)) return false;
    this.forceOrderIds.add(f.id);
    if (this.forceOrderIds.size > 10_000) this.forceOrderIds.delete(this.forceOrderIds.values().next().value!);
    const { pricePrecision: pd, quantityPrecision: qd, symbol } = md.spec;
    const payload = () => ({
      e: "forceOrder",
      E: f.ts,
      o: {
        s: symbol,
        S: f.isBuy ? "BUY" : "SELL",
        o: "LIMIT",
        f: "IOC",
        q: fmtQty(f.size, qd),
        p: fmtPrice(f.price, pd),
        ap: fmtPrice(f.price, pd),
        X: "FILLED",
        l: fmtQty(f.size, qd),
        z: fmtQty(f.size, qd),
        T: f.ts,
      },
    });
    this.pub(`${symbol.toLowerCase()}@forceOrder`, payload);
    this.pub("!forceOrder@arr", payload);
    return true;
  }

  private onDepth(ev: DepthEvent): void {
    const md = this.markets.get(ev.market);
    if (!md) return;
    if (ev.u <= md.lastUpdateId) return;
    if (ev.pu !== md.lastUpdateId) this.gaps++;
    const topChanged = md.applyDepth(ev);
    const sym = md.spec.symbol.toLowerCase();
    this.pub(`${sym}@depth`, () => P.depthUpdate(md, ev.ts, ev.ts, ev.U, ev.u, ev.pu, ev.bids, ev.asks));
    for (const speed of [100, 250, 500]) {
      const name = `${sym}@depth@${speed}ms`;
      if (!this.hub.has(name)) {
        this.batches.delete(name);
        continue;
      }
      let b = this.batches.get(name);
      if (!b) this.batches.set(name, (b = { U: ev.U, pu: ev.pu, u: ev.u, bids: new Map(), asks: new Map() }));
      b.u = ev.u;
      for (const [p, q] of ev.bids) b.bids.set(p, q);
      for (const [p, q] of ev.asks) b.asks.set(p, q);
    }
    if (topChanged) {
      this.pub(`${sym}@bookTicker`, () => P.bookTicker(md, ev.ts));
      this.pub("!bookTicker", () => P.bookTicker(md, ev.ts));
    }
  }

  private due(name: string, every: number, now: number): boolean {
    if (!this.hub.has(name)) return false;
    const last = this.lastEmit.get(name) ?? 0;
    if (now - last < every) return false;
    this.lastEmit.set(name, now);
    return true;
  }

  private onTimer(): void {
    const now = this.now();
    for (const [name, b] of this.batches) {
      const speed = Number(/@(\d+)ms$/.exec(name)![1]);
      if (!this.due(name, speed, now)) continue;
      const md = this.bySymbol.get(name.slice(0, name.indexOf("@")).toUpperCase())!;
      this.batches.delete(name);
      this.hub.publish(name, JSON.stringify(P.depthUpdate(md, now, now, b.U, b.u, b.pu, [...b.bids], [...b.asks])));
    }
    const allMarks: Record<string, unknown>[] = [];
    const allTickers: Record<string, unknown>[] = [];
    const wantMarks = this.due("!markPrice@arr", 3000, now) || this.due("!markPrice@arr@1s", 1000, now);
    const wantTickers = this.due("!ticker@arr", 1000, now);
    for (const md of this.markets.values()) {
      const sym = md.spec.symbol.toLowerCase();
      for (const n of [5, 10, 20]) {
        for (const sp of [100, 250, 500]) {
          const name = sp === 250 ? `${sym}@depth${n}` : `${sym}@depth${n}@${sp}ms`;
          if (!this.due(name, sp, now)) continue;
          const d = md.depth(n);
          this.hub.publish(
            name,
            JSON.stringify(
              P.depthUpdate(md, now, now, md.lastUpdateId, md.lastUpdateId, md.lastUpdateId, d.bids, d.asks),
            ),
          );
        }
      }
      if (this.due(`${sym}@ticker`, 1000, now)) this.hub.publish(`${sym}@ticker`, JSON.stringify(P.ticker24(md, now)));
      if (this.due(`${sym}@miniTicker`, 1000, now))
        this.hub.publish(`${sym}@miniTicker`, JSON.stringify(P.miniTicker(md, now)));
      if (this.due(`${sym}@markPrice`, 3000, now))
        this.hub.publish(`${sym}@markPrice`, JSON.stringify(P.markPrice(md, now)));
      if (this.due(`${sym}@markPrice@1s`, 1000, now))
        this.hub.publish(`${sym}@markPrice@1s`, JSON.stringify(P.markPrice(md, now)));
      if (wantMarks) allMarks.push(P.markPrice(md, now));
      if (wantTickers && md.trades.length > 0) allTickers.push(P.ticker24(md, now));
    }
    if (wantMarks) {
      const j = JSON.stringify(allMarks);
      this.hub.publish("!markPrice@arr", j);
      this.hub.publish("!markPrice@arr@1s", j);
    }
    if (wantTickers) this.hub.publish("!ticker@arr", JSON.stringify(allTickers));
  }
}
