// Property tests of the book's lazy-deletion structures against naive models: price levels as
// queues of order ids (dead ids skipped and compacted), an account's lazily compacted id list, and
// the conditional-order trigger lists (buckets of ids per trigger price).
import { expect } from "chai";
import fc from "fast-check";
import { Account } from "../../matcher/engine/account";
import { BookSide, Order, TriggerList } from "../../matcher/engine/book";
import { IdIndex } from "../../matcher/engine/idIndex";
import { limitOrder } from "./helpers";

interface Op {
  kind: number; // 0-4: add, 5-7: cancel, 8-9: match against the best level
  ticks: number;
  lots: number;
  pick: number;
}

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.integer({ min: 0, max: 9 }),
  ticks: fc.integer({ min: 100, max: 104 }),
  lots: fc.integer({ min: 1, max: 6 }),
  pick: fc.nat(),
});

describe("matcher book: level queues and account lists with lazy deletion equal naive models", () => {
  for (const isBuy of [true, false]) {
    it(`random add / cancel / match sequences give the same fills and book (${isBuy ? "bids" : "asks"})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 800, size: "max" }), (ops) => {
          const index = new IdIndex<Order>();
          const side = new BookSide(isBuy, index);
          const acct = new Account("a");
          // model: price -> FIFO of [id, lots left]; fills as [maker id, lots]
          const model = new Map<number, [number, number][]>();
          const live: Order[] = [];
          const fills: [number, number][] = [];
          const modelFills: [number, number][] = [];
          let id = 1;
          const finish = (o: Order) => {
            side.remove(o);
            index.delete(o.id); // the engine unregisters a finished order in the same step
            acct.removeOrder();
            live.splice(live.indexOf(o), 1);
          };
          for (const s of ops) {
            if (s.kind <= 4) {
              const o = limitOrder(id++, acct, isBuy, s.ticks, s.lots);
              index.set(o.id, o);
              acct.addOrder(o.id, index);
              side.add(o);
              live.push(o);
              const q = model.get(o.ticks);
              if (q) q.push([o.id, o.lots]);
              else model.set(o.ticks, [[o.id, o.lots]]);
              // dead entries stay bounded (dropped when they outnumber the live ones)
              const l = o.level as NonNullable<Order["level"]>;
              expect(l.end - l.first).to.be.at.most(2 * l.count + 17);
              expect(acct.nIds).to.be.at.most(2 * acct.orderCount + 33);
            } else if (s.kind <= 7) {
              if (live.length === 0) continue;
              const o = live[s.pick % live.length];
              const q = model.get(o.ticks) as [number, number][];
              q.splice(
                q.findIndex(([i]) => i === o.id),
                1,
              );
              if (q.length === 0) model.delete(o.ticks);
              finish(o);
            } else {
              // a taker of s.lots against the best levels, price-time order
              let want = s.lots;
              for (const p of [...model.keys()].sort((a, b) => (isBuy ? b - a : a - b))) {
                const q = model.get(p) as [number, number][];
                while (want > 0 && q.length > 0) {
                  const take = Math.min(want, q[0][1]);
                  modelFills.push([q[0][0], take]);
                  want -= take;
                  q[0][1] -= take;
                  if (q[0][1] === 0) q.shift();
                }
                if (q.length === 0) model.delete(p);
                if (want === 0) break;
              }
              want = s.lots;
              while (want > 0) {
                const lvl = side.best();
                if (lvl === null) break;
                const mk = lvl.front() as Order;
                const take = Math.min(want, mk.remaining);
                fills.push([mk.id, take]);
                want -= take;
                mk.remaining -= take;
                lvl.qty -= take;
                if (mk.remaining === 0) finish(mk);
              }
            }
            // the book equals the model
            const prices = [...model.keys()].sort((a, b) => (isBuy ? a - b : b - a));
            const listed = side.sorted.filter((l) => l.count > 0); // emptied levels may stay listed
            expect(listed.map((l) => l.ticks)).to.deep.equal(prices);
            expect(side.best()?.ticks).to.equal(prices[prices.length - 1]);
            for (const l of listed) {
              const q = model.get(l.ticks) as [number, number][];
              expect(l.orders().map((o) => [o.id, o.remaining])).to.deep.equal(q);
              expect(l.count).to.equal(q.length);
              expect(l.qty).to.equal(q.reduce((a, [, r]) => a + r, 0));
              expect(l.front()?.id).to.equal(q[0][0]);
            }
            // the account's live ids, in placement order
            expect(acct.orderCount).to.equal(live.length);
            const ids = acct.orderIds.slice(0, acct.nIds).filter((i) => index.get(i) !== undefined);
            expect(ids).to.deep.equal(live.map((o) => o.id).sort((a, b) => a - b));
          }
          expect(fills).to.deep.equal(modelFills);
        }),
        { numRuns: 60 },
      );
    });
  }

  for (const up of [true, false]) {
    it(`trigger list: random insert / cancel / trigger give the old sorted-array order (${up ? "up" : "down"})`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({ kind: fc.integer({ min: 0, max: 9 }), stop: fc.integer({ min: 1, max: 6 }), pick: fc.nat() }),
            {
              minLength: 1,
              maxLength: 600,
              size: "max",
            },
          ),
          (ops) => {
            const index = new IdIndex<Order>();
            const list = new TriggerList(up, index);
            const acct = new Account("a");
            // model: the previous implementation, one array sorted by key (next to trigger last,
            // equal keys: newer first), spliced on insert and remove
            const model: Order[] = [];
            const key = (o: Order) => (up ? -o.stopPrice : o.stopPrice);
            let id = 1;
            for (const s of ops) {
              if (s.kind < 5) {
                const o = limitOrder(id++, acct, up, 0, 1);
                o.stopPrice = s.stop;
                o.conditional = true;
                index.set(o.id, o);
                list.insert(o);
                let lo = 0;
                while (lo < model.length && key(model[lo]) < key(o)) lo++;
                model.splice(lo, 0, o);
              } else if (s.kind < 8) {
                if (model.length === 0) continue;
                const o = model.splice(s.pick % model.length, 1)[0];
                o.conditional = false; // as the engine's closeOrder
                expect(list.remove(o)).to.equal(true);
                index.delete(o.id);
              } else {
                const price = s.stop;
                for (;;) {
                  const got = list.popTriggered(price);
                  const last = model[model.length - 1];
                  const want =
                    last !== undefined && (up ? price >= last.stopPrice : price <= last.stopPrice) ? last : null;
                  expect(got?.id ?? null).to.equal(want?.id ?? null);
                  if (want === null) break;
                  model.pop();
                  want.conditional = false; // as activate()
                  index.delete(want.id);
                }
              }
              expect(list.items.map((o) => o.id)).to.deep.equal(model.map((o) => o.id));
            }
            // a snapshot round trip keeps the order
            const copy = new TriggerList(up, index);
            copy.load(list.items);
            expect(copy.items.map((o) => o.id)).to.deep.equal(model.map((o) => o.id));
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it("order index: random placements and removals equal a Map (get and has); memory follows the live orders", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            add: fc.integer({ min: 0, max: 2 }),
            pick: fc.nat(),
            // dense runs and wide gaps: the ring's window moves and leaves old orders behind
            gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3000 })),
          }),
          { minLength: 1, maxLength: 400, size: "max" },
        ),
        (ops) => {
          const index = new IdIndex<Order>(32); // the smallest ring 32 slots: it grows, shrinks and moves often
          const model = new Map<number, Order>();
          const acct = new Account("a");
          let next = 1;
          for (const s of ops) {
            if (s.add > 0 || model.size === 0) {
              next += s.gap; // ids increase, with gaps (rejected orders take no id here, but any gap must work)
              const o = limitOrder(next, acct, true, 1, 1);
              index.set(next, o);
              model.set(next, o);
            } else {
              const ids = [...model.keys()];
              const id = ids[s.pick % ids.length];
              index.delete(id);
              index.delete(id); // twice: no effect
              model.delete(id);
            }
            expect(index.size).to.equal(model.size);
            for (const [id, o] of model) expect(index.get(id)).to.equal(o);
            // has() (the ring's bits) agrees with the model on each live id, its neighbours (other bits of
            // the same word, other words) and ids a ring or more apart (the same slot)
            for (const id of model.keys())
              for (const x of [
                id - 4096,
                id - 64,
                id - 33,
                id - 32,
                id - 1,
                id,
                id + 1,
                id + 31,
                id + 32,
                id + 64,
                id + 4096,
              ])
                expect(index.has(x), `has ${x}`).to.equal(model.has(x));
            for (const x of [0.5, -5, Number.NaN, 2 ** 40]) expect(index.has(x)).to.equal(false);
            // a live id as a string is not that id (no coercion), and deleting it deletes nothing
            for (const id of model.keys()) {
              const str = String(id) as unknown as number;
              expect([index.get(str), index.has(str)]).to.deep.equal([undefined, false]);
              index.delete(str);
              expect(index.get(id)).to.equal(model.get(id));
            }
            expect(index.get(next + 1)).to.equal(undefined);
            expect(index.get(0.5)).to.equal(undefined);
            expect(index.get(-5)).to.equal(undefined);
            expect(index.get(Number.NaN)).to.equal(undefined);
            expect([...index.values()]).to.deep.equal(
              [...model.keys()].sort((a, b) => a - b).map((id) => model.get(id)),
            );
            // memory follows the live orders: at most 32 slots each, or the smallest ring
            expect(index.slotsHeld).to.be.at.most(32 + 33 * model.size + 8);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("order index: growing past the smallest ring, mass removal and wide gaps keep get, has and values equal to a Map", () => {
    const index = new IdIndex<Order>();
    const model = new Map<number, Order>();
    const acct = new Account("a");
    let seed = 1;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const check = () => {
      expect(index.size).to.equal(model.size);
      for (const [id, o] of model) expect([index.get(id), index.has(id)]).to.deep.equal([o, true]);
      expect([...index.values()].map((o) => o.id)).to.deep.equal([...model.keys()].sort((a, b) => a - b));
      expect(index.slotsHeld).to.be.at.most(4096 + 33 * model.size);
    };
    let next = 1;
    const add = (n: number, gap: number) => {
      for (let k = 0; k < n; k++, next += gap) {
        const o = limitOrder(next, acct, true, 1, 1);
        index.set(next, o);
        model.set(next, o);
      }
    };
    const remove = (fraction: number) => {
      for (const id of [...model.keys()])
        if (rnd(1000) < fraction * 1000) {
          index.delete(id);
          model.delete(id);
          expect(index.has(id)).to.equal(false);
        }
    };
    add(20_000, 1); // dense: the ring grows to 32,768 slots
    check();
    expect(index.slotsHeld).to.equal(32_768);
    remove(0.97); // sparse: it shrinks at removals
    check();
    add(5_000, 7); // the window moves up: the old survivors go to the Map
    check();
    remove(0.5); // removals from the Map and the ring
    check();
    add(30_000, 1);
    remove(1); // everything: the smallest ring
    check();
    expect(index.slotsHeld).to.equal(4096);
    add(10, 1_000_000); // nothing held: the window starts at the next id, wherever it is
    check();
    expect(() => index.set(5, limitOrder(5, acct, true, 1, 1))).to.throw(RangeError);
    expect(() => index.set(next + 0.5, limitOrder(5, acct, true, 1, 1))).to.throw(RangeError);
    check();
  });

  it("order index: a ring that shrinks while its window wraps past the ring's end keeps each id", () => {
    const index = new IdIndex<Order>(32);
    const acct = new Account("a");
    for (let id = 1; id <= 516; id++) index.set(id, limitOrder(id, acct, true, 1, 1));
    // removing in id order shrinks the ring twice: 1,024 -> 256 slots with the window [261, 517), then
    // 256 -> 64 with ids 510, 511 at the old ring's last offsets and 512..516 at its first
    for (let id = 1; id < 510; id++) index.delete(id);
    expect(index.slotsHeld).to.equal(64);
    for (let id = 1; id <= 516; id++) {
      expect(index.get(id)?.id, `get ${id}`).to.equal(id >= 510 ? id : undefined);
      expect(index.has(id), `has ${id}`).to.equal(id >= 510);
    }
  });

  it("order index: a long run with one old resting order holds the smallest ring and that order, not one slot per id ever given", () => {
    const index = new IdIndex<Order>();
    const acct = new Account("a");
    index.set(1, limitOrder(1, acct, true, 1, 1)); // rests for the whole run
    for (let id = 2; id < 1_000_000; id++) {
      index.set(id, limitOrder(id, acct, true, 1, 1));
      if (id > 2) index.delete(id - 1);
    }
    expect(index.size).to.equal(2);
    expect(index.slotsHeld).to.equal(4096 + 1);
    expect(index.get(1)?.id).to.equal(1);
  });
});
