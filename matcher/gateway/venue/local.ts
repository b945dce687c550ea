// The engine in this process: commands run synchronously on this (the engine's) thread;
// the events of each command are handed to the gateway before its ack resolves. The
// JournaledEngine (durable) plugs in through the same `process`/`events` surface.
import { Engine, type MarketConfig } from "../../index";
import type { Ack, BookSnapshot, Command, MarketSpec, SettledNotice, Venue, VenueEvent } from "./types";
import { digitsOf } from "../streams/format";
import { PRICE_DECIMALS, SIZE_DECIMALS } from "../../../sdk/units";

export function specOf(cfg: MarketConfig): MarketSpec {
  const quote = /USDT$/.test(cfg.symbol) ? "USDT" : /USDC$/.test(cfg.symbol) ? "USDC" : "USD";
  return {
    id: cfg.id,
    symbol: cfg.symbol,
    baseAsset: cfg.symbol.slice(0, cfg.symbol.length - quote.length),
    quoteAsset: quote,
    tickSize: cfg.tickSize,
    stepSize: cfg.lotSize,
    minQty: cfg.lotSize,
    maxQty: cfg.maxOrderQty,
    minNotional: cfg.minNotional,
    pricePrecision: digitsOf(cfg.tickSize, PRICE_DECIMALS),
    quantityPrecision: digitsOf(cfg.lotSize, SIZE_DECIMALS),
    imfPpm: cfg.imfPpm,
    mmfPpm: cfg.mmfPpm,
    makerFeePpm: cfg.makerFeePpm,
    takerFeePpm: cfg.takerFeePpm,
  };
}

export class LocalVenue implements Venue {
  readonly engine: Engine;
  private readonly listeners: ((e: readonly VenueEvent[]) => void)[] = [];
  private readonly specs: MarketSpec[];

  constructor(markets: MarketConfig[], engine?: Engine) {
    this.engine = engine ?? new Engine({ markets });
    this.specs = markets.map(specOf);
  }

  markets(): MarketSpec[] {
    return this.specs;
  }

  /** Synchronous core of submit (the engine never waits on I/O). */
  process(cmd: Command): Ack {
    const settling = settlingTrade(this.engine, cmd);
    const ack = this.engine.process(cmd);
    const events: VenueEvent[] = this.engine.events;
    if (settling && ack.ok && cmd.type === "settlement" && cmd.ok) events.push(settling);
    if (events.length > 0) {
      this.engine.events = [];
      for (const l of this.listeners) l(events);
    }
    return ack;
  }

  async submit(cmd: Command): Promise<Ack> {
    return this.process(cmd);
  }

  onEvents(fn: (events: readonly VenueEvent[]) => void): void {
    this.listeners.push(fn);
  }

  book(market: number): BookSnapshot {
    const d = this.engine.depth(market, 1_000_000);
    const st = this.engine.marketState(market);
    return {
      market,
      lastUpdateId: d.lastUpdateId,
      bids: d.bids,
      asks: d.asks,
      mark: st.mark,
      status: st.status === "HALT" ? "HALT" : "TRADING",
    };
  }

  async close(): Promise<void> {}
}

/** The notice to send if `cmd` settles a pending trade successfully. */
export function settlingTrade(engine: Engine, cmd: Command): SettledNotice | undefined {
  if (cmd.type !== "settlement" || !cmd.ok) return undefined;
  const t = engine.pendingTrades.get(cmd.tradeId);
  if (!t) return undefined;
  return {
    kind: "settled",
    market: t.market,
    seq: engine.marketState(t.market).seq,
    ts: cmd.ts,
    tradeId: t.tradeId,
    accounts: [t.makerAccount, t.takerAccount],
  };
}

/** A small default market set for the embedded stack, tests and the bench. */
export function defaultMarkets(): MarketConfig[] {
  const base = {
    minNotional: 5_000_000,
    maxOpenOrders: 100_000,
    maxConditionalOrders: 200,
    priceBandPpm: 500_000,
    marketSlippagePpm: 50_000,
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: 200,
    takerFeePpm: 500,
  };
  return [
    { ...base, id: 1, symbol: "BTCUSDT", tickSize: 100_000, lotSize: 100_000, maxOrderQty: 100_000_000_000 },
    { ...base, id: 2, symbol: "ETHUSDT", tickSize: 10_000, lotSize: 1_000_000, maxOrderQty: 1_000_000_000_000 },
  ];
}
