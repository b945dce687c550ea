// Candles (1m, 5m, 15m, 1h, 4h, 1d) from settled fills, in Postgres (table `candles`, migration 004).
//
// - Time: the fill's block timestamp (ms). A fill is in the candle whose open time is the block time
//   rounded down to the interval (intervals divide a day, so buckets align on UTC midnight).
// - Order: first/last fill by chain position (block_number * 2^20 + log_index), so open and close are
//   right whatever order the rows arrive in.
// - Upsert per block: the listener aggregates a block's (or a backfill range's) NEW fills per bucket
//   in memory, then merges them into the stored rows with one INSERT .. ON CONFLICT per statement
//   (open/close by chain position, high/low by max/min, sums added). Only fills actually inserted now
//   are merged, so the same block twice changes nothing.
// - Reorg: the rollback deletes the fills above the common ancestor, then recomputes every bucket they
//   touched: 1m from the remaining fills, each coarser interval from the finer one (5m from 1m, 15m
//   from 5m, 1h from 15m, 4h from 1h, 1d from 4h), so no recompute scans more than a minute of fills.
// - Every write bumps `version` (a sequence); the bus message carries it, so a reader that seeds from
//   the table and follows the channel keeps the newest state of each candle.
import type { Queryable } from "../db";

export const CANDLE_INTERVALS: Readonly<Record<string, number>> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "4h": 14_400_000,
  "1d": 86_400_000,
};
/** Finest first; each divides the next. */
export const CANDLE_LEVELS = ["1m", "5m", "15m", "1h", "4h", "1d"] as const;

const KEY_SHIFT = 1n << 20n;
/** Chain position of a log, for ordering fills: block * 2^20 + logIndex. */
export const fillKey = (blockNumber: bigint, logIndex: number): bigint => blockNumber * KEY_SHIFT + BigInt(logIndex);

/** One settled fill, as the candles need it. */
export interface CandleFill {
  market: number;
  price: bigint;
  size: bigint;
  takerIsBuy: boolean;
  key: bigint;
  /** Block time, ms. */
  time: number;
  tradeId: number | null;
}

/** A candle in the store and on the bus (integers as decimal strings, as the store returns them). */
export interface Candle {
  market: number;
  interval: string;
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote: string;
  trades: number;
  takerBuyVolume: string;
  takerBuyQuote: string;
  firstTrade: number | null;
  lastTrade: number | null;
  version: string;
}

/** What the listener publishes on topics.CANDLES: a candle's new state, or its removal by a reorg. */
export type CandleMessage = ({ type: "candle" } & Candle) | ({ type: "candleRemoved"; version: string } & CandleId);

export interface CandleId {
  market: number;
  interval: string;
  openTime: number;
}

interface Part {
  market: number;
  interval: string;
  openTime: number;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: bigint;
  quote: bigint;
  trades: number;
  takerBuyVolume: bigint;
  takerBuyQuote: bigint;
  firstKey: bigint;
  lastKey: bigint;
  firstTrade: number | null;
  lastTrade: number | null;
}

const bucket = (t: number, ms: number) => t - (((t % ms) + ms) % ms);

function fromFill(f: CandleFill, interval: string): Part {
  const quote = (f.size * f.price) / 100_000_000n;
  return {
    market: f.market,
    interval,
    openTime: bucket(f.time, CANDLE_INTERVALS[interval]),
    open: f.price,
    high: f.price,
    low: f.price,
    close: f.price,
    volume: f.size,
    quote,
    trades: 1,
    takerBuyVolume: f.takerIsBuy ? f.size : 0n,
    takerBuyQuote: f.takerIsBuy ? quote : 0n,
    firstKey: f.key,
    lastKey: f.key,
    firstTrade: f.tradeId,
    lastTrade: f.tradeId,
  };
}

/** Merges `b` into `a` (same bucket). */
function merge(a: Part, b: Part): void {
  if (b.firstKey < a.firstKey) {
    a.open = b.open;
    a.firstKey = b.firstKey;
    a.firstTrade = b.firstTrade;
  }
  if (b.lastKey > a.lastKey) {
    a.close = b.close;
    a.lastKey = b.lastKey;
    a.lastTrade = b.lastTrade;
  }
  if (b.high > a.high) a.high = b.high;
  if (b.low < a.low) a.low = b.low;
  a.volume += b.volume;
  a.quote += b.quote;
  a.trades += b.trades;
  a.takerBuyVolume += b.takerBuyVolume;
  a.takerBuyQuote += b.takerBuyQuote;
}

/** The fills aggregated per (interval, market, bucket), every interval. */
export function aggregate(fills: readonly CandleFill[], levels: readonly string[] = CANDLE_LEVELS): Part[] {
  const out = new Map<string, Part>();
  for (const f of fills) {
    for (const iv of levels) {
      const p = fromFill(f, iv);
      const k = `${iv}:${p.market}:${p.openTime}`;
      const have = out.get(k);
      if (have) merge(have, p);
      else out.set(k, p);
    }
  }
  return [...out.values()];
}

const COLS = [
  "market",
  "interval",
  "open_time",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quote",
  "trades",
  "taker_buy_volume",
  "taker_buy_quote",
  "first_key",
  "last_key",
  "first_trade",
  "last_trade",
];

const partValues = (p: Part): unknown[] => [
  p.market,
  p.interval,
  p.openTime,
  p.open.toString(),
  p.high.toString(),
  p.low.toString(),
  p.close.toString(),
  p.volume.toString(),
  p.quote.toString(),
  p.trades,
  p.takerBuyVolume.toString(),
  p.takerBuyQuote.toString(),
  p.firstKey.toString(),
  p.lastKey.toString(),
  p.firstTrade,
  p.lastTrade,
];

interface Row {
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
  first_key: string;
  last_key: string;
  first_trade: string | null;
  last_trade: string | null;
  version: string;
}

const optNum = (v: string | null) => (v === null || v === undefined ? null : Number(v));

export function rowToCandle(r: Row): Candle {
  return {
    market: Number(r.market),
    interval: r.interval,
    openTime: Number(r.open_time),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    quote: r.quote,
    trades: Number(r.trades),
    takerBuyVolume: r.taker_buy_volume,
    takerBuyQuote: r.taker_buy_quote,
    firstTrade: optNum(r.first_trade),
    lastTrade: optNum(r.last_trade),
    version: String(r.version),
  };
}

const rowToPart = (r: Row): Part => ({
  market: Number(r.market),
  interval: r.interval,
  openTime: Number(r.open_time),
  open: BigInt(r.open),
  high: BigInt(r.high),
  low: BigInt(r.low),
  close: BigInt(r.close),
  volume: BigInt(r.volume),
  quote: BigInt(r.quote),
  trades: Number(r.trades),
  takerBuyVolume: BigInt(r.taker_buy_volume),
  takerBuyQuote: BigInt(r.taker_buy_quote),
  firstKey: BigInt(r.first_key),
  lastKey: BigInt(r.last_key),
  firstTrade: optNum(r.first_trade),
  lastTrade: optNum(r.last_trade),
});

/** Merges new fills into the stored candles; returns the candles' new states. */
export async function upsertCandles(q: Queryable, fills: readonly CandleFill[]): Promise<Candle[]> {
  if (fills.length === 0) return [];
  const parts = aggregate(fills);
  const out: Candle[] = [];
  const per = Math.floor(60_000 / COLS.length);
  for (let i = 0; i < parts.length; i += per) {
    const chunk = parts.slice(i, i + per);
    const params: unknown[] = [];
    const rows = chunk.map((p) => {
      const base = params.length;
      params.push(...partValues(p));
      return `(${COLS.map((_c, k) => `$${base + k + 1}`).join(", ")})`;
    });
    const r = await q.query<Row>(
      `INSERT INTO candles (${COLS.join(", ")}) VALUES ${rows.join(", ")}
       ON CONFLICT (market, interval, open_time) DO UPDATE SET
         open = CASE WHEN EXCLUDED.first_key < candles.first_key THEN EXCLUDED.open ELSE candles.open END,
         first_trade = CASE WHEN EXCLUDED.first_key < candles.first_key THEN EXCLUDED.first_trade ELSE candles.first_trade END,
         first_key = LEAST(candles.first_key, EXCLUDED.first_key),
         close = CASE WHEN EXCLUDED.last_key > candles.last_key THEN EXCLUDED.close ELSE candles.close END,
         last_trade = CASE WHEN EXCLUDED.last_key > candles.last_key THEN EXCLUDED.last_trade ELSE candles.last_trade END,
         last_key = GREATEST(candles.last_key, EXCLUDED.last_key),
         high = GREATEST(candles.high, EXCLUDED.high),
         low = LEAST(candles.low, EXCLUDED.low),
         volume = candles.volume + EXCLUDED.volume,
         quote = candles.quote + EXCLUDED.quote,
         trades = candles.trades + EXCLUDED.trades,
         taker_buy_volume = candles.taker_buy_volume + EXCLUDED.taker_buy_volume,
         taker_buy_quote = candles.taker_buy_quote + EXCLUDED.taker_buy_quote,
         version = nextval('candle_version')
       RETURNING *`,
      params,
    );
    for (const row of r.rows) out.push(rowToCandle(row));
  }
  return out;
}

/**
 * After a rollback deleted fills: recomputes every bucket they touched (at every interval) from what
 * remains; returns the messages (new states and removals), finest interval first.
 */
export async function rebuildCandles(
  q: Queryable,
  removed: readonly { market: number; time: number }[],
): Promise<CandleMessage[]> {
  const msgs: CandleMessage[] = [];
  if (removed.length === 0) return msgs;
  let prev: string | undefined;
  for (const iv of CANDLE_LEVELS) {
    const ms = CANDLE_INTERVALS[iv];
    const buckets = new Map<string, CandleId>();
    for (const r of removed) {
      const openTime = bucket(r.time, ms);
      buckets.set(`${r.market}:${openTime}`, { market: r.market, interval: iv, openTime });
    }
    for (const b of buckets.values()) {
      let part: Part | undefined;
      if (prev === undefined) {
        const fills = await q.query<{
          block_number: string;
          log_index: number;
          price: string;
          size: string;
          taker_is_buy: boolean;
          block_time: string;
          trade_id: string | null;
        }>(
          `SELECT block_number, log_index, price, size, taker_is_buy, block_time, trade_id FROM ev_fills
           WHERE market = $1 AND block_time >= $2 AND block_time < $3`,
          [b.market, b.openTime, b.openTime + ms],
        );
        for (const f of fills.rows) {
          const p = fromFill(
            {
              market: b.market,
              price: BigInt(f.price),
              size: BigInt(f.size),
              takerIsBuy: f.taker_is_buy,
              key: fillKey(BigInt(f.block_number), Number(f.log_index)),
              time: Number(f.block_time),
              tradeId: optNum(f.trade_id),
            },
            iv,
          );
          if (part) merge(part, p);
          else part = p;
        }
      } else {
        const finer = await q.query<Row>(
          "SELECT * FROM candles WHERE market = $1 AND interval = $2 AND open_time >= $3 AND open_time < $4",
          [b.market, prev, b.openTime, b.openTime + ms],
        );
        for (const row of finer.rows) {
          const p = { ...rowToPart(row), interval: iv, openTime: b.openTime };
          if (part) merge(part, p);
          else part = p;
        }
      }
      await q.query("DELETE FROM candles WHERE market = $1 AND interval = $2 AND open_time = $3", [
        b.market,
        iv,
        b.openTime,
      ]);
      if (part) {
        const r = await q.query<Row>(
          `INSERT INTO candles (${COLS.join(", ")}) VALUES (${COLS.map((_c, k) => `$${k + 1}`).join(", ")}) RETURNING *`,
          partValues(part),
        );
        msgs.push({ type: "candle", ...rowToCandle(r.rows[0]) });
      } else {
        const v = await q.query<{ v: string }>("SELECT nextval('candle_version') AS v");
        msgs.push({ type: "candleRemoved", ...b, version: String(v.rows[0].v) });
      }
    }
    prev = iv;
  }
  return msgs;
}

/** Stored candles of one market and interval, oldest first (the gateway's klines). */
export async function loadCandles(
  q: Queryable,
  market: number,
  interval: string,
  opts: { startTime?: number; endTime?: number; limit?: number } = {},
): Promise<Candle[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 500, 20_000));
  const params: unknown[] = [market, interval];
  let where = "market = $1 AND interval = $2";
  if (opts.startTime !== undefined) {
    params.push(opts.startTime);
    where += ` AND open_time >= $${params.length}`;
  }
  if (opts.endTime !== undefined) {
    params.push(opts.endTime);
    where += ` AND open_time <= $${params.length}`;
  }
  params.push(limit);
  // from startTime: the first `limit` after it; otherwise the latest `limit`
  const sql =
    opts.startTime !== undefined
      ? `SELECT * FROM candles WHERE ${where} ORDER BY open_time LIMIT $${params.length}`
      : `SELECT * FROM (SELECT * FROM candles WHERE ${where} ORDER BY open_time DESC LIMIT $${params.length}) x ORDER BY open_time`;
  const r = await q.query<Row>(sql, params);
  return r.rows.map(rowToCandle);
}

/** The newest candle of each (market, interval) (the gateway's seed for its streams). */
export async function latestCandles(q: Queryable): Promise<Candle[]> {
  const r = await q.query<Row>(
    "SELECT DISTINCT ON (market, interval) * FROM candles ORDER BY market, interval, open_time DESC",
  );
  return r.rows.map(rowToCandle);
}
