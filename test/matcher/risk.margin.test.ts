import { expect } from "chai";
import fc from "fast-check";
import {
  equity,
  freeCollateral,
  initialRequirement,
  maintenanceRequirement,
  type AccountState,
} from "../../sdk/margin";
import { divCeil, divFloor, notionalCeil, positionValue } from "../../sdk/units";
import { divCeilN, divFloorN, mulDivCeil, mulDivFloor } from "../../matcher/risk/fastmath";
import {
  AccountMarket,
  MarketRiskState,
  healthOf,
  healthWithSideTerm,
  maintenanceTerm,
  marketHealth,
  sideTermWithOrder,
} from "../../matcher/risk/margin";

const safe = (n: bigint) => n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= -BigInt(Number.MAX_SAFE_INTEGER);

describe("matcher risk: number arithmetic equals sdk/margin (bigint)", () => {
  it("mulDivFloor / mulDivCeil are exact against bigint", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: -1e9, max: 1e12 }),
        fc.constantFrom(1, 7, 1_000_000, 100_000_000, 3_000_000_007),
        (a, b, d) => {
          const p = BigInt(a) * BigInt(b);
          const f = divFloor(p, BigInt(d));
          const c = divCeil(p, BigInt(d));
          if (safe(f)) expect(mulDivFloor(a, b, d)).to.equal(Number(f));
          if (safe(c)) expect(mulDivCeil(a, b, d)).to.equal(Number(c));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("mulDivFloor / mulDivCeil stay exact when |a| is near 2^53 (regression: a = 2^53 - 3, b = 2, d = 7)", () => {
    const a = 9007199254740989;
    expect(mulDivCeil(a, 2, 7)).to.equal(2573485501354569);
    expect(mulDivFloor(-a, 2, 7)).to.equal(-2573485501354569);
    expect(mulDivFloor(a, 2, 7)).to.equal(2573485501354568);
  });

  it("divFloorN / divCeilN are exact against bigint over the whole safe range (divFloorN never -0)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: -1e6, max: 1e6 }),
          fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 0),
        ),
        fc.oneof(
          fc.constantFrom(1, 2, 3, 7, 1_000_000, 100_000_000, 3_000_000_007, Number.MAX_SAFE_INTEGER),
          fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        ),
        (p, d) => {
          const f = divFloorN(p, d);
          const c = divCeilN(p, d);
          expect(f).to.equal(Number(divFloor(BigInt(p), BigInt(d))));
          expect(c).to.equal(Number(divCeil(BigInt(p), BigInt(d))));
          expect(Object.is(f, -0)).to.equal(false);
        },
      ),
      { numRuns: 20000 },
    );
    expect(Object.is(divFloorN(-0, 5), 0)).to.equal(true);
  });

  const market = fc.record({
    lotSize: fc.constantFrom(1, 1_000, 100_000, 1_000_000, 123_457),
    tickSize: fc.constantFrom(1, 10_000, 100_000, 1_000_000, 999_999),
    // any ppm, and round ones (their reduced fraction imf/RATE_ONE is small: 100,000 -> 1/10)
    imf: fc.oneof(
      fc.integer({ min: 10_001, max: 1_000_000 }),
      fc.constantFrom(20_000, 50_000, 100_000, 200_000, 1_000_000),
    ),
    mmf: fc.integer({ min: 1, max: 10_000 }),
    mark: fc.integer({ min: 1, max: 200_000_000_000 }),
  });

  it("position value, notional and requirement equal sdk for random sizes and marks", () => {
    fc.assert(
      fc.property(market, fc.integer({ min: -1e13, max: 1e13 }), (m, size) => {
        const r = new MarketRiskState(0, m.lotSize, m.tickSize, m.imf, m.mmf);
        r.setMark(m.mark);
        // the engine's domain: every amount is a safe integer (positions worth < 9e9 USD)
        const notional = notionalCeil(BigInt(size), BigInt(m.mark));
        if (!safe(notional * BigInt(m.imf))) {
          if (!safe(notional)) expect(() => r.value(size)).to.throw(RangeError);
          return;
        }
        expect(r.value(size)).to.equal(Number(positionValue(BigInt(size), BigInt(m.mark))));
        expect(r.notional(size)).to.equal(Number(notionalCeil(BigInt(size), BigInt(m.mark))));
        const acct: AccountState = { cash: 0n, positions: new Map([[7, BigInt(size)]]) };
        const marks = new Map([[7, BigInt(m.mark)]]);
        const risks = new Map([[7, { imfPpm: BigInt(m.imf), mmfPpm: BigInt(m.mmf) }]]);
        expect(r.requirement(size, m.imf)).to.equal(Number(initialRequirement(acct, marks, risks)));
        expect(maintenanceTerm(r, size)).to.equal(
          Number(equity(acct, marks) - maintenanceRequirement(acct, marks, risks)),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it("open-order health equals sdk freeCollateral of the worst-case account (orders filled at their prices)", () => {
    fc.assert(
      fc.property(
        market,
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1_000_000 })), {
          maxLength: 6,
        }),
        fc.integer({ min: -1e13, max: 1e13 }),
        (m, cash, posLots, orders, extraSize) => {
          const r = new MarketRiskState(0, m.lotSize, m.tickSize, m.imf, m.mmf);
          r.setMark(m.mark);
          const pos = posLots * m.lotSize + (extraSize % m.lotSize);
          let bl = 0,
            bqp = 0,
            sl = 0,
            sqp = 0;
          for (const [buy, q, t] of orders) {
            if (buy) {
              bl += q;
              bqp += q * t;
            } else {
              sl += q;
              sqp += q * t;
            }
          }
          const big = BigInt(Math.abs(pos) + Math.max(bl, sl) * m.lotSize) * BigInt(m.mark);
          if (
            !safe(big / 100_000_000n) ||
            !safe((BigInt(bqp + sqp) * BigInt(m.lotSize) * BigInt(m.tickSize)) / 100_000_000n)
          )
            return;
          const h = healthOf(r, pos, bl, bqp, sl, sqp);
          // reference: sdk freeCollateral of the three scenarios, minimum
          const marks = new Map([[7, BigInt(m.mark)]]);
          const risks = new Map([[7, { imfPpm: BigInt(m.imf), mmfPpm: BigInt(m.mmf) }]]);
          const S1 = 100_000_000n;
          const C = BigInt(m.lotSize) * BigInt(m.tickSize);
          const fcOf = (size: bigint, cashEff: bigint) =>
            freeCollateral({ cash: BigInt(cash) + cashEff, positions: new Map([[7, size]]) }, marks, risks);
          let ref = fcOf(BigInt(pos), 0n);
          if (bl > 0) {
            const v = fcOf(BigInt(pos) + BigInt(bl) * BigInt(m.lotSize), -divCeil(BigInt(bqp) * C, S1));
            if (v < ref) ref = v;
          }
          if (sl > 0) {
            const v = fcOf(BigInt(pos) - BigInt(sl) * BigInt(m.lotSize), divFloor(BigInt(sqp) * C, S1));
            if (v < ref) ref = v;
          }
          if (safe(ref)) expect(cash + h).to.equal(Number(ref));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("the margin check's health with one more order (cached terms, one term recomputed) equals healthOf of the new sums", () => {
    fc.assert(
      fc.property(
        market,
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1_000_000 })), {
          maxLength: 6,
        }),
        fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1_000_000 })),
        (m, posLots, orders, [isBuy, lots, ticks]) => {
          const r = new MarketRiskState(0, m.lotSize, m.tickSize, m.imf, m.mmf);
          r.setMark(m.mark);
          const am = new AccountMarket(0);
          am.pos = posLots * m.lotSize;
          for (const [buy, q, t] of orders) {
            if (buy) {
              am.buyLots += q;
              am.buyQP += q * t;
            } else {
              am.sellLots += q;
              am.sellQP += q * t;
            }
          }
          const big =
            BigInt(Math.abs(am.pos) + (Math.max(am.buyLots, am.sellLots) + lots) * m.lotSize) * BigInt(m.mark);
          if (!safe(big / 100_000_000n)) return;
          expect(marketHealth(r, am)).to.equal(healthOf(r, am.pos, am.buyLots, am.buyQP, am.sellLots, am.sellQP));
          const got = healthWithSideTerm(am, isBuy, sideTermWithOrder(r, am, isBuy, lots, ticks));
          const want = isBuy
            ? healthOf(r, am.pos, am.buyLots + lots, am.buyQP + lots * ticks, am.sellLots, am.sellQP)
            : healthOf(r, am.pos, am.buyLots, am.buyQP, am.sellLots + lots, am.sellQP + lots * ticks);
          expect(Object.is(got, want), `${got} vs ${want}`).to.equal(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("scenario (one decomposition) equals sdk's value + cash - requirement, also where notional * imf is unsafe", () => {
    fc.assert(
      fc.property(
        market,
        fc.integer({ min: -1e13, max: 1e13 }),
        fc.integer({ min: -1e12, max: 1e12 }),
        (m, size, cash) => {
          const r = new MarketRiskState(0, m.lotSize, m.tickSize, m.imf, m.mmf);
          r.setMark(m.mark);
          // the engine's domain: a safe notional (notional * imf may leave the safe range: the requirement
          // is still exact, through imf's reduced fraction or mulDivCeil's split)
          const notional = notionalCeil(BigInt(size), BigInt(m.mark));
          if (!safe(notional)) return;
          const value = size === 0 ? 0n : positionValue(BigInt(size), BigInt(m.mark));
          const want = value + BigInt(cash) - divCeil(notional * BigInt(m.imf), 1_000_000n);
          if (!safe(want)) return;
          expect(r.scenario(size, cash)).to.equal(Number(want));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
