// What the gateway needs from the venue (the matching engine, in this process or behind
// Redis): market specs, command submission with one ack each, and the ordered event stream.
// Engine types come from the engine's public type module.
import type { Ack, Command, EngineEvent } from "../../engine/types";

export type { Ack, Command, EngineEvent };

/**
 * Not an engine event: the venue's notice that a trade settled on chain (the engine drops
 * the pending trade silently when settlement succeeds; failures are AccountEvents).
 */
export interface SettledNotice {
  kind: "settled";
  market: number;
  seq: number;
  ts: number;
  tradeId: number;
  accounts: [string, string];
}

export type VenueEvent = EngineEvent | SettledNotice;

export interface MarketSpec {
  id: number;
  /** e.g. BTCUSDT */
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Price units (1e-6 quote per whole base). */
  tickSize: number;
  /** Size units (1e-8 base). */
  stepSize: number;
  minQty: number;
  maxQty: number;
  /** Quote units. */
  minNotional: number;
  /** Digits shown for prices and quantities (derived from tick and step). */
  pricePrecision: number;
  quantityPrecision: number;
  /** Margin fractions, ppm. */
  imfPpm: number;
  mmfPpm: number;
  /** Maker / taker fee rates, ppm (maker may be negative). */
  makerFeePpm: number;
  takerFeePpm: number;
}

export interface BookSnapshot {
  market: number;
  /** u of the last depth event included. */
  lastUpdateId: number;
  bids: [number, number][];
  asks: [number, number][];
  /** Mark price (price units) and trading status at the snapshot. */
  mark?: number;
  status?: "TRADING" | "HALT";
}

export interface Venue {
  /** True when the engine runs elsewhere (venue/remote.ts): this gateway does not serve followers. */
  readonly remote?: boolean;
  markets(): MarketSpec[];
  /** Submit one command; resolves with its acknowledgement (after it is journaled). */
  submit(cmd: Command): Promise<Ack>;
  /** Ordered batches of events, delivered before the ack of the command that caused them. */
  onEvents(fn: (events: readonly VenueEvent[]) => void): void;
  /** The engine's own book (truth, for snapshots on start and for tests). */
  book(market: number): BookSnapshot;
  close(): Promise<void>;
}
