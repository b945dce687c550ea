import { expect } from "chai";
import fc from "fast-check";
import { Account } from "../../matcher/engine/account";
import { Order } from "../../matcher/engine/book";
import { packKinds } from "../../matcher/engine/orderKinds";
import { TrailingStops } from "../../matcher/engine/trailing";
import { mulDivCeil, mulDivFloor } from "../../matcher/risk/fastmath";

const ONE = 1_000_000;
const acct = new Account("a");

function stop(id: number, isBuy: boolean, mark: boolean, activation: number, callbackPpm: number): Order {
  const o = new Order(
    id,
    acct,
    0,
    isBuy,
    "TRAILING_STOP_MARKET",
    "TRAILING_STOP_MARKET",
    "IOC",
    0,
    1,
    0,
    mark ? "MARK_PRICE" : "CONTRACT_PRICE",
    false,
    false,
    0,
    "",
    "",
    0,
    activation,
    callbackPpm,
    packKinds("TRAILING_STOP_MARKET", "TRAILING_STOP_MARKET", "IOC", mark ? "MARK_PRICE" : "CONTRACT_PRICE"),
  );
  o.conditional = true;
  return o;
}

/** The rule, one stop at a time: what TrailingStops must do without the pass over every stop. */
class Model {
  stops: Order[] = [];
  next(last: number, mark: number): Order | null {
    const price = (o: Order) => (o.workingType === "MARK_PRICE" ? mark : last || mark);
    for (const o of this.stops) {
      const p = price(o);
      if (p === 0) continue;
      if (o.activated) o.extreme = o.isBuy ? Math.min(o.extreme, p) : Math.max(o.extreme, p);
      else if (o.isBuy ? p <= o.activation : p >= o.activation) {
        o.activated = true;
        o.extreme = p;
      }
    }
    const trigger = (o: Order) =>
      o.isBuy ? mulDivCeil(o.extreme, ONE + o.callbackPpm, ONE) : mulDivFloor(o.extreme, ONE - o.callbackPpm, ONE);
    // sets in order: sell by last, sell by mark, buy by last, buy by mark; in a set the trigger met
    // first (sell: highest, buy: lowest), then the smaller callback, then the oldest
    for (const [isBuy, byMark] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ]) {
      let best: Order | null = null;
      for (const o of this.stops) {
        if (o.isBuy !== isBuy || (o.workingType === "MARK_PRICE") !== byMark || !o.activated) continue;
        const p = price(o);
        if (p === 0) continue;
        const t = trigger(o);
        if (isBuy ? p < t : p > t) continue;
        if (best === null) best = o;
        else {
          const bt = trigger(best);
          const before =
            (isBuy ? t < bt : t > bt) ||
            (t === bt && (o.callbackPpm < best.callbackPpm || (o.callbackPpm === best.callbackPpm && o.id < best.id)));
          if (before) best = o;
        }
      }
      if (best !== null) {
        this.stops.splice(this.stops.indexOf(best), 1);
        return best;
      }
    }
    return null;
  }
}

describe("matcher trailing stops", () => {
  it("trigger the same stops, in the same order, as the one-stop-at-a-time rule (random stops, prices, removals, snapshots)", () => {
    const step = fc.record({
      kind: fc.integer({ min: 0, max: 9 }),
      isBuy: fc.boolean(),
      byMark: fc.boolean(),
      // activation: at once, or a few ticks around the price
      act: fc.integer({ min: -1, max: 40 }),
      cb: fc.oneof(fc.constantFrom(1_000, 2_000, 5_000, 10_000, 100_000), fc.integer({ min: 1_000, max: 30_000 })),
      move: fc.integer({ min: -30, max: 30 }),
      pick: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400, size: "max" }), (steps) => {
        let fast = new TrailingStops();
        const model = new Model();
        // the fast side's orders are copies: both sides change `activated` and `extreme`
        const twin = new Map<Order, Order>();
        const pool: Order[] = [];
        let nextId = 1;
        let last = 0;
        let mark = 1_000;
        for (const s of steps) {
          if (s.kind <= 3) {
            // a new stop; activation 0 = activated at once with the current price as its extreme
            const ref = s.byMark ? mark : last || mark;
            const activation = s.act < 0 ? 0 : Math.max(1, ref + (s.isBuy ? -s.act : s.act) - 20);
            const m = stop(nextId, s.isBuy, s.byMark, activation, s.cb);
            // orders are pooled: a finished one comes back under a new id (its old nodes must stay dead)
            const reused = pool.pop();
            const f =
              reused !== undefined
                ? reused.init(
                    nextId,
                    acct,
                    0,
                    s.isBuy,
                    "TRAILING_STOP_MARKET",
                    "TRAILING_STOP_MARKET",
                    "IOC",
                    0,
                    1,
                    0,
                    s.byMark ? "MARK_PRICE" : "CONTRACT_PRICE",
                    false,
                    false,
                    0,
                    "",
                    "",
                    0,
                    activation,
                    s.cb,
                    packKinds(
                      "TRAILING_STOP_MARKET",
                      "TRAILING_STOP_MARKET",
                      "IOC",
                      s.byMark ? "MARK_PRICE" : "CONTRACT_PRICE",
                    ),
                  )
                : stop(nextId, s.isBuy, s.byMark, activation, s.cb);
            f.conditional = true;
            nextId++;
            if (activation === 0) {
              m.activated = f.activated = true;
              m.extreme = f.extreme = ref;
            }
            model.stops.push(m);
            twin.set(m, f);
            fast.add(f);
          } else if (s.kind <= 5) {
            if (model.stops.length === 0) continue;
            const m = model.stops.splice(s.pick % model.stops.length, 1)[0];
            const f = twin.get(m) as Order;
            f.conditional = false;
            fast.remove(f);
            pool.push(f);
          } else if (s.kind <= 8) {
            // a price move (last, or mark), then stops triggered until none
            if (s.kind === 8) mark = Math.max(1, mark + s.move);
            else last = Math.max(1, (last || mark) + s.move);
            for (;;) {
              const m = model.next(last, mark);
              const f = fast.next(last, mark);
              expect(f?.id, `triggered at last ${last} mark ${mark}`).to.equal(m?.id);
              if (m === null) break;
              expect((f as Order).extreme).to.equal(m.extreme);
              (f as Order).conditional = false;
              pool.push(f as Order);
            }
          } else {
            // a snapshot: the live stops with their state, loaded into a fresh index
            const orders = fast.orders();
            const expected = [...model.stops].sort((a, b) => a.id - b.id);
            expect(orders.map((o) => [o.id, o.activated, o.activated ? o.extreme : 0])).to.deep.equal(
              expected.map((o) => [o.id, o.activated, o.activated ? o.extreme : 0]),
            );
            fast = new TrailingStops();
            fast.load(orders);
          }
          expect(fast.size).to.equal(model.stops.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("breaks a tie between extremes by callback, then by age", () => {
    // 0.1% under 1,001 and under 1,000 both floor to 999
    const t = new TrailingStops();
    const a = stop(1, false, false, 0, 1_000);
    const b = stop(2, false, false, 0, 1_000);
    const c = stop(3, false, false, 0, 1_001); // floor(1000 * 0.998999) = 998: later
    for (const [o, extreme] of [
      [b, 1_000],
      [c, 1_000],
      [a, 1_001],
    ] as const) {
      o.activated = true;
      o.extreme = extreme;
      t.add(o);
    }
    expect([t.next(999, 999)?.id, t.next(999, 999)?.id, t.next(999, 999)?.id]).to.deep.equal([1, 2, undefined]);
    expect(t.next(998, 998)?.id).to.equal(3);
  });

  it("costs little per price move with 20,000 stops resting, and frees what removed stops held", () => {
    const t = new TrailingStops();
    const os: Order[] = [];
    for (let i = 0; i < 20_000; i++) {
      const o = stop(i + 1, i % 2 === 0, false, 0, 50_000 + (i % 1000));
      o.activated = true;
      o.extreme = 1_000_000;
      os.push(o);
      t.add(o);
    }
    const start = performance.now();
    let triggered = 0;
    for (let k = 0; k < 20_000; k++) if (t.next(1_000_000 + (k % 7) - 3, 1_000_000) !== null) triggered++;
    const ms = performance.now() - start;
    expect(triggered).to.equal(0);
    // a pass over every stop would be 20,000 x 20,000 checks (seconds); allow a slow machine
    expect(ms).to.be.lessThan(1_000);
    for (const o of os) {
      o.conditional = false;
      t.remove(o);
    }
    expect(t.size).to.equal(0);
    expect(t.orders()).to.deep.equal([]);
  });
});
