// Durable klines: candles of SETTLED trades kept by the keeper in Postgres (keeper/listener/candles.ts),
// instead of the in-memory klines built from the engine's trades (streams/market.ts, the fallback when
// no store is attached). The store holds 1m, 5m, 15m, 1h, 4h and 1d; every other fapi interval is
// aggregated from the largest stored interval that divides it (3m from 1m, 30m from 15m, 2h/6h from 1h,
// 8h/12h from 4h, 3d/1w from 1d).
//
// - REST /klines reads the store (so history survives a gateway restart and is not capped by memory).
// - Streams (@kline_<iv>): the router keeps the last few candles per stored interval, seeded from the
//   store at start and updated from the keeper's candle messages (newest `version` wins, so a message
//   older than the seed is ignored); a derived interval's candle is re-aggregated from them.
import type { Kline } from "./market";
import { KLINE_INTERVALS } from "./names";

/** A stored candle as the gateway uses it (numbers in the engine's units). */
export interface StoredKline extends Kline {
  version: number;
}

export interface KlineStore {
  /** Stored candles, oldest first: with startTime the first `limit` from it, else the latest `limit`. */
  load(
    market: number,
    interval: string,
    opts: { startTime?: number; endTime?: number; limit: number },
  ): Promise<StoredKline[]>;
  /** The newest `perInterval` candles of every stored interval of every market (seed). */
  recent(perInterval: number): Promise<{ market: number; interval: string; kline: StoredKline }[]>;
}

export const STORED_INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d"] as const;

/** The stored interval a fapi interval is read from (itself when stored). */
export function baseInterval(iv: string): string {
  const ms = KLINE_INTERVALS[iv];
  let best = "1m";
  for (const s of STORED_INTERVALS) if (ms % KLINE_INTERVALS[s] === 0) best = s;
  return best;
}

const floorTo = (t: number, ms: number) => t - (((t % ms) + ms) % ms);

/** Aggregates base candles (oldest first) into `iv` candles (oldest first). */
export function aggregateKlines(base: readonly Kline[], iv: string): Kline[] {
  const ms = KLINE_INTERVALS[iv];
  const out: Kline[] = [];
  for (const b of base) {
    const t = floorTo(b.t, ms);
    let k = out[out.length - 1];
    if (!k || k.t !== t) {
      k = { ...b, t, T: t + ms - 1 };
      out.push(k);
      continue;
    }
    if (b.h > k.h) k.h = b.h;
    if (b.l < k.l) k.l = b.l;
    k.c = b.c;
    k.v += b.v;
    k.q += b.q;
    k.n += b.n;
    k.V += b.V;
    k.Q += b.Q;
    k.L = b.L;
  }
  return out;
}

/** REST klines from the store, any fapi interval. */
export async function loadKlines(
  store: KlineStore,
  market: number,
  iv: string,
  opts: { startTime?: number; endTime?: number; limit: number },
): Promise<Kline[]> {
  const base = baseInterval(iv);
  if (base === iv) return store.load(market, iv, opts);
  const ms = KLINE_INTERVALS[iv];
  const ratio = ms / KLINE_INTERVALS[base];
  const start = opts.startTime === undefined ? undefined : floorTo(opts.startTime + ms - 1, ms);
  const end = opts.endTime === undefined ? undefined : floorTo(opts.endTime, ms) + ms - 1;
  const rows = await store.load(market, base, { startTime: start, endTime: end, limit: (opts.limit + 1) * ratio });
  let list = aggregateKlines(rows, iv);
  // without a start, the oldest derived candle may miss base candles before the loaded window
  if (start === undefined && rows.length >= (opts.limit + 1) * ratio) list = list.slice(1);
  if (opts.endTime !== undefined) list = list.filter((k) => k.t <= opts.endTime!);
  return start !== undefined ? list.slice(0, opts.limit) : list.slice(-opts.limit);
}

const KEEP = 16; // >= the largest ratio of a derived interval to its base (1w / 1d = 7)

/** The recent stored candles of one market, for the kline streams. */
export class RecentKlines {
  private readonly byIv = new Map<string, StoredKline[]>();

  /** Applies a candle (newer version wins); returns false when it was stale. */
  apply(iv: string, k: StoredKline): boolean {
    let list = this.byIv.get(iv);
    if (!list) this.byIv.set(iv, (list = []));
    const i = list.findIndex((x) => x.t === k.t);
    if (i >= 0) {
      if (list[i].version >= k.version) return false;
      list[i] = k;
      return true;
    }
    list.push(k);
    list.sort((a, b) => a.t - b.t);
    if (list.length > KEEP) list.splice(0, list.length - KEEP);
    return true;
  }

  /** A candle removed by a reorg. */
  remove(iv: string, t: number, version: number): boolean {
    const list = this.byIv.get(iv);
    const i = list?.findIndex((x) => x.t === t) ?? -1;
    if (!list || i < 0 || list[i].version >= version) return false;
    list.splice(i, 1);
    return true;
  }

  /** The candle of `iv` (stored or derived) that contains time `t`, if any trade is in it. */
  candleAt(iv: string, t: number): Kline | undefined {
    const base = baseInterval(iv);
    const list = this.byIv.get(base) ?? [];
    if (base === iv) return list.find((k) => k.t === floorTo(t, KLINE_INTERVALS[iv]));
    const from = floorTo(t, KLINE_INTERVALS[iv]);
    const parts = list.filter((k) => k.t >= from && k.t < from + KLINE_INTERVALS[iv]);
    return parts.length ? aggregateKlines(parts, iv)[0] : undefined;
  }
}
