// Keeper -> gateway market data: durable klines (candles of settled trades from the keeper's store, live
// updates from the CANDLES channel), forced orders (LIQUIDATIONS channel) and funding (FundingUpdated and
// FundingParamsSet on the CHAIN_EVENTS channel; with a chain client, the last update and the interval are
// read at start, so the next funding time is known before the next update).
//
// Klines: the feed subscribes first, then seeds the router from the store, then applies what arrived
// meanwhile; every candle carries the store's version, so an update older than the seed is dropped.
// A restart of the gateway loses nothing: REST reads the store, streams start from the seed.
import type { Address, PublicClient } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import type { Bus, Unsubscribe } from "../../keeper/bus";
import type { Queryable } from "../../keeper/db";
import { CANDLE_INTERVALS, loadCandles, type Candle, type CandleMessage } from "../../keeper/listener/candles";
import { CANDLES, CHAIN_EVENTS, LIQUIDATIONS } from "../../keeper/topics";
import type { Router } from "../gateway/streams/router";
import type { KlineStore, StoredKline } from "../gateway/streams/klines";
import type { BridgeLogger } from "./bridge";

export function candleToKline(c: Pick<Candle, "openTime" | "interval"> & Partial<Candle>): StoredKline {
  const ms = CANDLE_INTERVALS[c.interval];
  return {
    t: c.openTime,
    T: c.openTime + ms - 1,
    o: Number(c.open ?? 0),
    h: Number(c.high ?? 0),
    l: Number(c.low ?? 0),
    c: Number(c.close ?? 0),
    v: Number(c.volume ?? 0),
    q: Number(c.quote ?? 0),
    n: c.trades ?? 0,
    V: Number(c.takerBuyVolume ?? 0),
    Q: Number(c.takerBuyQuote ?? 0),
    f: c.firstTrade ?? -1,
    L: c.lastTrade ?? -1,
    version: Number(c.version ?? 0),
  };
}

/** The keeper's candles table as the gateway's KlineStore. */
export class DbKlineStore implements KlineStore {
  constructor(private readonly db: Queryable) {}

  async load(market: number, interval: string, opts: { startTime?: number; endTime?: number; limit: number }) {
    return (await loadCandles(this.db, market, interval, opts)).map(candleToKline);
  }

  async recent(perInterval: number) {
    const r = await this.db.query<{
      market: number;
      interval: string;
      open_time: string;
      open: string;
      high: string;
      low: string;
      close: string;
      volume: string;
      quote: string;
      trades: number;
      taker_buy_volume: string;
      taker_buy_quote: string;
      first_trade: string | null;
      last_trade: string | null;
      version: string;
    }>(
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY market, interval ORDER BY open_time DESC) AS rn
       FROM candles) x WHERE rn <= $1`,
      [perInterval],
    );
    return r.rows.map((x) => ({
      market: Number(x.market),
      interval: x.interval,
      kline: candleToKline({
        interval: x.interval,
        openTime: Number(x.open_time),
        open: x.open,
        high: x.high,
        low: x.low,
        close: x.close,
        volume: x.volume,
        quote: x.quote,
        trades: Number(x.trades),
        takerBuyVolume: x.taker_buy_volume,
        takerBuyQuote: x.taker_buy_quote,
        firstTrade: x.first_trade === null ? null : Number(x.first_trade),
        lastTrade: x.last_trade === null ? null : Number(x.last_trade),
        version: x.version,
      }),
    }));
  }
}

/** A liquidation as published on LIQUIDATIONS (listener and liquidator bot). */
export interface LiquidationMessage {
  type: "liquidation";
  /** Identity (tx hash and log index): the same liquidation reported twice is shown once. */
  id: string;
  account: string;
  liquidator: string;
  market: number;
  /** Size taken over (1e-8 units), positive. */
  size: string;
  /** Price of the take-over (the oracle mark), 6 decimals. */
  price: string;
  /** True when the liquidated position was long (closed by a sell). */
  wasLong: boolean;
  ts: number;
}

export interface MarketFeedsOptions {
  bus: Bus;
  router: Router;
  /** The keeper's store (Postgres or the in-process PGlite): durable klines. Absent: klines from the engine. */
  db?: Queryable;
  /** The chain: the funding interval and each market's last funding update, read at start. */
  chain?: { client: PublicClient; exchange: Address };
  log?: BridgeLogger;
}

/** Next funding time (ms) of every market: the last update's time plus the contract's interval. */
class FundingClock {
  private intervalMs = 0;
  private readonly lastMs = new Map<number, number>();
  constructor(private readonly router: Router) {}

  /** A funding update at atMs (ms); an older one (the start-time read racing a live event) is ignored. */
  updated(market: number, atMs: number): void {
    if (atMs <= (this.lastMs.get(market) ?? 0)) return;
    this.lastMs.set(market, atMs);
    this.show(market);
  }

  setIntervalMs(ms: number): void {
    this.intervalMs = ms;
    for (const m of this.lastMs.keys()) this.show(m);
  }

  private show(market: number): void {
    const md = this.router.markets.get(market);
    const last = this.lastMs.get(market);
    // unknown (0) until both the interval and an update are known, as before the first update
    if (md && last !== undefined && this.intervalMs > 0) md.nextFundingTime = last + this.intervalMs;
  }
}

export class MarketFeeds {
  private readonly subs: Unsubscribe[] = [];

  constructor(private readonly o: MarketFeedsOptions) {}

  async start(): Promise<void> {
    const { bus, router } = this.o;
    if (this.o.db) {
      const pending: CandleMessage[] = [];
      let seeded = false;
      const apply = (m: CandleMessage) => {
        if (m.type === "candle") router.onCandle(m.market, m.interval, candleToKline(m));
        else if (m.type === "candleRemoved")
          router.onCandle(m.market, m.interval, candleToKline({ ...m, trades: 0 }), true);
      };
      this.subs.push(
        await bus.subscribe(CANDLES, (msg) => {
          const m = msg as CandleMessage;
          if (seeded) apply(m);
          else pending.push(m);
        }),
      );
      const store = new DbKlineStore(this.o.db);
      router.attachKlines(store, await store.recent(16));
      seeded = true;
      for (const m of pending.splice(0)) apply(m);
    }
    router.forceOrdersFromEngine = false;
    this.subs.push(
      await bus.subscribe(LIQUIDATIONS, (msg) => {
        const m = msg as LiquidationMessage;
        if (m?.type !== "liquidation") return;
        router.onForceOrder({
          id: m.id,
          market: Number(m.market),
          isBuy: !m.wasLong,
          size: Number(m.size),
          price: Number(m.price),
          ts: Number(m.ts),
        });
      }),
    );
    const clock = new FundingClock(router);
    this.subs.push(
      await bus.subscribe(CHAIN_EVENTS, (msg) => {
        const m = msg as { type?: string; name?: string; args?: Record<string, string>; blockTime?: number };
        if (m?.type !== "event" || !m.args) return;
        if (m.name === "FundingParamsSet") clock.setIntervalMs(Number(m.args.interval) * 1000);
        if (m.name !== "FundingUpdated") return;
        const market = Number(m.args.market);
        const md = router.markets.get(market);
        if (!md) return;
        // rate per interval in 1e-9 -> whole ppm (the gateway's unit; Binance shows 8 decimals)
        md.fundingRatePpm = Math.round(Number(m.args.appliedRate ?? 0) / 1000);
        if (typeof m.blockTime === "number") clock.updated(market, m.blockTime);
      }),
    );
    if (this.o.chain) await this.readFunding(clock, this.o.chain);
  }

  /** The interval and each market's last update from the chain (a failed read leaves the time unknown). */
  private async readFunding(clock: FundingClock, chain: NonNullable<MarketFeedsOptions["chain"]>): Promise<void> {
    const { client, exchange } = chain;
    try {
      const [interval] = await client.readContract({
        address: exchange,
        abi: exchangeAbi,
        functionName: "fundingParams",
      });
      clock.setIntervalMs(Number(interval) * 1000);
      for (const market of this.o.router.markets.keys()) {
        const [, , , lastTime] = await client.readContract({
          address: exchange,
          abi: exchangeAbi,
          functionName: "fundingState",
          args: [market],
        });
        if (lastTime > 0n) clock.updated(market, Number(lastTime) * 1000);
      }
    } catch (err) {
      this.o.log?.warn("funding state read failed: next funding time unknown until an update", {
        err: String(err).slice(0, 200),
      });
    }
  }

  async stop(): Promise<void> {
    for (const off of this.subs.splice(0)) await off().catch(() => {});
  }
}
