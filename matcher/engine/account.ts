// Engine view of an account: cash, per-market exposure and the list of its orders.
import { AccountMarket } from "../risk/margin";
import type { Order } from "./book";

export class AccountMarketState extends AccountMarket {
  /** resting reduce-only orders in this market */
  roCount = 0;
  /** the resting reduce-only orders (unordered; enforcement sorts by id) */
  roOrders: Order[] = [];
  clientIds: Map<string, Order> | null = null;
}

export class Account {
  /** quote units, signed */
  cash = 0;
  /** indexed by market index; undefined until touched */
  readonly markets: (AccountMarketState | undefined)[] = [];
  /** market indices touched, in first-touch order */
  readonly touched: number[] = [];
  /** intrusive list of all open and conditional orders */
  head: Order | null = null;
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

  addOrder(o: Order): void {
    o.aPrev = null;
    o.aNext = this.head;
    if (this.head) this.head.aPrev = o;
    this.head = o;
    this.orderCount++;
  }

  removeOrder(o: Order): void {
    if (o.aPrev) o.aPrev.aNext = o.aNext;
    else this.head = o.aNext;
    if (o.aNext) o.aNext.aPrev = o.aPrev;
    o.aPrev = o.aNext = null;
    this.orderCount--;
  }
}
