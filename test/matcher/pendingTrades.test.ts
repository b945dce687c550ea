import { expect } from "chai";
import fc from "fast-check";
import { PendingTrades, type PendingTrade } from "../../matcher/engine/pendingTrades";

/** A trade of id `id` with every field different (big values too: quote units reach 2^53). */
function tradeOf(id: number, salt: number): PendingTrade {
  return {
    market: 1 + (salt % 7),
    tradeId: id,
    qty: 100_000 * (1 + (salt % 13)),
    buyerPays: 2 ** 52 + salt * 3,
    sellerGets: 2 ** 52 - salt * 5,
    takerSide: salt % 2 === 0 ? "BUY" : "SELL",
    makerAccount: `0xmaker${salt % 11}`,
    takerAccount: `0xtaker${salt % 17}`,
    makerFee: -(salt % 9), // a rebate
    takerFee: salt * 7,
  };
}

const HOSTILE = [0.5, -1, -4096, Number.NaN, Infinity, 2 ** 53, 2 ** 60, "1", null, undefined] as unknown as number[];

describe("matcher pending trades", () => {
  it("random trades and settlements (any order, ids with gaps) equal a Map; hostile ids read as absent; memory follows the live trades", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ add: fc.integer({ min: 0, max: 2 }), pick: fc.nat(), gap: fc.integer({ min: 1, max: 5000 }) }),
          { minLength: 1, maxLength: 300 },
        ),
        (ops) => {
          const store = new PendingTrades();
          const model = new Map<number, PendingTrade>();
          let next = 0;
          for (const [k, s] of ops.entries()) {
            if (s.add > 0 || model.size === 0) {
              next += s.gap;
              const t = tradeOf(next, k);
              store.addTrade(t);
              model.set(next, t);
            } else {
              const ids = [...model.keys()];
              const id = ids[s.pick % ids.length];
              store.delete(id);
              store.delete(id); // twice: no effect
              model.delete(id);
            }
            expect(store.size).to.equal(model.size);
            for (const [id, t] of model) expect(store.get(id)).to.deep.equal(t);
            for (const id of model.keys())
              for (const x of [id - 4096, id - 1, id + 1, id + 4096])
                expect(store.has(x), `has ${x}`).to.equal(model.has(x));
            for (const bad of [...HOSTILE, ...[...model.keys()].map(String)] as unknown as number[]) {
              expect([store.get(bad), store.has(bad)]).to.deep.equal([undefined, false]);
              store.delete(bad);
            }
            expect(store.size).to.equal(model.size); // the hostile deletes deleted nothing
            expect(store.values()).to.deep.equal([...model.keys()].sort((a, b) => a - b).map((id) => model.get(id)));
            expect(store.pagesHeld).to.equal(new Set([...model.keys()].map((id) => Math.floor(id / 4096))).size);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a trade settled and its id given again (a restored snapshot) holds the new values", () => {
    const store = new PendingTrades();
    store.addTrade(tradeOf(9, 1));
    store.addTrade(tradeOf(9, 2));
    expect(store.size).to.equal(1);
    expect(store.get(9)).to.deep.equal(tradeOf(9, 2));
  });

  it("refuses to add under an id that is not a safe non-negative integer", () => {
    const store = new PendingTrades();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53])
      expect(() => store.addTrade(tradeOf(bad, 1))).to.throw(RangeError);
    expect(store.size).to.equal(0);
  });
});
