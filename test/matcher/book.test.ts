import { expect } from "chai";
import { Account } from "../../matcher/engine/account";
import { BookSide, Order } from "../../matcher/engine/book";
import { IdIndex } from "../../matcher/engine/idIndex";
import { limitOrder } from "./helpers";
import { Rng } from "../../matcher/engine/workload";

describe("matcher book side", () => {
  for (const isBuy of [true, false]) {
    it(`keeps thousands of levels sorted through mid-book inserts, chunk splits and empty-level passes (${isBuy ? "bids" : "asks"})`, () => {
      const index = new IdIndex<Order>();
      const side = new BookSide(isBuy, index);
      const acct = new Account("a");
      const rng = new Rng(11);
      const byTicks = new Map<number, Order>(); // one order per level
      const live: Order[] = [];
      let id = 1;
      const check = () => {
        const want = [...byTicks.keys()].sort((a, b) => (isBuy ? a - b : b - a));
        expect(side.sorted.filter((l) => l.count > 0).map((l) => l.ticks)).to.deep.equal(want);
        expect(side.best()?.ticks).to.equal(want[want.length - 1]);
        expect([...side.fromBest()].filter((l) => l.count > 0).map((l) => l.ticks)).to.deep.equal([...want].reverse());
        // levelFromBest(d) is fromBest's d-th level (across chunks), null past the last
        const all = [...side.fromBest()];
        for (let d = 0; d < all.length; d += 1 + (d % 97)) expect(side.levelFromBest(d)).to.equal(all[d]);
        expect(side.levelFromBest(all.length)).to.equal(null);
      };
      for (let step = 0; step < 40_000; step++) {
        // first mostly adds at random prices (inserts all over the book: chunks fill and split), then
        // more removals than adds (emptied levels below the best pile up until a pass drops them)
        const adding = step < 20_000 ? rng.int(100) < 85 : rng.int(100) < 40;
        if (adding) {
          const ticks = 1 + rng.int(30_000);
          if (byTicks.has(ticks)) continue;
          const n = limitOrder(id++, acct, isBuy, ticks, 1);
          index.set(n.id, n);
          side.add(n);
          byTicks.set(ticks, n);
          live.push(n);
        } else if (live.length > 0) {
          // any level, the best among them now and then
          const k =
            rng.int(10) === 0
              ? live.indexOf(byTicks.get((side.best() as { ticks: number }).ticks) as Order)
              : rng.int(live.length);
          const victim = live[k];
          live[k] = live[live.length - 1];
          live.pop();
          side.remove(victim);
          index.delete(victim.id);
          byTicks.delete(victim.ticks);
        }
        if (step % 2_000 === 0) check();
      }
      check();
      expect(byTicks.size).to.be.greaterThan(1_000); // the book stayed big through the second phase
    });

    it(`keeps levels sorted, best last, through emptying, reuse and purge of levels (${isBuy ? "bids" : "asks"})`, () => {
      const index = new IdIndex<Order>();
      const side = new BookSide(isBuy, index);
      const acct = new Account("a");
      const rng = new Rng(7);
      const live: Order[] = [];
      const qty = new Map<number, number>(); // reference: ticks -> open lots
      let id = 1;
      for (let step = 0; step < 24_000; step++) {
        // wide price range first (many levels: purge), then narrow (reuse of emptied levels)
        const span = step < 12_000 ? 20_000 : 50;
        if (live.length === 0 || rng.int(100) < 52) {
          const ticks = 1_000 + rng.int(span);
          const lots = 1 + rng.int(5);
          const o = limitOrder(id++, acct, isBuy, ticks, lots);
          index.set(o.id, o);
          side.add(o);
          live.push(o);
          qty.set(ticks, (qty.get(ticks) ?? 0) + lots);
        } else {
          const k = rng.int(live.length);
          const o = live[k];
          live[k] = live[live.length - 1];
          live.pop();
          side.remove(o);
          index.delete(o.id); // a removed order is finished (the engine unregisters it at once)
          const q = (qty.get(o.ticks) as number) - o.remaining;
          if (q === 0) qty.delete(o.ticks);
          else qty.set(o.ticks, q);
        }
        if (step % 499 === 0 || step === 23_999) {
          const want = [...qty.keys()].sort((a, b) => (isBuy ? a - b : b - a));
          // empty levels may stay listed below the best (count 0): all listed levels in order, best not empty
          const ticks = side.sorted.map((l) => l.ticks);
          expect(ticks).to.deep.equal([...ticks].sort((a, b) => (isBuy ? a - b : b - a)));
          expect(new Set(ticks).size).to.equal(ticks.length);
          if (side.sorted.length > 0) expect(side.sorted[side.sorted.length - 1].count).to.be.greaterThan(0);
          const listed = side.sorted.filter((l) => l.count > 0);
          expect(listed.map((l) => l.ticks)).to.deep.equal(want);
          expect(side.sorted.length - listed.length).to.be.at.most(Math.max(64, listed.length) + 1);
          for (const l of side.sorted) expect(side.levels.get(l.ticks)).to.equal(l);
          for (const l of listed) {
            expect(l.qty).to.equal(qty.get(l.ticks));
            expect(side.levels.get(l.ticks)).to.equal(l);
          }
          for (const l of side.levels.values())
            if (!qty.has(l.ticks)) expect([l.count, l.qty, l.front()]).to.deep.equal([0, 0, null]);
          expect(side.best()?.ticks).to.equal(want[want.length - 1]);
        }
      }
      expect(side.levels.size).to.be.lessThan(4 * 4096);
    });
  }
});
