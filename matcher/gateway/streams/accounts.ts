// Per-account state the gateway keeps from the engine's events: orders (open and recent),
// fills, income, cash and positions (with an entry price derived from fills, a display
// concern). Serves the REST account endpoints and builds the user-stream payloads.
import type { OrderUpdateEvent, TradeEvent, AccountEvent } from "../../engine/types";
import type { MarketSpec } from "../venue/types";
import { fmtPrice, fmtQty, fmtQuote } from "./format";

export interface OrderView {
  ev: OrderUpdateEvent;
  time: number;
  updateTime: number;
}

export interface UserTrade {
  market: number;
  id: number;
  orderId: number;
  side: "BUY" | "SELL";
  price: number;
  qty: number;
  quote: number;
  fee: number;
  maker: boolean;
  time: number;
  realizedPnl: number;
}

export interface Income {
  market: number;
  type: string;
  amount: number;
  time: number;
  tranId: number;
  info: string;
}

export interface Position {
  size: number;
  /** Σ size·price of the open part, quote units (for the entry price). */
  cost: number;
}

export class AccountState {
  cash = 0;
  readonly positions = new Map<number, Position>();
  readonly orders = new Map<number, OrderView>();
  readonly open = new Set<number>();
  readonly trades: UserTrade[] = [];
  readonly income: Income[] = [];
  leverage = new Map<number, number>();
  private closedOrder: number[] = [];

  constructor(readonly account: string) {}

  position(market: number): Position {
    let p = this.positions.get(market);
    if (!p) this.positions.set(market, (p = { size: 0, cost: 0 }));
    return p;
  }

  onOrder(ev: OrderUpdateEvent): OrderView {
    let v = this.orders.get(ev.orderId);
    if (!v) {
      v = { ev, time: ev.ts, updateTime: ev.ts };
      this.orders.set(ev.orderId, v);
    } else {
      v.ev = ev;
      v.updateTime = ev.ts;
    }
    const done =
      ev.status === "FILLED" || ev.status === "CANCELED" || ev.status === "EXPIRED" || ev.status === "EXPIRED_IN_MATCH";
    if (done) {
      if (this.open.delete(ev.orderId)) {
        this.closedOrder.push(ev.orderId);
        if (this.closedOrder.length > 2000) {
          for (const id of this.closedOrder.splice(0, 1000)) this.orders.delete(id);
        }
      } else if (!this.open.has(ev.orderId)) this.closedOrder.push(ev.orderId);
    } else this.open.add(ev.orderId);
    return v;
  }

  /** Apply one side of a fill; returns realised PnL (quote units) of the closing part. */
  onFill(t: TradeEvent, side: "BUY" | "SELL", maker: boolean): UserTrade {
    const p = this.position(t.market);
    const signed = side === "BUY" ? t.qty : -t.qty;
    const quote = side === "BUY" ? t.buyerPays : t.sellerGets;
    const fee = maker ? t.makerFee : t.takerFee;
    this.cash += (side === "BUY" ? -quote : quote) - fee;
    let realized = 0;
    const notional = Math.floor((t.qty * t.price) / 1e8);
    if (p.size === 0 || Math.sign(p.size) === Math.sign(signed)) {
      p.cost += side === "BUY" ? notional : -notional;
      p.size += signed;
    } else {
      const closing = Math.min(Math.abs(signed), Math.abs(p.size));
      const avgCost = (p.cost * closing) / Math.abs(p.size);
      const closeNotional = Math.floor((closing * t.price) / 1e8);
      realized = p.size > 0 ? closeNotional - avgCost : -closeNotional - avgCost;
      realized = Math.round(realized);
      p.cost -= Math.round(avgCost);
      p.size += signed;
      const rest = Math.abs(signed) - closing;
      if (p.size === 0) p.cost = 0;
      if (rest > 0) p.cost = (side === "BUY" ? 1 : -1) * Math.floor((rest * t.price) / 1e8);
    }
    const ut: UserTrade = {
      market: t.market,
      id: t.tradeId,
      orderId: maker ? t.makerOrderId : t.takerOrderId,
      side,
      price: t.price,
      qty: t.qty,
      quote,
      fee,
      maker,
      time: t.ts,
      realizedPnl: realized,
    };
    this.trades.push(ut);
    if (this.trades.length > 4000) this.trades.splice(0, 2000);
    if (realized !== 0) this.addIncome(t.market, "REALIZED_PNL", realized, t.ts, t.tradeId, "");
    if (fee !== 0) this.addIncome(t.market, "COMMISSION", -fee, t.ts, t.tradeId, "");
    return ut;
  }

  onAccount(ev: AccountEvent): void {
    this.cash = ev.cash;
    if (ev.market >= 0) {
      const p = this.position(ev.market);
      if (p.size !== ev.position) {
        p.cost = p.size === 0 ? 0 : Math.round((p.cost * ev.position) / p.size);
        p.size = ev.position;
      }
    }
    const type = ev.reason === "BALANCE" ? "TRANSFER" : ev.reason === "FUNDING" ? "FUNDING_FEE" : ev.reason;
    this.addIncome(ev.market, type, ev.cashDelta, ev.ts, ev.seq, ev.ref);
  }

  private addIncome(market: number, type: string, amount: number, time: number, tranId: number, info: string): void {
    this.income.push({ market, type, amount, time, tranId, info });
    if (this.income.length > 4000) this.income.splice(0, 2000);
  }
}

const TIF_OUT: Record<string, string> = { GTC: "GTC", IOC: "IOC", FOK: "FOK", GTX: "GTX" };

/** REST order object (GET /order, openOrders, allOrders, POST /order response). */
export function orderJson(spec: MarketSpec, v: OrderView): Record<string, unknown> {
  const ev = v.ev;
  const pd = spec.pricePrecision;
  const qd = spec.quantityPrecision;
  const avg = ev.filledQty > 0 ? Math.floor((ev.filledQuote * 1e8) / ev.filledQty) : 0;
  return {
    orderId: ev.orderId,
    symbol: spec.symbol,
    status: ev.status,
    clientOrderId: ev.clientOrderId,
    price: fmtPrice(ev.price, pd),
    avgPrice: fmtPrice(avg - (avg % 1), 6),
    origQty: fmtQty(ev.qty, qd),
    executedQty: fmtQty(ev.filledQty, qd),
    cumQuote: fmtQuote(ev.filledQuote),
    timeInForce: TIF_OUT[ev.tif] ?? ev.tif,
    type: ev.orderType,
    origType: ev.origType,
    reduceOnly: ev.reduceOnly,
    closePosition: ev.closePosition,
    side: ev.side,
    positionSide: "BOTH",
    stopPrice: fmtPrice(ev.stopPrice, pd),
    workingType: ev.workingType,
    priceProtect: false,
    priceMatch: "NONE",
    selfTradePreventionMode: "NONE",
    goodTillDate: 0,
    time: v.time,
    updateTime: v.updateTime,
  };
}

/** User stream ORDER_TRADE_UPDATE for one order update (with its fill, if any). */
export function orderTradeUpdate(spec: MarketSpec, v: OrderView, fill: UserTrade | undefined): Record<string, unknown> {
  const ev = v.ev;
  const pd = spec.pricePrecision;
  const qd = spec.quantityPrecision;
  const avg = ev.filledQty > 0 ? Math.floor((ev.filledQuote * 1e8) / ev.filledQty) : 0;
  return {
    e: "ORDER_TRADE_UPDATE",
    E: ev.ts,
    T: ev.ts,
    o: {
      s: spec.symbol,
      c: ev.clientOrderId,
      S: ev.side,
      o: ev.orderType,
      f: ev.tif,
      q: fmtQty(ev.qty, qd),
      p: fmtPrice(ev.price, pd),
      ap: fmtPrice(avg, 6),
      sp: fmtPrice(ev.stopPrice, pd),
      x: ev.execType,
      X: ev.status,
      i: ev.orderId,
      l: fmtQty(ev.lastQty, qd),
      z: fmtQty(ev.filledQty, qd),
      L: fmtPrice(ev.lastPrice, pd),
      N: "USDT",
      n: fmtQuote(fill?.fee ?? 0),
      T: ev.ts,
      t: ev.tradeId,
      b: "0",
      a: "0",
      m: ev.isMaker,
      R: ev.reduceOnly,
      wt: ev.workingType,
      ot: ev.origType,
      ps: "BOTH",
      cp: ev.closePosition,
      rp: fmtQuote(fill?.realizedPnl ?? 0),
      r: ev.reason,
      h: ev.hash,
    },
  };
}

export function positionJson(spec: MarketSpec, p: Position, mark: number): Record<string, string> {
  const entry = p.size !== 0 ? Math.floor((Math.abs(p.cost) * 1e8) / Math.abs(p.size)) : 0;
  const upnl = p.size !== 0 ? Math.floor((p.size * mark) / 1e8) - p.cost : 0;
  return {
    pa: fmtQty(p.size, spec.quantityPrecision),
    ep: fmtPrice(entry, 6),
    up: fmtQuote(upnl),
  };
}

export function accountUpdate(
  acct: AccountState,
  reason: string,
  ts: number,
  markets: { spec: MarketSpec; mark: number }[],
): Record<string, unknown> {
  return {
    e: "ACCOUNT_UPDATE",
    E: ts,
    T: ts,
    a: {
      m: reason,
      B: [{ a: "USDT", wb: fmtQuote(acct.cash), cw: fmtQuote(acct.cash), bc: "0" }],
      P: markets.map(({ spec, mark }) => {
        const pj = positionJson(spec, acct.position(spec.id), mark);
        return { s: spec.symbol, pa: pj.pa, ep: pj.ep, cr: "0", up: pj.up, mt: "cross", iw: "0", ps: "BOTH" };
      }),
    },
  };
}
