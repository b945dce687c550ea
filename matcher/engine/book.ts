// Order book primitives: each price level keeps its orders' ids in a time-priority queue with lazy
// deletion (O(1) cancel given the order, touching only the order and its level), levels are found
// by price through a Map and kept in a sorted array with the best price at the END (push/pop/splice
// near the top of book are cheap).
import type { OrderStatus, OrderType, StpMode, TimeInForce, WorkingType } from "./types";
import type { Account } from "./account";
import type { IdIndex } from "./idIndex";

/** The engine's live orders by id. */
export type OrderIndex = IdIndex<Order>;

export const STP_NONE = 0;
export const STP_EXPIRE_TAKER = 1;
export const STP_EXPIRE_MAKER = 2;
export const STP_EXPIRE_BOTH = 3;
export const STP_CODES: Record<StpMode, number> = { NONE: 0, EXPIRE_TAKER: 1, EXPIRE_MAKER: 2, EXPIRE_BOTH: 3 };

/**
 * First value of the Order's numeric fields (null, never read: the constructor sets every field).
 * In V8 a field whose first value is a small integer gets the "Smi" representation and is switched,
 * for every object of the class, to boxed doubles (a separate heap object per field and object) as
 * soon as one value is not a small integer (a price beyond 2^31, Σ lots*ticks, a division result).
 * A field that first held a non-number gets the "tagged" representation instead: small integers are
 * stored in the object itself and only larger values are boxed. This keeps an order one object
 * rather than six (less to mark in GC, fewer cache misses at a million resting orders).
 */
const TAGGED = null as unknown as number;

/**
 * The same number, typed as a small integer when it is one (a division result such as qty / lotSize
 * is otherwise kept as a heap number even when integral). -0 stays -0.
 */
export function smi(v: number): number {
  const i = v | 0;
  return i === v && (i !== 0 || 1 / v > 0) ? i : v;
}

export class Order {
  // Field order is layout (V8 keeps declaration order, 8 bytes a field after a 24-byte header): the
  // fields that placing, cancelling, filling and order events read come first, in the object's first
  // 176 bytes (three or four cache lines; Engine.readWarmed reads one field in each); the trigger and
  // trailing state, the type strings and ts, which only conditional orders and queries read, come last.
  id = TAGGED;
  account = null as unknown as Account;
  market = TAGGED;
  /** orderType, origType, tif and workingType packed (orderKinds.ts; set again whenever one changes) */
  kinds = TAGGED;
  isBuy = false;
  /** limit price in ticks (market orders: the slippage cap) */
  ticks = TAGGED;
  /** original lots */
  lots = TAGGED;
  reduceOnly = false;
  closePosition = false;
  clientOrderId = "";
  hash = "";
  /** the level it rests at (null when not resting) */
  level: Level | null = null;
  stp = TAGGED;
  status: OrderStatus = "NEW";
  /** true while waiting in the conditional store */
  conditional = false;
  /** true while counted in the account's open-order margin sums */
  inMargin = false;
  /** lots still open */
  remaining = TAGGED;
  filled = TAGGED;
  /** Σ lots*ticks of fills */
  filledQP = TAGGED;
  // -- read only for conditional orders and by queries (after filledQP: see above)
  orderType: OrderType = "LIMIT";
  origType: OrderType = "LIMIT";
  tif: TimeInForce = "GTC";
  workingType: WorkingType = "CONTRACT_PRICE";
  /** trigger price, price units (0 = none; events read it only for a conditional origType: kindsHasStopPrice) */
  stopPrice = TAGGED;
  ts = TAGGED;
  /** trailing: activation price (price units, 0 = at once) and callback ppm */
  activation = TAGGED;
  callbackPpm = TAGGED;
  /** trailing stop state: activated, best price seen (price units; while activated, TrailingStops keeps it per group and writes it back in orders()) */
  activated = false;
  extreme = TAGGED;
  // The constructor takes every field and calls init itself, rather than `new Order().init(...)`:
  // measured 13% slower at 10k resting (V8 settles the object's layout within the constructor).
  constructor(
    id: number,
    account: Account,
    market: number,
    isBuy: boolean,
    orderType: OrderType,
    origType: OrderType,
    tif: TimeInForce,
    ticks: number,
    lots: number,
    stopPrice: number,
    workingType: WorkingType,
    reduceOnly: boolean,
    closePosition: boolean,
    stp: number,
    clientOrderId: string,
    hash: string,
    ts: number,
    activation: number,
    callbackPpm: number,
    kinds: number,
  ) {
    this.init(
      id,
      account,
      market,
      isBuy,
      orderType,
      origType,
      tif,
      ticks,
      lots,
      stopPrice,
      workingType,
      reduceOnly,
      closePosition,
      stp,
      clientOrderId,
      hash,
      ts,
      activation,
      callbackPpm,
      kinds,
    );
  }

  /** Re-initialise a pooled order (same fields as the constructor, links and fill state cleared). */
  init(
    id: number,
    account: Account,
    market: number,
    isBuy: boolean,
    orderType: OrderType,
    origType: OrderType,
    tif: TimeInForce,
    ticks: number,
    lots: number,
    stopPrice: number,
    workingType: WorkingType,
    reduceOnly: boolean,
    closePosition: boolean,
    stp: number,
    clientOrderId: string,
    hash: string,
    ts: number,
    activation: number,
    callbackPpm: number,
    /** packKinds(orderType, origType, tif, workingType) */
    kinds: number,
  ): this {
    this.id = id;
    this.account = account;
    this.market = market;
    this.isBuy = isBuy;
    this.orderType = orderType;
    this.origType = origType;
    this.tif = tif;
    this.ticks = smi(ticks);
    this.lots = smi(lots);
    this.stopPrice = stopPrice;
    this.workingType = workingType;
    this.reduceOnly = reduceOnly;
    this.closePosition = closePosition;
    this.stp = stp;
    this.clientOrderId = clientOrderId;
    this.hash = hash;
    this.ts = ts;
    this.activation = activation;
    this.callbackPpm = callbackPpm;
    this.level = null;
    this.remaining = this.lots;
    this.filled = 0;
    this.filledQP = 0;
    this.status = "NEW";
    this.conditional = false;
    this.inMargin = false;
    this.activated = false;
    this.extreme = 0;
    this.kinds = kinds;
    return this;
  }
}

/**
 * A price level: its resting orders in time priority as a queue of order ids, q[first..]. An id
 * whose order is no longer in the OrderIndex is dead and skipped: removing an order only updates
 * count and qty (no writes to other orders, which at a million resting orders sit in cold memory);
 * dead ids are skipped at the front and dropped when they outnumber the live ones.
 * Invariant: an order leaves its level only when it finishes, and it is removed from the
 * OrderIndex in the same step, before the level is used again.
 */
export class Level {
  qty = 0;
  count = 0;
  /** reduce-only orders among them (matching may clip those: a FOK check must then walk the level) */
  ro = 0;
  /** in its side's sorted array (an emptied level stays in the Map, unlisted, for reuse) */
  listed = true;
  /** order ids in time priority: q[first, end) (dead ones included until dropped; a count, not q.length, marks the end) */
  q: number[] = [];
  first = 0;
  end = 0;
  constructor(
    public ticks: number,
    readonly index: OrderIndex,
  ) {}

  push(o: Order): void {
    o.level = this;
    if (o.reduceOnly) this.ro++;
    const q = this.q;
    const dead = this.end - this.first - this.count;
    if (dead > 16 && dead > this.count) this.compact();
    const e = this.end;
    if (e === q.length) q.push(o.id);
    else q[e] = o.id;
    this.end = e + 1;
    this.qty += o.remaining;
    this.count++;
  }

  unlink(o: Order): void {
    o.level = null;
    if (o.reduceOnly) this.ro--;
    this.qty -= o.remaining;
    if (--this.count === 0) this.first = this.end = 0;
  }

  /** The first live order in time priority (null if none); drops dead ids at the front. */
  front(): Order | null {
    if (this.count === 0) return null;
    const q = this.q;
    const index = this.index;
    for (let i = this.first, e = this.end; i < e; i++) {
      const o = index.get(q[i]);
      // (o.level: belt and braces for the invariant above; the caller reads the order anyway)
      if (o !== undefined && o.level === this) {
        this.first = i;
        return o;
      }
    }
    return null; // unreachable while count > 0
  }

  /** The live orders in time priority (for queries, snapshots and FOK checks). */
  orders(): Order[] {
    const out: Order[] = [];
    const q = this.q;
    for (let i = this.first, e = this.end; i < e; i++) {
      const o = this.index.get(q[i]);
      if (o !== undefined && o.level === this) out.push(o);
    }
    return out;
  }

  /** Drop the dead ids (keeps the live ones in order). */
  private compact(): void {
    const q = this.q;
    const index = this.index;
    let w = 0;
    for (let i = this.first, e = this.end; i < e; i++) {
      const id = q[i];
      if (index.has(id)) q[w++] = id;
    }
    this.first = 0;
    this.end = w;
  }
}

/** Levels per chunk of a BookSide's sorted levels (a chunk grown to twice this by inserts is split). */
const CHUNK = 512;

export class BookSide {
  /** levels by ticks: the listed ones, plus emptied ones kept for reuse (purged when many) */
  readonly levels = new Map<number, Level>();
  /**
   * Listed levels sorted so the best level is last: bids ascending, asks descending, held in chunks
   * (none empty, in order; the best is the last level of the last chunk). A level inserted below the
   * best moves one chunk, not the whole side: in one array, a new price among 100,000 levels was a
   * 400 KB move (~76 us). An emptied level below the best stays listed (count 0) until reused or
   * until the empty ones outnumber the others (then they are dropped in one pass): no splice per
   * emptied or refilled level. The best level is never empty. Readers skip levels with count 0.
   */
  private chunks: Level[][] = [];
  /** listed levels, and how many of them have count 0 */
  private listed = 0;
  private empties = 0;
  constructor(
    readonly isBuy: boolean,
    /** the engine's live orders (levels hold ids) */
    readonly index: OrderIndex,
  ) {}

  best(): Level | null {
    const c = this.chunks;
    if (c.length === 0) return null;
    const top = c[c.length - 1];
    return top[top.length - 1];
  }

  /** The d-th listed level from the best (0: the best; empty ones included), or null past the last. */
  levelFromBest(d: number): Level | null {
    const c = this.chunks;
    for (let i = c.length - 1; i >= 0; i--) {
      const ch = c[i];
      if (d < ch.length) return ch[ch.length - 1 - d];
      d -= ch.length;
    }
    return null;
  }

  /** The listed levels from the best down (empty ones included: readers skip count 0). */
  *fromBest(): IterableIterator<Level> {
    const c = this.chunks;
    for (let i = c.length - 1; i >= 0; i--) {
      const ch = c[i];
      for (let j = ch.length - 1; j >= 0; j--) yield ch[j];
    }
  }

  /** The listed levels, best last, as one array (a copy: for snapshots and tests). */
  get sorted(): Level[] {
    return this.chunks.flat();
  }

  /** Whether a level at `ticks` sorts at or below `l` (bids: ticks <= l's; asks: ticks >= l's). */
  private notBetter(l: Level, ticks: number): boolean {
    return this.isBuy ? l.ticks <= ticks : l.ticks >= ticks;
  }

  getOrCreate(ticks: number): Level {
    let l = this.levels.get(ticks);
    if (l !== undefined) {
      if (l.listed) {
        if (l.count === 0) this.empties--; // the caller adds an order to it
        return l;
      }
      l.listed = true;
    } else {
      l = new Level(ticks, this.index);
      this.levels.set(ticks, l);
    }
    this.listed++;
    const c = this.chunks;
    const top = c[c.length - 1];
    // fast path: new best
    if (top === undefined || this.notBetter(top[top.length - 1], ticks)) {
      if (top === undefined || top.length >= CHUNK) c.push([l]);
      else top.push(l);
      return l;
    }
    // the first chunk whose last level is better than ticks (the top one is), then the place in it
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ch = c[mid];
      if (this.notBetter(ch[ch.length - 1], ticks)) lo = mid + 1;
      else hi = mid;
    }
    const ch = c[lo];
    let a = 0;
    let b = ch.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.notBetter(ch[mid], ticks)) a = mid + 1;
      else b = mid;
    }
    ch.splice(a, 0, l);
    if (ch.length >= 2 * CHUNK) c.splice(lo + 1, 0, ch.splice(CHUNK));
    return l;
  }

  /**
   * A level became empty. The best is unlisted at once (with the empty levels under it); another
   * stays listed, empty, until reused or dropped in a pass. Unlisted levels stay in the Map (a
   * level at a busy price is emptied and refilled often).
   */
  removeLevel(l: Level): void {
    const c = this.chunks;
    const top = c[c.length - 1];
    if (top !== undefined && top[top.length - 1] === l) {
      l.listed = false;
      top.pop();
      this.listed--;
      // the emptied levels now on top go too, and emptied chunks
      for (let t = c[c.length - 1]; t !== undefined; t = c[c.length - 1]) {
        if (t.length === 0) {
          c.pop();
          continue;
        }
        const x = t[t.length - 1];
        if (x.count !== 0) break;
        t.pop();
        x.listed = false;
        this.listed--;
        this.empties--;
      }
    } else if (++this.empties > 64 && this.empties > this.listed - this.empties) {
      const kept: Level[] = [];
      for (const ch of c)
        for (const x of ch) {
          if (x.count > 0) kept.push(x);
          else x.listed = false;
        }
      this.chunks = [];
      for (let i = 0; i < kept.length; i += CHUNK) this.chunks.push(kept.slice(i, i + CHUNK));
      this.listed = kept.length;
      this.empties = 0;
    }
    if (this.levels.size > 4096 && this.levels.size > 4 * this.listed) this.purge();
  }

  /** Drop the unlisted levels from the Map. */
  private purge(): void {
    for (const [t, l] of this.levels) if (!l.listed) this.levels.delete(t);
  }

  add(o: Order): void {
    this.getOrCreate(o.ticks).push(o);
  }

  /** Remove an order; drops its level when empty. */
  remove(o: Order): Level {
    const l = o.level as Level;
    l.unlink(o);
    if (l.count === 0) this.removeLevel(l);
    return l;
  }

  /** Would a taker on the other side at `ticks` cross this side's best? */
  crosses(ticks: number): boolean {
    const b = this.best();
    if (b === null) return false;
    return this.isBuy ? b.ticks >= ticks : b.ticks <= ticks;
  }
}

/** Conditional orders with one trigger price, oldest first: ids q[head..] (dead ones skipped lazily). */
class TriggerBucket {
  q: number[] = [];
  head = 0;
  /** live orders in q */
  count = 0;
}

/**
 * Conditional orders waiting for a trigger. Orders are grouped by trigger price (many stops sit at
 * the same round price); the distinct keys are sorted so the next to trigger is last.
 * "up" orders trigger when price >= stopPrice (key = -stopPrice); "down" when price <= stopPrice.
 * Equal triggers: older orders trigger first. Like a price level, a bucket holds order ids and a
 * removed order only lowers the count: no O(n) splice or search per insert or cancel.
 * An id is live while the OrderIndex holds a conditional order for it (an order leaves its list
 * only when triggered, popped here, or closed, which clears `conditional` and unregisters it).
 */
export class TriggerList {
  /** distinct keys, ascending (the next to trigger is last) */
  private readonly keys: number[] = [];
  private readonly buckets = new Map<number, TriggerBucket>();
  constructor(
    readonly up: boolean,
    readonly index: OrderIndex,
  ) {}

  private key(o: Order): number {
    return this.up ? -o.stopPrice : o.stopPrice;
  }

  private live(id: number): Order | null {
    const o = this.index.get(id);
    return o !== undefined && o.conditional ? o : null;
  }

  insert(o: Order): void {
    const k = this.key(o);
    let b = this.buckets.get(k);
    if (b === undefined) {
      b = new TriggerBucket();
      this.buckets.set(k, b);
      const s = this.keys;
      let lo = 0;
      let hi = s.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (s[mid] < k) lo = mid + 1;
        else hi = mid;
      }
      s.splice(lo, 0, k);
    } else if (b.q.length - b.head - b.count > 16 && b.q.length - b.head > 2 * b.count) this.compact(b);
    b.q.push(o.id);
    b.count++;
  }

  /** Take a conditional order out of the list (its `conditional` flag is cleared by the caller). */
  remove(o: Order): boolean {
    const k = this.key(o);
    const b = this.buckets.get(k);
    if (b === undefined) return false;
    if (--b.count === 0) this.dropKey(k);
    return true;
  }

  /** Pop the next order whose trigger is reached at `price`, or null. */
  popTriggered(price: number): Order | null {
    const s = this.keys;
    const n = s.length;
    if (n === 0) return null;
    const k = s[n - 1];
    if (this.up ? price < -k : price > k) return null;
    const b = this.buckets.get(k) as TriggerBucket;
    const q = b.q;
    for (let i = b.head; i < q.length; i++) {
      const o = this.live(q[i]);
      if (o !== null) {
        b.head = i + 1;
        if (--b.count === 0) this.dropKey(k);
        return o;
      }
    }
    return null; // unreachable while count > 0
  }

  /** The orders in trigger order reversed (the next to trigger last), as the snapshot stores them. */
  get items(): Order[] {
    const out: Order[] = [];
    for (const k of this.keys) {
      const b = this.buckets.get(k) as TriggerBucket;
      for (let i = b.q.length - 1; i >= b.head; i--) {
        const o = this.live(b.q[i]);
        if (o !== null) out.push(o);
      }
    }
    return out;
  }

  /** Refill from a snapshot's list (in `items` order); the orders are in the OrderIndex already. */
  load(orders: Order[]): void {
    for (let i = orders.length - 1; i >= 0; i--) this.insert(orders[i]);
  }

  private dropKey(k: number): void {
    this.buckets.delete(k);
    const s = this.keys;
    if (s[s.length - 1] === k) s.pop();
    else s.splice(s.indexOf(k), 1);
  }

  private compact(b: TriggerBucket): void {
    const q = b.q;
    let w = 0;
    for (let i = b.head; i < q.length; i++) if (this.live(q[i]) !== null) q[w++] = q[i];
    q.length = w;
    b.head = 0;
  }
}
