// Market-data endpoints (no signature): ping, time, exchangeInfo, depth, trades, aggTrades,
// klines, ticker/24hr, ticker/price, ticker/bookTicker, premiumIndex, fundingRate.
import type { Router as ExpressRouter } from "express";
import type { Router as EventRouter } from "../streams/router";
import type { MarketData } from "../streams/market";
import { route, type HttpContext } from "./http";
import type { Params } from "./params";
import { E } from "../errors";
import * as P from "../streams/payloads";
import { KLINE_INTERVALS } from "../streams/names";
import { loadKlines } from "../streams/klines";
import { fmtPrice, fmtQty, fmtQuote } from "../streams/format";
import type { GatewayConfig } from "../config";
import { ORDER_TYPES, TIME_IN_FORCES } from "../../engine/types";

const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000];

function depthWeight(p: Params): number {
  const l = Number(p.optStr("limit") ?? 500);
  return l <= 50 ? 2 : l <= 100 ? 5 : l <= 500 ? 10 : 20;
}

function klineWeight(p: Params): number {
  const l = Number(p.optStr("limit") ?? 500);
  return l < 100 ? 1 : l < 500 ? 2 : l <= 1000 ? 5 : 10;
}

export function mountMarket(r: ExpressRouter, ctx: HttpContext, ev: EventRouter, cfg: GatewayConfig): void {
  const sym = (p: Params): MarketData => {
    const s = p.str("symbol");
    const md = ev.bySymbol.get(s.toUpperCase());
    if (!md) throw E.badSymbol();
    return md;
  };
  const optSym = (p: Params): MarketData[] => (p.has("symbol") ? [sym(p)] : [...ev.markets.values()]);
  const one = <T>(p: Params, list: T[]): T | T[] => (p.has("symbol") ? list[0] : list);

  r.get(
    "/ping",
    route(ctx, "ping", 1, () => ({})),
  );
  r.get(
    "/time",
    route(ctx, "time", 1, () => ({ serverTime: ctx.now() })),
  );

  r.get(
    "/exchangeInfo",
    route(ctx, "exchangeInfo", 1, () => ({
      timezone: "UTC",
      serverTime: ctx.now(),
      futuresType: "U_MARGINED",
      rateLimits: [
        { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: cfg.weightPerMinute },
        { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: cfg.ordersPerMinute },
      ],
      exchangeFilters: [],
      assets: [{ asset: "USDT", marginAvailable: true, autoAssetExchange: "0" }],
      symbols: [...ev.markets.values()].map((md) => {
        const s = md.spec;
        return {
          symbol: s.symbol,
          pair: s.symbol,
          contractType: "PERPETUAL",
          deliveryDate: 4133404800000,
          onboardDate: 0,
          status: md.status === "TRADING" ? "TRADING" : "HALT",
          baseAsset: s.baseAsset,
          quoteAsset: s.quoteAsset,
          marginAsset: s.quoteAsset,
          pricePrecision: s.pricePrecision,
          quantityPrecision: s.quantityPrecision,
          baseAssetPrecision: 8,
          quotePrecision: 8,
          underlyingType: "COIN",
          settlePlan: 0,
          triggerProtect: "0.0500",
          marketId: s.id,
          maintMarginPercent: fmtQuote(s.mmfPpm * 100, 4),
          requiredMarginPercent: fmtQuote(s.imfPpm * 100, 4),
          filters: [
            {
              filterType: "PRICE_FILTER",
              minPrice: fmtPrice(s.tickSize, s.pricePrecision),
              maxPrice: "10000000",
              tickSize: fmtPrice(s.tickSize, s.pricePrecision),
            },
            {
              filterType: "LOT_SIZE",
              minQty: fmtQty(s.minQty, s.quantityPrecision),
              maxQty: fmtQty(s.maxQty, s.quantityPrecision),
              stepSize: fmtQty(s.stepSize, s.quantityPrecision),
            },
            {
              filterType: "MARKET_LOT_SIZE",
              minQty: fmtQty(s.minQty, s.quantityPrecision),
              maxQty: fmtQty(s.maxQty, s.quantityPrecision),
              stepSize: fmtQty(s.stepSize, s.quantityPrecision),
            },
            { filterType: "MIN_NOTIONAL", notional: fmtQuote(s.minNotional, 2) },
          ],
          orderTypes: [...ORDER_TYPES],
          timeInForce: [...TIME_IN_FORCES],
        };
      }),
    })),
  );

  r.get(
    "/depth",
    route(ctx, "depth", depthWeight, (req) => {
      const p = req.parsed!.params;
      const md = sym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 500;
      if (!DEPTH_LIMITS.includes(limit)) throw E.invalidParam("limit", `one of ${DEPTH_LIMITS.join(", ")}`);
      const d = md.depth(limit);
      const { pricePrecision: pd, quantityPrecision: qd } = md.spec;
      const now = ctx.now();
      return {
        lastUpdateId: md.lastUpdateId,
        E: now,
        T: now,
        bids: d.bids.map(([pr, q]) => [fmtPrice(pr, pd), fmtQty(q, qd)]),
        asks: d.asks.map(([pr, q]) => [fmtPrice(pr, pd), fmtQty(q, qd)]),
      };
    }),
  );

  r.get(
    "/trades",
    route(ctx, "trades", 5, (req) => {
      const p = req.parsed!.params;
      const md = sym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 500;
      const { pricePrecision: pd, quantityPrecision: qd } = md.spec;
      return md.trades.slice(-limit).map((t) => ({
        id: t.id,
        price: fmtPrice(t.price, pd),
        qty: fmtQty(t.qty, qd),
        quoteQty: fmtQuote(t.quote),
        time: t.time,
        isBuyerMaker: t.buyerMaker,
      }));
    }),
  );

  r.get(
    "/aggTrades",
    route(ctx, "aggTrades", 20, (req) => {
      const p = req.parsed!.params;
      const md = sym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 500;
      const fromId = p.optInt("fromId");
      const start = p.optInt("startTime");
      const end = p.optInt("endTime");
      if (start !== undefined && end !== undefined && start > end) throw E.startAfterEnd();
      let list = md.trades;
      if (fromId !== undefined) list = list.filter((t) => t.id >= fromId);
      if (start !== undefined) list = list.filter((t) => t.time >= start);
      if (end !== undefined) list = list.filter((t) => t.time <= end);
      list = fromId !== undefined || start !== undefined ? list.slice(0, limit) : list.slice(-limit);
      return list.map((t) => {
        const a = P.aggTrade(md, t);
        return { a: a.a, p: a.p, q: a.q, f: a.f, l: a.l, T: a.T, m: a.m };
      });
    }),
  );

  r.get(
    "/klines",
    route(ctx, "klines", klineWeight, (req) => {
      const p = req.parsed!.params;
      const md = sym(p);
      const iv = p.str("interval");
      if (!KLINE_INTERVALS[iv]) throw E.badInterval();
      const limit = p.optInt("limit", 1, 1500) ?? 500;
      const start = p.optInt("startTime");
      const end = p.optInt("endTime");
      if (start !== undefined && end !== undefined && start > end) throw E.startAfterEnd();
      if (ev.klineStore) {
        // durable: candles of settled trades from the keeper's store
        return loadKlines(ev.klineStore, md.spec.id, iv, { startTime: start, endTime: end, limit }).then((list) =>
          list.map((k) => P.klineRow(md, k)),
        );
      }
      let list = md.klines.get(iv)!;
      if (start !== undefined) list = list.filter((k) => k.t >= start);
      if (end !== undefined) list = list.filter((k) => k.t <= end);
      list = start !== undefined ? list.slice(0, limit) : list.slice(-limit);
      return list.map((k) => P.klineRow(md, k));
    }),
  );

  r.get(
    "/ticker/24hr",
    route(
      ctx,
      "ticker24hr",
      (p) => (p.has("symbol") ? 1 : 40),
      (req) => {
        const p = req.parsed!.params;
        const now = ctx.now();
        return one(
          p,
          optSym(p).map((md) => {
            const t = P.ticker24(md, now);
            return {
              symbol: t.s,
              priceChange: t.p,
              priceChangePercent: t.P,
              weightedAvgPrice: t.w,
              lastPrice: t.c,
              lastQty: t.Q,
              openPrice: t.o,
              highPrice: t.h,
              lowPrice: t.l,
              volume: t.v,
              quoteVolume: t.q,
              openTime: t.O,
              closeTime: t.C,
              firstId: t.F,
              lastId: t.L,
              count: t.n,
            };
          }),
        );
      },
    ),
  );

  r.get(
    "/ticker/price",
    route(
      ctx,
      "tickerPrice",
      (p) => (p.has("symbol") ? 1 : 2),
      (req) => {
        const p = req.parsed!.params;
        return one(
          p,
          optSym(p).map((md) => ({
            symbol: md.spec.symbol,
            price: fmtPrice(md.trades[md.trades.length - 1]?.price ?? 0, md.spec.pricePrecision),
            time: md.lastTradeTime,
          })),
        );
      },
    ),
  );

  r.get(
    "/ticker/bookTicker",
    route(
      ctx,
      "bookTicker",
      (p) => (p.has("symbol") ? 2 : 5),
      (req) => {
        const p = req.parsed!.params;
        return one(
          p,
          optSym(p).map((md) => {
            const b = P.bookTicker(md, ctx.now());
            return {
              symbol: b.s,
              bidPrice: b.b,
              bidQty: b.B,
              askPrice: b.a,
              askQty: b.A,
              time: b.T,
              lastUpdateId: b.u,
            };
          }),
        );
      },
    ),
  );

  r.get(
    "/premiumIndex",
    route(ctx, "premiumIndex", 1, (req) => {
      const p = req.parsed!.params;
      const now = ctx.now();
      return one(
        p,
        optSym(p).map((md) => ({
          symbol: md.spec.symbol,
          markPrice: fmtPrice(md.mark, 6),
          indexPrice: fmtPrice(md.mark, 6),
          estimatedSettlePrice: fmtPrice(md.mark, 6),
          lastFundingRate: P.fmtRate(md.fundingRatePpm),
          interestRate: "0.00000000",
          nextFundingTime: md.nextFundingTime,
          time: now,
        })),
      );
    }),
  );

  r.get(
    "/fundingRate",
    route(ctx, "fundingRate", 1, (req) => {
      const p = req.parsed!.params;
      const list = optSym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 100;
      return list
        .filter((md) => md.markTime > 0)
        .slice(0, limit)
        .map((md) => ({
          symbol: md.spec.symbol,
          fundingRate: P.fmtRate(md.fundingRatePpm),
          fundingTime: md.markTime,
          markPrice: fmtPrice(md.mark, 6),
        }));
    }),
  );
}
