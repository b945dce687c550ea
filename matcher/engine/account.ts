// Engine view of an account: cash, per-market exposure and the list of its orders.
import { AccountMarket } from "../risk/margin";
import type { Order, OrderIndex } from "./book";

export class AccountMarketState extends AccountMarket {
  /** resting reduce-only orders in this market */
  roCount = 0;
  /** the resting reduce-only orders (unordered; enforcement sorts by id) */
  readonly roOrders = new Set<Order>();
  /** open lots of those orders per side (enforcement has nothing to clip while each is <= what the position allows) */
  roBuyLots = 0;
  roSellLots = 0;
  /**
   * At least the largest remaining of those orders per side (exact after an enforcement pass; fills
   * only lower what it bounds): with it at or under what the position allows, nothing needs clipping,
   * however many orders there are, so a fill skips the pass over them.
   */
  roMaxBuy = 0;
  roMaxSell = 0;
  clientIds: Map<string, Order> | null = null;
}

export class Account {
  /** quote units, signed */
  cash = 0;
  /** indexed by market index; undefined until touched */
  readonly markets: (AccountMarketState | undefined)[] = [];
  /** market indices touched, in first-touch order */
  readonly touched: number[] = [];
  /**
   * Ids of the account's open and conditional orders, ascending (placement order), plus ids of
   * finished orders not yet dropped: an id is live while the engine's OrderIndex holds it. Removal
   * only counts (no write to the order or its neighbours: cancels touch less memory); the dead ids
   * are dropped when they outnumber the live ones (compact(), amortised O(1) per removal).
   */
  orderIds: number[] = [];
  /** orderIds[0, nIds) are in use (a count, not orderIds.length: shrinking an array reallocates it) */
  nIds = 0;
  /** live orders (open and conditional) */
  orderCount = 0;
  /** restricted to reduce-only orders (an open forced exit on chain: RestrictCmd) */
  reduceOnly = false;
  constructor(readonly id: string) {}

  market(index: number): AccountMarketState {
    let am = this.markets[index];
    if (am === undefined) {
      am = new AccountMarketState(index);
      this.markets[index] = am;
      this.touched.push(index);
    }
    return am;
  }

  /** Add a new order's id (ids are added in increasing order). */
  addOrder(id: number, index: OrderIndex): void {
    const ids = this.orderIds;
    if (this.nIds - this.orderCount > 32 && this.nIds - this.orderCount > this.orderCount) this.compact(index);
    const n = this.nIds;
    if (n === ids.length) ids.push(id);
    else ids[n] = id;
    this.nIds = n + 1;
    this.orderCount++;
  }

  removeOrder(): void {
    this.orderCount--;
  }

  /** Drop the ids of finished orders (keeps the order of the live ones). */
  compact(index: OrderIndex): void {
    const ids = this.orderIds;
    let w = 0;
    for (let i = 0, n = this.nIds; i < n; i++) {
      const id = ids[i];
      if (index.has(id)) ids[w++] = id;
    }
    this.nIds = w;
  }
}
