// A market's trailing stops, indexed so that a price observation costs O(log n) amortised instead of
// a pass over every trailing stop (a pass made after every trade: 10,000 resting trailing stops, which
// ten funded accounts may place, cut the benchmark workload from ~500k to ~43k ops/s).
//
// Each (side, working type) pair is a TrailSet. Prices are mapped so that both sides read alike
// ("primed": p' = p for sell stops, -p for buy stops): a stop activates when p' >= its activation
// price', its extreme' is the highest p' observed since, and it triggers when p' <= its trigger
// price' = f(extreme', callback). Two facts make this cheap:
//   - an observation p' raises every extreme' below p' to p', and extremes only rise: grouping the
//     activated stops by extreme', the raised groups are the lowest ones and merge into one;
//   - within a group (one extreme'), the stop with the smallest callback has the highest trigger.
// So a group is a pairing heap by (callback, id), and a binary heap holds each group's best trigger.
// The stop triggered next is the one with the highest trigger price' (ties: the smaller callback,
// then the lower order id): a function of the stops' state alone, so a snapshot restored into fresh
// heaps picks the same.
// Removal is lazy: a removed stop's node stays until it reaches a heap's top (skipped then), and the
// set is rebuilt once removed nodes outnumber the live ones (amortised O(1) per removal).
import { mulDivCeil, mulDivFloor } from "../risk/fastmath";
import { RATE_ONE_N } from "../risk/margin";
import type { Order } from "./book";
import { BinaryHeap } from "./heap";

/** A stop in a heap: alive while its order still has this id (orders are pooled) and is conditional. */
class Node {
  child: Node | null = null;
  next: Node | null = null;
  readonly id: number;
  constructor(
    readonly order: Order,
    /** waiting: activation price'; activated: callback ppm */
    readonly key: number,
  ) {
    this.id = order.id;
  }
  get live(): boolean {
    return this.order.id === this.id && this.order.conditional;
  }
}

function nodeBefore(a: Node, b: Node): boolean {
  return a.key < b.key || (a.key === b.key && a.id < b.id);
}

/** Pairing-heap meld (O(1)). */
function meld(a: Node | null, b: Node | null): Node | null {
  if (a === null) return b;
  if (b === null) return a;
  if (nodeBefore(b, a)) [a, b] = [b, a];
  b.next = a.child;
  a.child = b;
  return a;
}

const pairs: Node[] = [];
/** The heap without its root (two-pass pairing of the root's children). */
function popRoot(root: Node): Node | null {
  pairs.length = 0;
  let x = root.child;
  while (x !== null) {
    const a = x;
    const b = a.next;
    a.next = null;
    if (b === null) {
      pairs.push(a);
      break;
    }
    x = b.next;
    b.next = null;
    pairs.push(meld(a, b) as Node);
  }
  let r: Node | null = null;
  for (let i = pairs.length - 1; i >= 0; i--) r = meld(pairs[i], r);
  pairs.length = 0;
  root.child = null;
  return r;
}

function forEachNode(root: Node | null, fn: (n: Node) => void): void {
  const stack: Node[] = [];
  if (root !== null) stack.push(root);
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    fn(n);
    if (n.child !== null) stack.push(n.child);
    if (n.next !== null) stack.push(n.next);
  }
}

/** Activated stops with one extreme'. `version` changes with the root (older entries are stale). */
class Group {
  root: Node | null = null;
  version = 0;
  constructor(readonly extreme: number) {}
}

/** A group's best trigger price' when it was recorded. */
interface Entry {
  trigger: number;
  rootCallback: number;
  rootId: number;
  group: Group;
  version: number;
}

class TrailSet {
  private readonly waiting = new BinaryHeap<Node>(nodeBefore);
  /** activated stops by extreme', descending (the lowest, which observations raise, last) */
  private groups: Group[] = [];
  private readonly best = new BinaryHeap<Entry>(
    (a, b) =>
      a.trigger > b.trigger ||
      (a.trigger === b.trigger &&
        (a.rootCallback < b.rootCallback || (a.rootCallback === b.rootCallback && a.rootId < b.rootId))),
  );
  live = 0;
  private dead = 0;

  /** sell stops: 1; buy stops: -1 (prices are primed by this sign) */
  constructor(readonly sign: 1 | -1) {}

  /** Trigger price' of a stop with this extreme' and callback. */
  private trigger(extreme: number, callbackPpm: number): number {
    return this.sign === 1
      ? mulDivFloor(extreme, RATE_ONE_N - callbackPpm, RATE_ONE_N)
      : -mulDivCeil(-extreme, RATE_ONE_N + callbackPpm, RATE_ONE_N);
  }

  add(o: Order): void {
    this.live++;
    if (o.activated) this.addActivated(new Node(o, o.callbackPpm), this.sign * o.extreme);
    else this.waiting.push(new Node(o, this.sign * o.activation));
  }

  /** A stop of this set left (its order is no longer conditional): its node goes when met. */
  remove(): void {
    this.live--;
    if (++this.dead > this.live + 64) this.rebuild();
  }

  private addActivated(n: Node, extreme: number): void {
    const gs = this.groups;
    // descending by extreme': the place of extreme' (usually the end: the last observation's price)
    let lo = 0;
    let hi = gs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (gs[mid].extreme > extreme) lo = mid + 1;
      else hi = mid;
    }
    let g = lo < gs.length && gs[lo].extreme === extreme ? gs[lo] : null;
    if (g === null) {
      g = new Group(extreme);
      if (lo === gs.length) gs.push(g);
      else gs.splice(lo, 0, g);
    }
    g.root = meld(g.root, n);
    this.changed(g);
  }

  /** Record a group's new root. */
  private changed(g: Group): void {
    g.version++;
    const r = g.root;
    if (r === null) return;
    this.best.push({
      trigger: this.trigger(g.extreme, r.key),
      rootCallback: r.key,
      rootId: r.id,
      group: g,
      version: g.version,
    });
    if (this.best.size > 2 * this.groups.length + 64) {
      this.best.reset([]);
      for (const x of this.groups) if (x.root !== null) this.changed(x);
    }
  }

  /** Observe price': raise the extremes below it, and activate the stops it reaches (extreme' = p'). */
  observe(p: number): void {
    const gs = this.groups;
    if (gs.length > 0 && gs[gs.length - 1].extreme < p) {
      let root: Node | null = null;
      while (gs.length > 0 && gs[gs.length - 1].extreme < p) {
        const g = gs.pop() as Group;
        g.version = -1; // its entries are stale
        root = meld(root, g.root);
      }
      if (root !== null) {
        // the lowest group left is at p' or above: p' joins it or goes below it
        const last = gs.length > 0 ? gs[gs.length - 1] : null;
        const g = last !== null && last.extreme === p ? last : new Group(p);
        if (g !== last) gs.push(g);
        g.root = meld(g.root, root);
        this.changed(g);
      }
    }
    let w = this.waiting.peek();
    while (w !== undefined && w.key <= p) {
      this.waiting.pop();
      if (w.live) {
        w.order.activated = true;
        this.addActivated(new Node(w.order, w.order.callbackPpm), p);
      } else this.dead--;
      w = this.waiting.peek();
    }
  }

  /** The next stop whose trigger p' reaches, taken out of the set (null if none). */
  take(p: number): Order | null {
    for (;;) {
      const top = this.best.peek();
      if (top === undefined) return null;
      const g = top.group;
      if (top.version !== g.version) {
        this.best.pop();
        continue;
      }
      if (!(p <= top.trigger)) return null;
      this.best.pop();
      const n = g.root as Node;
      g.root = popRoot(n);
      if (g.root === null) this.dropGroup(g);
      else this.changed(g);
      if (!n.live) {
        this.dead--;
        continue;
      }
      this.live--;
      n.order.extreme = this.sign * g.extreme;
      return n.order;
    }
  }

  private dropGroup(g: Group): void {
    g.version = -1;
    const gs = this.groups;
    const i = gs.lastIndexOf(g);
    if (i === gs.length - 1) gs.pop();
    else gs.splice(i, 1);
  }

  /** The live stops (activated ones with their extreme written back to the order). */
  collect(out: Order[]): void {
    for (const n of this.waiting.items) if (n.live) out.push(n.order);
    for (const g of this.groups)
      forEachNode(g.root, (n) => {
        if (!n.live) return;
        n.order.extreme = this.sign * g.extreme;
        out.push(n.order);
      });
  }

  /** Rebuild from the live stops (drops the removed ones' nodes and the stale entries). */
  private rebuild(): void {
    const os: Order[] = [];
    this.collect(os);
    os.sort((a, b) => a.id - b.id);
    this.waiting.reset([]);
    this.groups = [];
    this.best.reset([]);
    this.live = 0;
    this.dead = 0;
    for (const o of os) this.add(o);
  }
}

export class TrailingStops {
  /** sell by last price, sell by mark, buy by last price, buy by mark */
  private readonly sets = [new TrailSet(1), new TrailSet(1), new TrailSet(-1), new TrailSet(-1)];

  private setOf(o: Order): TrailSet {
    return this.sets[(o.isBuy ? 2 : 0) + (o.workingType === "MARK_PRICE" ? 1 : 0)];
  }

  /** Live trailing stops. */
  get size(): number {
    let n = 0;
    for (const s of this.sets) n += s.live;
    return n;
  }

  /** A new trailing stop (activated, with its extreme, or waiting for its activation price). */
  add(o: Order): void {
    this.setOf(o).add(o);
  }

  /** A trailing stop left (cancelled or closed; `conditional` already cleared). */
  remove(o: Order): void {
    this.setOf(o).remove();
  }

  /**
   * Observe the prices (each stop reads the mark or the last price, the mark while there is no
   * trade yet) and take the next triggered stop, or null. Every set observes before any triggers.
   */
  next(last: number, mark: number): Order | null {
    const byLast = last || mark;
    for (let i = 0; i < 4; i++) {
      const p = i & 1 ? mark : byLast;
      if (p !== 0) this.sets[i].observe(this.sets[i].sign * p);
    }
    for (let i = 0; i < 4; i++) {
      const p = i & 1 ? mark : byLast;
      if (p === 0) continue;
      const o = this.sets[i].take(this.sets[i].sign * p);
      if (o !== null) return o;
    }
    return null;
  }

  /** The live trailing stops by id (activated ones' `extreme` brought up to date): what a snapshot stores. */
  orders(): Order[] {
    const out: Order[] = [];
    for (const s of this.sets) s.collect(out);
    return out.sort((a, b) => a.id - b.id);
  }

  /** Refill from a snapshot's orders (their `activated` and `extreme` as stored). */
  load(orders: Order[]): void {
    for (const o of orders) this.add(o);
  }
}
