// sdk/margin.ts against the shared vectors (the Solidity side is checked against the same file in
// test/contracts/MarginVectors.test.ts), plus hand-checked numbers.
import { expect } from "chai";
import vectors from "./margin.vectors.json";
import {
  type AccountState,
  type MarketRisk,
  buyerPays,
  equity,
  feeCap,
  feesAllowed,
  initialRequirement,
  maintenanceRequirement,
  passesSettlementCheck,
  riskGrew,
  sellerReceives,
} from "../../sdk/margin";
import { notionalCeil, positionValue } from "../../sdk/units";

const B = BigInt;

describe("sdk/margin: shared vectors", () => {
  it("units: positionValue and notionalCeil", () => {
    for (const v of vectors.units) {
      expect(positionValue(B(v.size), B(v.price)), JSON.stringify(v)).to.equal(B(v.positionValue));
      expect(notionalCeil(B(v.size), B(v.price)), JSON.stringify(v)).to.equal(B(v.notionalCeil));
    }
  });

  it("trades: buyer pays up, seller receives down, fee caps", () => {
    for (const v of vectors.trades) {
      expect(buyerPays(B(v.size), B(v.price))).to.equal(B(v.buyerPays));
      expect(sellerReceives(B(v.size), B(v.price))).to.equal(B(v.sellerReceives));
      expect(feeCap(B(v.size), B(v.price), B(v.feePpm))).to.equal(B(v.feeCap));
      expect(B(v.buyerPays) - B(v.sellerReceives)).to.be.oneOf([0n, 1n]);
    }
  });

  it("accounts: equity, requirements, risk growth and the settlement check", () => {
    for (const v of vectors.accounts) {
      const before: AccountState = {
        cash: B(v.cashBefore),
        positions: new Map(v.positions.map((p) => [p.market, B(p.sizeBefore)])),
      };
      const after: AccountState = {
        cash: B(v.cashAfter),
        positions: new Map(v.positions.map((p) => [p.market, B(p.sizeAfter)])),
      };
      const marks = new Map(v.positions.map((p) => [p.market, B(p.mark)]));
      const risks = new Map<number, MarketRisk>(
        v.positions.map((p) => [p.market, { imfPpm: B(p.imfPpm), mmfPpm: B(p.mmfPpm) }]),
      );
      expect(equity(before, marks), v.name).to.equal(B(v.equityBefore));
      expect(maintenanceRequirement(before, marks, risks), v.name).to.equal(B(v.mmBefore));
      expect(equity(after, marks), v.name).to.equal(B(v.equityAfter));
      expect(initialRequirement(after, marks, risks), v.name).to.equal(B(v.imAfter));
      expect(maintenanceRequirement(after, marks, risks), v.name).to.equal(B(v.mmAfter));
      expect(riskGrew(before, after), v.name).to.equal(v.riskGrew);
      expect(passesSettlementCheck(before, after, marks, risks), v.name).to.equal(v.passes);
    }
  });

  it("hand-checked: 0.5 BTC at 60,000 with 0.05% taker and -0.01% maker", () => {
    expect(buyerPays(50_000_000n, 60_000_000_000n)).to.equal(30_000_000_000n);
    expect(feeCap(50_000_000n, 60_000_000_000n, 500n)).to.equal(15_000_000n);
    expect(feeCap(50_000_000n, 60_000_000_000n, -100n)).to.equal(-3_000_000n);
    // 12345 * 60000123457 / 1e8 = 7,407,015.24...
    expect(buyerPays(12_345n, 60_000_123_457n)).to.equal(7_407_016n);
    expect(sellerReceives(12_345n, 60_000_123_457n)).to.equal(7_407_015n);
    expect(feeCap(12_345n, 60_000_123_457n, 333n)).to.equal(2_467n);
    expect(feeCap(12_345n, 60_000_123_457n, -77n)).to.equal(-570n);
    // A short position's value rounds down (more negative): -floor(-7,407,015.24) = -7,407,016.
    expect(positionValue(-12_345n, 60_000_123_457n)).to.equal(-7_407_016n);
  });

  it("feesAllowed: each fee at most its cap, sum not negative", () => {
    expect(feesAllowed(50_000_000n, 60_000_000_000n, -3_000_000n, 15_000_000n, -100n, 500n)).to.equal(true);
    expect(feesAllowed(50_000_000n, 60_000_000_000n, -2_999_999n, 15_000_000n, -100n, 500n)).to.equal(false);
    expect(feesAllowed(50_000_000n, 60_000_000_000n, -3_000_000n, 15_000_001n, -100n, 500n)).to.equal(false);
    expect(feesAllowed(50_000_000n, 60_000_000_000n, -16_000_000n, 15_000_000n, -100n, 500n)).to.equal(false);
    expect(feesAllowed(50_000_000n, 60_000_000_000n, -15_000_000n, 15_000_000n, -100n, 500n)).to.equal(true);
  });
});
