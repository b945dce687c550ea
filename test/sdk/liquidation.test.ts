// sdk/liquidation.ts against the shared vectors (the Solidity side is checked against the same file in
// test/contracts/LiquidationVectors.test.ts), hand-checked numbers, and properties (fast-check).
import { expect } from "chai";
import fc from "fast-check";
import vectors from "./liquidation.vectors.json";
import {
  type AccountState,
  type MarketRisk,
  equity,
  maintenanceRequirement,
  positionRequirement,
} from "../../sdk/margin";
import {
  HEALTH_BUFFER,
  LIQUIDATION_PENALTY_SHARE_PPM,
  applyLiquidation,
  badDebtSplit,
  isBankrupt,
  isLiquidatable,
  liquidationAmounts,
  liquidationPenalty,
  maxLiquidationSize,
  maxLiquidationSizeOf,
  splitPenalty,
} from "../../sdk/liquidation";
import { RATE_ONE, SIZE_ONE, abs, divCeil, price, size, usd } from "../../sdk/units";

const B = BigInt;

describe("sdk/liquidation: shared vectors", () => {
  it("penalties and their split", () => {
    for (const v of vectors.penalties) {
      const p = liquidationPenalty(B(v.size), B(v.mark), B(v.mmfPpm));
      expect(p, JSON.stringify(v)).to.equal(B(v.penalty));
      const { toLiquidator, toInsurance } = splitPenalty(p);
      expect([toLiquidator, toInsurance], JSON.stringify(v)).to.deep.equal([B(v.toLiquidator), B(v.toInsurance)]);
    }
  });

  it("takeover amounts, conserving cash", () => {
    for (const v of vectors.amounts) {
      const a = liquidationAmounts(B(v.positionSize), B(v.size), B(v.mark), B(v.mmfPpm));
      expect(a, JSON.stringify(v)).to.deep.equal({
        accountCashDelta: B(v.accountCashDelta),
        liquidatorCashDelta: B(v.liquidatorCashDelta),
        penalty: B(v.penalty),
        liquidatorReward: B(v.liquidatorReward),
        insuranceCredit: B(v.insuranceCredit),
      });
      expect(a.accountCashDelta + a.liquidatorCashDelta + a.insuranceCredit).to.equal(0n);
    }
  });

  it("maximum sizes", () => {
    for (const v of vectors.maxSizes) {
      const m = maxLiquidationSize(
        B(v.equity),
        B(v.maintenance),
        B(v.positionSize),
        B(v.mark),
        B(v.mmfPpm),
        B(v.lotSize),
      );
      expect(m, JSON.stringify(v)).to.equal(B(v.maxSize));
    }
  });

  it("bad debt split", () => {
    for (const v of vectors.badDebt) {
      expect(badDebtSplit(B(v.debt), B(v.fund)), JSON.stringify(v)).to.deep.equal({
        coveredByInsurance: B(v.coveredByInsurance),
        socialised: B(v.socialised),
      });
    }
  });

  it("whole accounts: maximum size, liquidation of it, health after", () => {
    for (const v of vectors.accounts) {
      const acct: AccountState = { cash: B(v.cash), positions: new Map(v.positions.map((p) => [p.market, B(p.size)])) };
      const marks = new Map(v.positions.map((p) => [p.market, B(p.mark)]));
      const risks = new Map<number, MarketRisk>(
        v.positions.map((p) => [p.market, { imfPpm: B(p.imfPpm), mmfPpm: B(p.mmfPpm) }]),
      );
      const p = v.positions[v.index];
      expect(equity(acct, marks), v.name).to.equal(B(v.equity));
      expect(maintenanceRequirement(acct, marks, risks), v.name).to.equal(B(v.maintenance));
      const m = maxLiquidationSizeOf(acct, p.market, marks, risks, B(p.lotSize));
      expect(m, v.name).to.equal(B(v.maxSize));
      expect(m > 0n, v.name).to.equal(isLiquidatable(acct, marks, risks));
      if (m === 0n) continue;
      const o = applyLiquidation(acct, { cash: 0n, positions: new Map() }, p.market, m, B(p.mark), B(p.mmfPpm));
      expect(o.amounts.accountCashDelta, v.name).to.equal(B(v.accountCashDelta));
      expect(o.amounts.liquidatorCashDelta, v.name).to.equal(B(v.liquidatorCashDelta));
      expect(o.amounts.penalty, v.name).to.equal(B(v.penalty));
      expect(o.amounts.liquidatorReward, v.name).to.equal(B(v.liquidatorReward));
      expect(o.amounts.insuranceCredit, v.name).to.equal(B(v.insuranceCredit));
      expect(equity(o.account, marks), v.name).to.equal(B(v.equityAfter));
      expect(maintenanceRequirement(o.account, marks, risks), v.name).to.equal(B(v.maintenanceAfter));
      expect(o.badDebt, v.name).to.equal(B(v.badDebt));
    }
  });
});

describe("sdk/liquidation: hand-checked numbers", () => {
  const BTC = 0;
  const risks = new Map<number, MarketRisk>([[BTC, { imfPpm: 100_000n, mmfPpm: 50_000n }]]);
  const LOT = size("0.0001");

  it("1 BTC long at 60,000 with 2,000 of equity: penalty 1,500 per BTC, takes 0.6667 BTC", () => {
    // cash -58,000: equity 2,000, maintenance 3,000 (5% of 60,000), health -1,000.
    const acct: AccountState = { cash: usd("-58000"), positions: new Map([[BTC, size("1")]]) };
    const marks = new Map([[BTC, price("60000")]]);
    expect(isLiquidatable(acct, marks, risks)).to.equal(true);
    expect(isBankrupt(acct, marks)).to.equal(false);
    // Each BTC taken releases 3,000 of maintenance and costs 1,500 of penalty: +1,500 health per BTC, so
    // (1,000 + 5e-6) / 1,500 = 0.666666... BTC, rounded up to the lot: 0.6667 BTC.
    const m = maxLiquidationSizeOf(acct, BTC, marks, risks, LOT);
    expect(m).to.equal(size("0.6667"));
    const o = applyLiquidation(acct, { cash: usd("10000"), positions: new Map() }, BTC, m, price("60000"), 50_000n);
    // notional 40,002; penalty = 40,002 * 5% * 50% = 1,000.05; liquidator gets 500.025, insurance 500.025.
    expect(o.amounts).to.deep.equal({
      accountCashDelta: usd("40002") - usd("1000.05"),
      liquidatorCashDelta: -usd("40002") + usd("500.025"),
      penalty: usd("1000.05"),
      liquidatorReward: usd("500.025"),
      insuranceCredit: usd("500.025"),
    });
    // After: 0.3333 BTC (19,998) and cash -19,998 - 1,000.05 => equity 999.95, maintenance 999.9: healthy.
    expect(equity(o.account, marks)).to.equal(usd("999.95"));
    expect(maintenanceRequirement(o.account, marks, risks)).to.equal(usd("999.9"));
    expect(isLiquidatable(o.account, marks, risks)).to.equal(false);
    // One lot less would not have been enough.
    const less = applyLiquidation(acct, { cash: 0n, positions: new Map() }, BTC, m - LOT, price("60000"), 50_000n);
    expect(isLiquidatable(less.account, marks, risks)).to.equal(true);
    expect(o.liquidator.positions.get(BTC)).to.equal(size("0.6667"));
  });

  it("bankrupt short: the whole position, then bad debt", () => {
    // short 1 BTC with cash 61,000 at a mark of 62,000: equity -1,000.
    const acct: AccountState = { cash: usd("61000"), positions: new Map([[BTC, -size("1")]]) };
    const marks = new Map([[BTC, price("62000")]]);
    expect(isBankrupt(acct, marks)).to.equal(true);
    expect(maxLiquidationSizeOf(acct, BTC, marks, risks, LOT)).to.equal(size("1"));
    const o = applyLiquidation(acct, { cash: 0n, positions: new Map() }, BTC, size("1"), price("62000"), 50_000n);
    // penalty = 62,000 * 5% * 50% = 1,550: cash 61,000 - 62,000 - 1,550 = -2,550.
    expect(o.account.cash).to.equal(usd("-2550"));
    expect(o.badDebt).to.equal(usd("2550"));
    expect(badDebtSplit(o.badDebt, usd("1000"))).to.deep.equal({
      coveredByInsurance: usd("1000"),
      socialised: usd("1550"),
    });
  });

  it("healthy and flat: nothing to liquidate", () => {
    const marks = new Map([[BTC, price("60000")]]);
    expect(maxLiquidationSizeOf({ cash: 0n, positions: new Map() }, BTC, marks, risks, LOT)).to.equal(0n);
    const healthy: AccountState = { cash: usd("-57000"), positions: new Map([[BTC, size("1")]]) };
    expect(maxLiquidationSizeOf(healthy, BTC, marks, risks, LOT)).to.equal(0n);
  });

  it("rejects bad inputs", () => {
    expect(() => liquidationAmounts(0n, 1n, 1n, 1n)).to.throw(RangeError);
    expect(() => liquidationAmounts(5n, 6n, 1n, 1n)).to.throw(RangeError);
    expect(() => liquidationAmounts(5n, 0n, 1n, 1n)).to.throw(RangeError);
    expect(() => maxLiquidationSize(0n, 1n, 1n, 0n, 1n, 1n)).to.throw(RangeError);
    expect(() => liquidationPenalty(1n, 1n, 1n, { penaltySharePpm: RATE_ONE, liquidatorSharePpm: 0n })).to.throw(
      RangeError,
    );
    expect(() => badDebtSplit(-1n, 0n)).to.throw(RangeError);
  });
});

describe("sdk/liquidation: properties", () => {
  const position = fc.record({
    lot: fc.constantFrom(1n, 10_000n, 100_000n, 1_000_000n),
    lots: fc.bigInt({ min: 1n, max: 1_000_000n }),
    long: fc.boolean(),
    mark: fc.bigInt({ min: 1_000n, max: 100_000_000_000n }),
    imf: fc.bigInt({ min: 2_000n, max: 1_000_000n }),
    mmfShare: fc.double({ min: 0.001, max: 0.999, noNaN: true }),
  });

  it("a partial liquidation of the maximum size leaves the account healthy, and not far above it", () => {
    fc.assert(
      fc.property(
        fc.array(position, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (ps, pick, where) => {
          const markets = ps.map((_, i) => i);
          const sizes = ps.map((p) => (p.long ? 1n : -1n) * p.lot * p.lots);
          const marks = new Map(ps.map((p, i) => [i, p.mark]));
          const risks = new Map<number, MarketRisk>(
            ps.map((p, i) => {
              const mmf = BigInt(Math.max(1, Math.floor(Number(p.imf) * p.mmfShare)));
              return [i, { imfPpm: p.imf, mmfPpm: mmf < p.imf ? mmf : p.imf - 1n }];
            }),
          );
          const acct0: AccountState = { cash: 0n, positions: new Map(markets.map((m) => [m, sizes[m]])) };
          const mm = maintenanceRequirement(acct0, marks, risks);
          // equity anywhere in [0, mm): liquidatable, not bankrupt
          const target = mm - 1n - BigInt(Math.floor(where * Number(mm)));
          const acct: AccountState = {
            ...acct0,
            cash: target < 0n ? -equity(acct0, marks) : target - equity(acct0, marks),
          };
          const m = pick % ps.length;
          const lot = ps[m].lot;
          const q = maxLiquidationSizeOf(acct, m, marks, risks, lot);
          if (!isLiquidatable(acct, marks, risks)) return q === 0n;
          expect(q > 0n && q % lot === 0n && q <= abs(sizes[m])).to.equal(true);
          const o = applyLiquidation(acct, { cash: 0n, positions: new Map() }, m, q, ps[m].mark, risks.get(m)!.mmfPpm);
          expect(o.amounts.accountCashDelta + o.amounts.liquidatorCashDelta + o.amounts.insuranceCredit).to.equal(0n);
          // penalty < maintenance requirement of the liquidated notional
          expect(o.amounts.penalty <= positionRequirement(q, ps[m].mark, risks.get(m)!.mmfPpm)).to.equal(true);
          const healthAfter = equity(o.account, marks) - maintenanceRequirement(o.account, marks, risks);
          if (q < abs(sizes[m])) {
            expect(healthAfter >= 0n, `health after ${healthAfter}`).to.equal(true);
            // not more than one lot beyond what was needed (+ the rounding slack)
            const perLot = divCeil(
              lot * ps[m].mark * risks.get(m)!.mmfPpm * (RATE_ONE - LIQUIDATION_PENALTY_SHARE_PPM),
              SIZE_ONE * RATE_ONE * RATE_ONE,
            );
            expect(
              healthAfter < perLot + 2n * HEALTH_BUFFER,
              `health after ${healthAfter}, per lot ${perLot}`,
            ).to.equal(true);
          } else {
            // the whole position went: health did not get worse by more than the rounding
            const healthBefore = equity(acct, marks) - maintenanceRequirement(acct, marks, risks);
            expect(healthAfter >= healthBefore - 2n).to.equal(true);
          }
          return true;
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
