// The margin check's health bounds (matcher/risk/margin.ts, "Lower bounds"): each bound against the
// exact health on random inputs, the engine's bound never above its exact health whatever happens, and
// an engine that takes the bound's shortcut deciding every command as the exact check alone decides it.
import { expect } from "chai";
import fc from "fast-check";
import { Engine } from "../../matcher/engine/engine";
import type { Command } from "../../matcher";
import { MarketRiskState, addOrderLb, fillLb, healthOf, removeOrderLb } from "../../matcher/risk/margin";
import { H, accountMarkets, btc, expectCachedHealthExact, lots, px, USD } from "./helpers";

/** Sums of one account market: position, open non-reduce-only buys and sells (lots, Σ lots*ticks). */
interface Sums {
  pos: number;
  buyLots: number;
  buyQP: number;
  sellLots: number;
  sellQP: number;
}
const health = (m: MarketRiskState, s: Sums) => healthOf(m, s.pos, s.buyLots, s.buyQP, s.sellLots, s.sellQP);

const riskArb = fc
  .record({
    lotSize: fc.constantFrom(1, 1_000, 100_000, 1_000_000),
    tickSize: fc.constantFrom(1, 100, 100_000, 10_000_000),
    imfPpm: fc.constantFrom(1, 20_000, 100_000, 333_333, 1_000_000),
    mark: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e12 })),
  })
  .map(({ lotSize, tickSize, imfPpm, mark }) => {
    const m = new MarketRiskState(0, lotSize, tickSize, imfPpm, imfPpm >> 1);
    m.setMark(mark);
    return m;
  });
/** sums whose figures stay far inside the safe range (healthOf is exact there) */
const sumsArb = (m: MarketRiskState) =>
  fc
    .record({
      posLots: fc.integer({ min: -1e6, max: 1e6 }),
      posRem: fc.integer({ min: 0, max: m.lotSize - 1 }),
      buyLots: fc.integer({ min: 0, max: 1e5 }),
      buyTicks: fc.integer({ min: 1, max: 1e4 }),
      sellLots: fc.integer({ min: 0, max: 1e5 }),
      sellTicks: fc.integer({ min: 1, max: 1e4 }),
    })
    .map((r): Sums => ({
      pos: r.posLots * m.lotSize + (r.posLots < 0 ? -r.posRem : r.posRem),
      buyLots: r.buyLots,
      buyQP: r.buyLots * r.buyTicks,
      sellLots: r.sellLots,
      sellQP: r.sellLots * r.sellTicks,
    }));
const caseArb = riskArb.chain((m) =>
  fc.record({
    m: fc.constant(m),
    s: sumsArb(m),
    isBuy: fc.boolean(),
    lots: fc.integer({ min: 1, max: 1e5 }),
    ticks: fc.integer({ min: 1, max: 1e4 }),
  }),
);
/** Whether the case's figures stay inside the range the exact health takes (it throws past 2^53). */
function inRange({ m, s, lots, ticks }: { m: MarketRiskState; s: Sums; lots: number; ticks: number }): boolean {
  const size = Math.abs(s.pos) + (Math.max(s.buyLots, s.sellLots) + lots) * m.lotSize;
  const qp = Math.max(s.buyQP, s.sellQP) + lots * ticks;
  return (size * m.mark) / 1e8 < 1e15 && qp * m.qpNum < 1e15;
}
const withOrder = (s: Sums, isBuy: boolean, lots: number, ticks: number): Sums =>
  isBuy
    ? { ...s, buyLots: s.buyLots + lots, buyQP: s.buyQP + lots * ticks }
    : { ...s, sellLots: s.sellLots + lots, sellQP: s.sellQP + lots * ticks };

describe("matcher risk: health bounds", () => {
  it("adding an order moves health by at least addOrderLb, removing it by at least removeOrderLb", () => {
    fc.assert(
      fc.property(caseArb, ({ m, s, isBuy, lots, ticks }) => {
        fc.pre(inRange({ m, s, lots, ticks }));
        const before = health(m, s);
        const after = health(m, withOrder(s, isBuy, lots, ticks));
        expect(after - before).to.be.at.least(addOrderLb(m, isBuy, lots, ticks));
        expect(before - after).to.be.at.least(removeOrderLb(m, isBuy, lots, ticks));
      }),
      { numRuns: 4000 },
    );
  });

  it("a fill moves health by at least fillLb: a taker's (position only) and a resting order's (position and sums)", () => {
    fc.assert(
      fc.property(caseArb, ({ m, s, isBuy, lots, ticks }) => {
        fc.pre(inRange({ m, s, lots, ticks }));
        const d = lots * m.lotSize * (isBuy ? 1 : -1);
        // taker (its order is not in the sums)
        const before = health(m, s);
        expect(health(m, { ...s, pos: s.pos + d }) - before).to.be.at.least(fillLb(m, isBuy, lots, ticks, false));
        // a resting order of lots at ticks, in the sums, filled (at its price)
        const resting = withOrder(s, isBuy, lots, ticks);
        const filled = { ...s, pos: s.pos + d };
        expect(health(m, filled) - health(m, resting)).to.be.at.least(fillLb(m, isBuy, lots, ticks, true));
      }),
      { numRuns: 4000 },
    );
  });

  it("at the benchmark's scale (1M resting orders' sums) the bounds hold too", () => {
    // notional past 2^31 and Σ lots*ticks near 1e12: the float products are inexact there
    const m = new MarketRiskState(0, 100_000, 100_000, 100_000, 50_000);
    m.setMark(60_000 * 1e6);
    fc.assert(
      fc.property(
        fc.integer({ min: -1e7, max: 1e7 }),
        fc.integer({ min: 0, max: 1e7 }),
        fc.integer({ min: 0, max: 1e7 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 590_000, max: 610_000 }),
        (posLots, buyLots, sellLots, isBuy, n, ticks) => {
          const s = {
            pos: posLots * m.lotSize,
            buyLots,
            buyQP: buyLots * 598_000,
            sellLots,
            sellQP: sellLots * 602_000,
          };
          const before = health(m, s);
          const after = health(m, withOrder(s, isBuy, n, ticks));
          expect(after - before).to.be.at.least(addOrderLb(m, isBuy, n, ticks));
          expect(before - after).to.be.at.least(removeOrderLb(m, isBuy, n, ticks));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// Accounts with little collateral against big orders, so that margin checks fall on both sides of the
// line; marks that move; and the chain's commands that move positions and cash.
const MARKETS = [btc(), btc({ id: 2, symbol: "ETHUSD" })];
const ACCOUNTS = ["A", "B", "C", "D"];
const commandArb: fc.Arbitrary<Omit<Command, "ts">> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      type: fc.constant("place" as const),
      account: fc.constantFrom(...ACCOUNTS),
      market: fc.constantFrom(1, 2),
      side: fc.constantFrom("BUY" as const, "SELL" as const),
      orderType: fc.constant("LIMIT" as const),
      tif: fc.constantFrom("GTC" as const, "GTC" as const, "IOC" as const, "FOK" as const, "GTX" as const),
      price: fc.integer({ min: 59_000, max: 61_000 }).map((usd) => px(usd)),
      qty: fc.integer({ min: 1, max: 400 }).map(lots),
      reduceOnly: fc.constantFrom(undefined, undefined, undefined, true),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("place" as const),
      account: fc.constantFrom(...ACCOUNTS),
      market: fc.constantFrom(1, 2),
      side: fc.constantFrom("BUY" as const, "SELL" as const),
      orderType: fc.constant("MARKET" as const),
      qty: fc.integer({ min: 1, max: 200 }).map(lots),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant("cancel" as const),
      account: fc.constantFrom(...ACCOUNTS),
      market: fc.constantFrom(1, 2),
      orderId: fc.integer({ min: 1, max: 120 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("mark" as const),
      market: fc.constantFrom(1, 2),
      price: fc.integer({ min: 58_500, max: 61_500 }).map((usd) => px(usd)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("balance" as const),
      account: fc.constantFrom(...ACCOUNTS),
      delta: fc.integer({ min: -2_000, max: 4_000 }).map((usd) => usd * USD),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("funding" as const),
      market: fc.constantFrom(1, 2),
      indexDelta: fc.integer({ min: -50, max: 50 }).map((usd) => usd * USD),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("liquidation" as const),
      account: fc.constantFrom(...ACCOUNTS),
      market: fc.constantFrom(1, 2),
      sizeDelta: fc.integer({ min: -20, max: 20 }).map(lots),
      cashDelta: fc.integer({ min: -1_000, max: 1_000 }).map((usd) => usd * USD),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("settlement" as const),
      tradeId: fc.integer({ min: 1, max: 60 }),
      ok: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("withdraw" as const),
      account: fc.constantFrom(...ACCOUNTS),
      amount: fc.integer({ min: 1, max: 1_000 }).map((usd) => usd * USD),
      withdrawalId: fc.integer({ min: 1, max: 1e9 }).map(String),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("cancelAll" as const),
      account: fc.constantFrom(...ACCOUNTS),
      market: fc.constantFrom(1, 2),
    }),
  },
);
const workloadArb = fc.array(commandArb, { minLength: 50, maxLength: 400 }).map((cs): Command[] => {
  const setup: Command[] = [
    { type: "mark", ts: 1, market: 1, price: px(60_000) },
    { type: "mark", ts: 1, market: 2, price: px(60_000) },
  ];
  ACCOUNTS.forEach((a, i) => setup.push({ type: "balance", ts: 1, account: a, delta: (500 + 1_500 * i) * USD }));
  return [...setup, ...cs.map((c, i) => ({ ...c, ts: 2 + i }) as Command)];
});

/** The engine's margin checks, counted: all of them, and those that took the exact path. */
function counted(e: Engine): { checks: number; exact: number } {
  const n = { checks: 0, exact: 0 };
  const inner = e as unknown as Record<"marginCheck" | "exactMarginCheck", (...a: unknown[]) => boolean>;
  const check = inner.marginCheck;
  const exact = inner.exactMarginCheck;
  inner.marginCheck = function (this: unknown, ...a: unknown[]) {
    n.checks++;
    return check.apply(this, a);
  };
  inner.exactMarginCheck = function (this: unknown, ...a: unknown[]) {
    n.exact++;
    return exact.apply(this, a);
  };
  return n;
}

describe("matcher engine: health bounds in the margin check", () => {
  it("an account market's bound is never above its exact health, and its cached health is exact, after any command (random workloads)", () => {
    let bounded = 0;
    let cached = 0;
    fc.assert(
      fc.property(workloadArb, (cmds) => {
        const e = new Engine({ markets: MARKETS });
        for (const c of cmds) {
          e.process(c);
          e.events.length = 0;
          for (const { am, risk, label } of accountMarkets(e)) {
            const at = `${label} after ${JSON.stringify(c)}`;
            if (expectCachedHealthExact(risk, am, at)) cached++;
            if (am.lbVersion !== risk.markVersion) continue;
            bounded++;
            expect(am.lb, at).to.be.at.most(health(risk, am));
          }
        }
      }),
      { numRuns: 150 },
    );
    expect(bounded).to.be.greaterThan(10_000);
    expect(cached).to.be.greaterThan(1_000);
  });

  it("an exact check kept from an earlier order does not pass for a later one's (its terms would be stored for other sums)", () => {
    // An exact check (for an IOC that rests nothing) is kept; the account's cached terms are then
    // computed for other sums (a resting sell, and a withdrawal's free-collateral check), the sell is
    // cancelled, and a buy of the same lots at the same price passes on the bound: the kept check
    // matches its sums, but the cached sell term is the other sums' one.
    const h = new H([btc()], { A: 30 * USD });
    const buy = { account: "A", side: "BUY" as const, price: px(59_000), qty: lots(1) };
    const am = () => h.e.accounts.get("A")!.markets[0]!;
    const count = counted(h.e);
    h.place({ ...buy, price: px(55_000) }); // rests throughout: the account's market is never empty, so it holds a bound
    for (let i = 0; i < 2; i++) {
      const id = h.place(buy).orderId; // each place and cancel takes the bound further below the health
      h.cancel("A", id);
    }
    expect(count.exact).to.equal(0);
    h.place({ ...buy, tif: "IOC" }); // no asks: expires, and its check was the exact one
    expect(count.exact).to.equal(1);
    const sell = h.place({ account: "A", side: "SELL", price: px(61_000), qty: lots(1) }).orderId;
    h.run({ type: "withdraw", ts: h.ts, account: "A", amount: USD, withdrawalId: "w1" }); // computes the terms
    h.cancel("A", sell);
    h.place(buy);
    expect(count.exact).to.equal(1);
    expectCachedHealthExact(h.e.markets[0].risk, am(), "after the last buy");
  });

  it("decides every command as the exact check alone does: the same acks and events (random workloads)", () => {
    const total = { checks: 0, exact: 0, rejected: 0 };
    fc.assert(
      fc.property(workloadArb, (cmds) => {
        const e = new Engine({ markets: MARKETS });
        const n = counted(e);
        const exactOnly = new Engine({ markets: MARKETS });
        const inner = exactOnly as unknown as Record<"marginCheck" | "exactMarginCheck", unknown>;
        inner.marginCheck = inner.exactMarginCheck;
        for (const c of cmds) {
          const ack = e.process(c);
          const want = exactOnly.process(c);
          expect(ack, JSON.stringify(c)).to.deep.equal(want);
          expect(e.events, JSON.stringify(c)).to.deep.equal(exactOnly.events);
          if (ack.reason === "INSUFFICIENT_MARGIN") total.rejected++;
          e.events.length = 0;
          exactOnly.events.length = 0;
        }
        total.checks += n.checks;
        total.exact += n.exact;
      }),
      { numRuns: 150 },
    );
    // both paths taken, and checks that fail: the workloads reach the line
    expect(total.exact).to.be.greaterThan(0.05 * total.checks);
    expect(total.checks - total.exact).to.be.greaterThan(0.3 * total.checks);
    expect(total.rejected).to.be.greaterThan(100);
  });
});
