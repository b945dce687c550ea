import { expect } from "chai";
import { Engine } from "../../matcher/engine/engine";
import type { PlaceCmd } from "../../matcher/engine/types";
import { makeWorkload, resolveWorkload, workloadMarket, WL_TICK } from "../../matcher/engine/workload";

// The benchmark's published workload must do what its description says, or the figures measure
// something else: the first version priced its crossing orders from the mid, and once the touch
// drifted 6 ticks away 99% of them traded nothing.
describe("matcher benchmark workload", () => {
  const RESTING = 2_000;
  const OPS = 30_000;
  const wl = makeWorkload(42, RESTING, OPS);
  const { ids, crossing, crossingTraded } = resolveWorkload(wl, new Engine({ markets: [workloadMarket()] }));

  it("has the published mix (42% limits, 2% reduce-only, 1% stops, 40% cancels, 15% crossing)", () => {
    const n = { limit: 0, ro: 0, stop: 0, cancel: 0, crossing: 0 };
    wl.ops.forEach((c, i) => {
      if (c.type === "cancel") n.cancel++;
      else if (wl.through[i] >= 0) n.crossing++;
      else if ((c as PlaceCmd).orderType === "STOP_MARKET") n.stop++;
      else if ((c as PlaceCmd).reduceOnly) n.ro++;
      else n.limit++;
    });
    const pct = (k: keyof typeof n) => (100 * n[k]) / OPS;
    expect(pct("limit")).to.be.closeTo(42, 1.5);
    expect(pct("ro")).to.be.closeTo(2, 0.5);
    expect(pct("stop")).to.be.closeTo(1, 0.5);
    expect(pct("cancel")).to.be.closeTo(40, 1.5);
    expect(pct("crossing")).to.be.closeTo(15, 1);
  });

  it("prices each crossing order 0-4 ticks through the opposite best at its turn, so it trades", () => {
    // a fresh engine gives the ids the scratch engine gave (determinism), and sees the same book
    const e = new Engine({ markets: [workloadMarket()] });
    for (const c of wl.setup) e.process(c);
    wl.fill.forEach((c, i) => expect(e.process(c).orderId).to.equal(ids[i]));
    e.events.length = 0;
    let seen = 0;
    let traded = 0;
    for (let i = 0; i < OPS; i++) {
      const c = wl.ops[i];
      const through = wl.through[i];
      if (through >= 0) {
        const pc = c as PlaceCmd;
        expect(pc.tif).to.equal("IOC");
        const best = (pc.side === "BUY" ? e.markets[0].asks : e.markets[0].bids).best();
        expect(best, `op ${i}: the opposite side is empty`).to.not.equal(null);
        const bestTicks = (best as { ticks: number }).ticks;
        expect(pc.price).to.equal((pc.side === "BUY" ? bestTicks + through : bestTicks - through) * WL_TICK);
        seen++;
      }
      expect(e.process(c).orderId).to.equal(ids[RESTING + i]);
      if (through >= 0 && e.events.some((ev) => ev.kind === "trade")) traded++;
      e.events.length = 0;
    }
    // only a self-trade (expire-maker against one's own best order, then nothing left) trades nothing
    expect(traded / seen).to.be.greaterThan(0.99);
    expect([seen, traded], "resolveWorkload's counts").to.deep.equal([crossing, crossingTraded]);
  });

  it("names in each cancel an order placed earlier, with its account", () => {
    let cancels = 0;
    wl.ops.forEach((c, i) => {
      if (c.type !== "cancel" || wl.refs[i] < 0) return;
      const r = wl.refs[i];
      const placed = r < RESTING ? wl.fill[r] : (wl.ops[r - RESTING] as PlaceCmd);
      expect(r).to.be.lessThan(RESTING + i);
      expect(c.orderId).to.equal(ids[r]);
      expect(c.account).to.equal(placed.account);
      cancels++;
    });
    expect(cancels).to.be.greaterThan(0.39 * OPS);
  });
});
