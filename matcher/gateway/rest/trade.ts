// Signed endpoints: orders (place, batch, cancel, cancel all, query, open, all, countdown)
// and account (balance, account, positionRisk, userTrades, income, leverage, listenKey).
// Each request is authenticated (auth/authenticator.ts) before it can change anything.
import type { Router as ExpressRouter, RequestHandler, Response } from "express";
import type { Router as EventRouter } from "../streams/router";
import type { MarketData } from "../streams/market";
import { route, type GwRequest, type HttpContext } from "./http";
import { Params } from "./params";
import { ApiError, E } from "../errors";
import type { Authenticator, AuthContext } from "../auth/authenticator";
import type { OrderVerifier } from "../auth/order";
import type { Venue } from "../venue/types";
import type { ListenKeyStore } from "../streams/listenKeys";
import { orderJson, positionJson } from "../streams/accounts";
import { fmtQuote, fmtQty, fmtPrice } from "../streams/format";
import { BINANCE_CODE, ORDER_TYPES, SIDES, TIME_IN_FORCES, type PlaceCmd, type ReasonCode } from "../../engine/types";
import type { RateLimiter } from "../ratelimit/types";
import { PRICE_DECIMALS, SIZE_DECIMALS } from "../../../sdk/units";

export interface TradeDeps {
  auth: Authenticator;
  orders: OrderVerifier;
  venue: Venue;
  router: EventRouter;
  limiter: RateLimiter;
  listenKeys: ListenKeyStore;
  onOrder?: (ok: boolean) => void;
}

const MAX_BATCH = 5;

function rejectError(reason: ReasonCode): ApiError {
  const code = BINANCE_CODE[reason] ?? -1000;
  return E.rejected(code, `Order rejected: ${reason}.`);
}

/** The handlers the gateway also serves outside express (its lean hot path). */
export interface TradeHandlers {
  /** POST order */
  order: RequestHandler;
}

export function mountTrade(r: ExpressRouter, ctx: HttpContext, d: TradeDeps): TradeHandlers {
  const authed = async (req: GwRequest): Promise<AuthContext> => {
    const pr = req.parsed!;
    return d.auth.authenticate(pr.params, pr.signedPayload, pr.signature);
  };
  const sym = (p: Params): MarketData => {
    const md = d.router.bySymbol.get(p.str("symbol").toUpperCase());
    if (!md) throw E.badSymbol();
    return md;
  };
  const optSym = (p: Params): MarketData | undefined => (p.has("symbol") ? sym(p) : undefined);

  /** Validate one order's parameters and its EIP-712 signature; returns the engine command. */
  async function buildPlace(p: Params, user: string): Promise<PlaceCmd> {
    const md = sym(p);
    const side = p.enumOf("side", SIDES, E.badSide);
    const type = p.enumOf("type", ORDER_TYPES, E.badType);
    const tif = p.optEnum("timeInForce", TIME_IN_FORCES, E.badTif);
    const reduceOnly = p.bool("reduceOnly", false);
    const closePosition = p.bool("closePosition", false);
    const qty = p.decimal("quantity", SIZE_DECIMALS);
    const price = p.decimal("price", PRICE_DECIMALS);
    const stopPrice = p.optDecimal("stopPrice", PRICE_DECIMALS);
    const activationPrice = p.optDecimal("activationPrice", PRICE_DECIMALS);
    const cb = p.optDecimal("callbackRate", 4); // percent: 4 decimal places of a percent are ppm
    const workingType = p.optEnum("workingType", ["MARK_PRICE", "CONTRACT_PRICE"] as const);
    const stp = p.optEnum("selfTradePreventionMode", ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"] as const);
    const clientOrderId = p.optStr("newClientOrderId");
    if (clientOrderId !== undefined && !/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientOrderId)) {
      throw E.invalidParam("newClientOrderId", "1-36 characters of [.A-Z:/a-z0-9_-].");
    }
    if ((type === "LIMIT" || type === "STOP" || type === "TAKE_PROFIT") && tif === undefined && !p.has("timeInForce")) {
      throw E.mandatory("timeInForce");
    }
    if ((type.startsWith("STOP") || type.startsWith("TAKE_PROFIT")) && stopPrice === undefined)
      throw E.mandatory("stopPrice");
    if (type === "TRAILING_STOP_MARKET" && cb === undefined) throw E.mandatory("callbackRate");
    const orderNonce = p.bigint("orderNonce");
    const expiry = p.bigint("expiry");
    const sig = p.str("orderSignature");
    const max64 = (1n << 64n) - 1n;
    if (qty <= 0n || qty > max64) throw E.invalidParam("quantity", "must be positive.");
    if (price <= 0n || price > max64) throw E.invalidParam("price", "must be positive (the signed limit price).");
    if (orderNonce > max64 || expiry > max64) throw E.invalidParam("orderNonce", "must fit in uint64.");
    const n = (v: bigint, name: string): number => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw E.invalidParam(name, "too large.");
      return Number(v);
    };
    const hash = await d.orders.verify(
      {
        account: user as `0x${string}`,
        market: md.spec.id,
        isBuy: side === "BUY",
        reduceOnly: reduceOnly || closePosition,
        price,
        size: qty,
        nonce: orderNonce,
        expiry,
      },
      sig,
      ctx.now(),
    );
    const isMarket = type === "MARKET" || type.endsWith("_MARKET");
    return {
      type: "place",
      ts: ctx.now(),
      account: user,
      market: md.spec.id,
      side,
      orderType: type,
      tif: tif ?? (isMarket ? undefined : "GTC"),
      price: isMarket ? undefined : n(price, "price"),
      limitPrice: isMarket ? n(price, "price") : undefined,
      qty: n(qty, "quantity"),
      stopPrice: stopPrice === undefined ? undefined : n(stopPrice, "stopPrice"),
      workingType,
      reduceOnly,
      closePosition,
      activationPrice: activationPrice === undefined ? undefined : n(activationPrice, "activationPrice"),
      callbackRatePpm: cb === undefined ? undefined : n(cb, "callbackRate"),
      stp,
      clientOrderId,
      hash,
    };
  }

  async function place(cmd: PlaceCmd): Promise<Record<string, unknown>> {
    const ack = await d.venue.submit(cmd);
    d.onOrder?.(ack.ok);
    if (!ack.ok) throw rejectError(ack.reason);
    const md = d.router.markets.get(cmd.market)!;
    const v = d.router.account(cmd.account).orders.get(ack.orderId);
    if (!v)
      return { orderId: ack.orderId, symbol: md.spec.symbol, status: "NEW", clientOrderId: cmd.clientOrderId ?? "" };
    return orderJson(md.spec, v);
  }

  async function orderLimit(user: string, n: number, res: Response): Promise<void> {
    const o = await d.limiter.hitOrders(user, n, ctx.now());
    res.setHeader("X-MBX-ORDER-COUNT-1M", String(o.count));
    if (!o.ok) throw E.tooManyOrders("Too many new orders; current limit is per minute.", o.retryAfterSec);
  }

  /**
   * Both signatures (request and Order) are recovered at once; the request's verdict is
   * reported first, and nothing reaches the engine unless both hold.
   */
  const authedOrder = async (req: GwRequest): Promise<[AuthContext, PlaceCmd]> => {
    const p = req.parsed!.params;
    const user = p.address("user");
    const [a, c] = await Promise.allSettled([authed(req), buildPlace(p, user)]);
    if (a.status === "rejected") throw a.reason;
    if (c.status === "rejected") throw c.reason;
    return [a.value, c.value];
  };
  const orderRoute = async (req: GwRequest, res: Response) => {
    const [a, cmd] = await authedOrder(req);
    await orderLimit(a.user, 1, res);
    return place(cmd);
  };
  const order = route(ctx, "order", 1, orderRoute);
  r.post("/order", order);
  r.post(
    "/order/test",
    route(ctx, "orderTest", 1, async (req) => {
      await authedOrder(req);
      return {};
    }),
  );

  r.post(
    "/batchOrders",
    route(ctx, "batchOrders", 5, async (req, res) => {
      const a = await authed(req);
      let list: unknown;
      try {
        list = JSON.parse(req.parsed!.params.str("batchOrders"));
      } catch {
        throw E.invalidParam("batchOrders", "must be a JSON array of orders.");
      }
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH) {
        throw E.invalidParam("batchOrders", `1 to ${MAX_BATCH} orders.`);
      }
      await orderLimit(a.user, list.length, res);
      const out: unknown[] = [];
      for (const o of list) {
        try {
          if (o === null || typeof o !== "object" || Array.isArray(o))
            throw E.invalidParam("batchOrders", "each order is an object.");
          const m = new Map<string, string>();
          for (const [k, v] of Object.entries(o as Record<string, unknown>)) m.set(k, String(v));
          out.push(await place(await buildPlace(new Params(m), a.user)));
        } catch (err) {
          out.push(err instanceof ApiError ? err.toJSON() : E.unknown().toJSON());
        }
      }
      return out;
    }),
  );

  const findOrder = (p: Params, user: string, md: MarketData) => {
    const acct = d.router.account(user);
    const id = p.optInt("orderId");
    const cid = p.optStr("origClientOrderId");
    if (id === undefined && cid === undefined) throw E.mandatory("orderId");
    if (id !== undefined) {
      const v = acct.orders.get(id);
      return v && v.ev.market === md.spec.id ? v : undefined;
    }
    for (const v of acct.orders.values()) if (v.ev.clientOrderId === cid && v.ev.market === md.spec.id) return v;
    return undefined;
  };

  r.delete(
    "/order",
    route(ctx, "cancel", 1, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const v = findOrder(p, a.user, md);
      const ack = await d.venue.submit({
        type: "cancel",
        ts: ctx.now(),
        account: a.user,
        market: md.spec.id,
        orderId: v?.ev.orderId ?? p.optInt("orderId"),
        clientOrderId: v ? undefined : p.optStr("origClientOrderId"),
      });
      if (!ack.ok) throw E.cancelRejected(`Unknown order sent (${ack.reason}).`);
      const after = v ?? findOrder(p, a.user, md);
      return after ? orderJson(md.spec, after) : {};
    }),
  );

  r.delete(
    "/allOpenOrders",
    route(ctx, "cancelAll", 1, async (req) => {
      const a = await authed(req);
      const md = sym(req.parsed!.params);
      const ack = await d.venue.submit({ type: "cancelAll", ts: ctx.now(), account: a.user, market: md.spec.id });
      if (!ack.ok) throw rejectError(ack.reason);
      return { code: 200, msg: "The operation of cancel all open order is done." };
    }),
  );

  r.post(
    "/countdownCancelAll",
    route(ctx, "countdown", 10, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const t = p.int("countdownTime", 0, 86_400_000);
      const ack = await d.venue.submit({
        type: "countdown",
        ts: ctx.now(),
        account: a.user,
        market: md.spec.id,
        timeoutMs: t,
      });
      if (!ack.ok) throw rejectError(ack.reason);
      return { symbol: md.spec.symbol, countdownTime: String(t) };
    }),
  );

  r.get(
    "/order",
    route(ctx, "queryOrder", 1, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const v = findOrder(p, a.user, md);
      if (!v) throw E.noSuchOrder();
      return orderJson(md.spec, v);
    }),
  );

  r.get(
    "/openOrder",
    route(ctx, "openOrder", 1, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const v = findOrder(p, a.user, md);
      if (!v || !d.router.account(a.user).open.has(v.ev.orderId)) throw E.rejected(-2013, "Order does not exist.");
      return orderJson(md.spec, v);
    }),
  );

  r.get(
    "/openOrders",
    route(
      ctx,
      "openOrders",
      (p) => (p.has("symbol") ? 1 : 40),
      async (req) => {
        const a = await authed(req);
        const md = optSym(req.parsed!.params);
        const acct = d.router.account(a.user);
        const out: unknown[] = [];
        for (const id of acct.open) {
          const v = acct.orders.get(id)!;
          if (md && v.ev.market !== md.spec.id) continue;
          out.push(orderJson(d.router.markets.get(v.ev.market)!.spec, v));
        }
        return out;
      },
    ),
  );

  r.get(
    "/allOrders",
    route(ctx, "allOrders", 5, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 500;
      const fromId = p.optInt("orderId") ?? 0;
      const list = [...d.router.account(a.user).orders.values()]
        .filter((v) => v.ev.market === md.spec.id && v.ev.orderId >= fromId)
        .sort((x, y) => x.ev.orderId - y.ev.orderId);
      return list.slice(-limit).map((v) => orderJson(md.spec, v));
    }),
  );

  // ---- account
  const balanceOf = (user: string) => {
    const acct = d.router.account(user);
    let upnl = 0;
    for (const [m, pos] of acct.positions) {
      const md = d.router.markets.get(m);
      if (md && pos.size !== 0) upnl += Math.floor((pos.size * md.mark) / 1e8) - pos.cost;
    }
    return { cash: acct.cash, upnl };
  };

  r.get(
    "/balance",
    route(ctx, "balance", 5, async (req) => {
      const a = await authed(req);
      const b = balanceOf(a.user);
      return [
        {
          accountAlias: "",
          asset: "USDT",
          balance: fmtQuote(b.cash),
          crossWalletBalance: fmtQuote(b.cash),
          crossUnPnl: fmtQuote(b.upnl),
          availableBalance: fmtQuote(b.cash + b.upnl),
          maxWithdrawAmount: fmtQuote(Math.max(0, b.cash + b.upnl)),
          marginAvailable: true,
          updateTime: ctx.now(),
        },
      ];
    }),
  );

  const positions = (user: string, md?: MarketData) => {
    const acct = d.router.account(user);
    return [...d.router.markets.values()]
      .filter((m) => !md || m === md)
      .map((m) => {
        const pos = acct.position(m.spec.id);
        const pj = positionJson(m.spec, pos, m.mark);
        const notional = Math.floor((pos.size * m.mark) / 1e8);
        return {
          symbol: m.spec.symbol,
          positionAmt: pj.pa,
          entryPrice: pj.ep,
          markPrice: fmtPrice(m.mark, 6),
          unRealizedProfit: pj.up,
          liquidationPrice: "0",
          leverage: String(acct.leverage.get(m.spec.id) ?? Math.floor(1_000_000 / m.spec.imfPpm)),
          maxNotionalValue: "0",
          marginType: "cross",
          isolatedMargin: "0.00000000",
          isAutoAddMargin: "false",
          positionSide: "BOTH",
          notional: fmtQuote(notional),
          isolatedWallet: "0",
          updateTime: ctx.now(),
        };
      });
  };

  r.get(
    "/positionRisk",
    route(ctx, "positionRisk", 5, async (req) => {
      const a = await authed(req);
      return positions(a.user, optSym(req.parsed!.params));
    }),
  );

  r.get(
    "/account",
    route(ctx, "account", 5, async (req) => {
      const a = await authed(req);
      const b = balanceOf(a.user);
      return {
        feeTier: 0,
        canTrade: true,
        canDeposit: true,
        canWithdraw: true,
        updateTime: ctx.now(),
        multiAssetsMargin: false,
        totalWalletBalance: fmtQuote(b.cash),
        totalUnrealizedProfit: fmtQuote(b.upnl),
        totalMarginBalance: fmtQuote(b.cash + b.upnl),
        availableBalance: fmtQuote(b.cash + b.upnl),
        maxWithdrawAmount: fmtQuote(Math.max(0, b.cash + b.upnl)),
        assets: [
          {
            asset: "USDT",
            walletBalance: fmtQuote(b.cash),
            unrealizedProfit: fmtQuote(b.upnl),
            marginBalance: fmtQuote(b.cash + b.upnl),
          },
        ],
        positions: positions(a.user).map((p) => ({
          symbol: p.symbol,
          positionAmt: p.positionAmt,
          entryPrice: p.entryPrice,
          unrealizedProfit: p.unRealizedProfit,
          leverage: p.leverage,
          positionSide: "BOTH",
          notional: p.notional,
          updateTime: p.updateTime,
        })),
      };
    }),
  );

  r.get(
    "/userTrades",
    route(ctx, "userTrades", 5, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const limit = p.optInt("limit", 1, 1000) ?? 500;
      const fromId = p.optInt("fromId") ?? 0;
      const { pricePrecision: pd, quantityPrecision: qd } = md.spec;
      return d.router
        .account(a.user)
        .trades.filter((t) => t.market === md.spec.id && t.id >= fromId)
        .slice(-limit)
        .map((t) => ({
          buyer: t.side === "BUY",
          commission: fmtQuote(t.fee),
          commissionAsset: "USDT",
          id: t.id,
          maker: t.maker,
          orderId: t.orderId,
          price: fmtPrice(t.price, pd),
          qty: fmtQty(t.qty, qd),
          quoteQty: fmtQuote(t.quote),
          realizedPnl: fmtQuote(t.realizedPnl),
          side: t.side,
          positionSide: "BOTH",
          symbol: md.spec.symbol,
          time: t.time,
        }));
    }),
  );

  r.get(
    "/income",
    route(ctx, "income", 30, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = optSym(p);
      const type = p.optStr("incomeType");
      const limit = p.optInt("limit", 1, 1000) ?? 100;
      return d.router
        .account(a.user)
        .income.filter((i) => (!md || i.market === md.spec.id) && (!type || i.type === type))
        .slice(-limit)
        .map((i) => ({
          symbol: d.router.markets.get(i.market)?.spec.symbol ?? "",
          incomeType: i.type,
          income: fmtQuote(i.amount),
          asset: "USDT",
          info: i.info,
          time: i.time,
          tranId: i.tranId,
          tradeId: i.type === "COMMISSION" || i.type === "REALIZED_PNL" ? String(i.tranId) : "",
        }));
    }),
  );

  r.post(
    "/leverage",
    route(ctx, "leverage", 1, async (req) => {
      const a = await authed(req);
      const p = req.parsed!.params;
      const md = sym(p);
      const max = Math.floor(1_000_000 / md.spec.imfPpm);
      const lev = p.int("leverage", 1, 125);
      if (lev > max)
        throw E.rejected(-4028, `Leverage ${lev} is not valid; the maximum for ${md.spec.symbol} is ${max}.`);
      d.router.account(a.user).leverage.set(md.spec.id, lev);
      return { leverage: lev, maxNotionalValue: "0", symbol: md.spec.symbol };
    }),
  );

  r.post(
    "/listenKey",
    route(ctx, "listenKey", 1, async (req) => {
      const a = await authed(req);
      return { listenKey: await d.listenKeys.create(a.user, ctx.now()) };
    }),
  );
  r.put(
    "/listenKey",
    route(ctx, "listenKeyKeepAlive", 1, async (req) => {
      const a = await authed(req);
      const k = await d.listenKeys.keepAlive(a.user, ctx.now());
      if (!k) throw E.badListenKey();
      return { listenKey: k };
    }),
  );
  r.delete(
    "/listenKey",
    route(ctx, "listenKeyClose", 1, async (req) => {
      const a = await authed(req);
      await d.listenKeys.close(a.user);
      return {};
    }),
  );
  return { order };
}
