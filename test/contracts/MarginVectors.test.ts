// contracts/libraries/{Units,Margin}.sol against the shared vectors of test/sdk/margin.vectors.json,
// the same file sdk/margin.ts is tested against: contract and sdk compute identical numbers.
import { expect } from "chai";
import hre from "hardhat";
import vectors from "../sdk/margin.vectors.json";

const B = BigInt;

describe("Margin library: shared vectors with sdk/margin.ts", () => {
  async function harness() {
    return hre.viem.deployContract("MarginHarness");
  }

  it("units", async () => {
    const h = await harness();
    for (const v of vectors.units) {
      const [pv, nc] = await h.read.units([B(v.size), B(v.price)]);
      expect([pv, nc], JSON.stringify(v)).to.deep.equal([B(v.positionValue), B(v.notionalCeil)]);
    }
  });

  it("trades", async () => {
    const h = await harness();
    for (const v of vectors.trades) {
      const [pays, gets, cap] = await h.read.trade([B(v.size), B(v.price), B(v.feePpm)]);
      expect([pays, gets, cap], JSON.stringify(v)).to.deep.equal([B(v.buyerPays), B(v.sellerReceives), B(v.feeCap)]);
    }
  });

  it("accounts", async () => {
    const h = await harness();
    for (const v of vectors.accounts) {
      const [t, passes] = await h.read.totals([
        B(v.cashBefore),
        B(v.cashAfter),
        v.positions.map((p) => ({
          sizeBefore: B(p.sizeBefore),
          sizeAfter: B(p.sizeAfter),
          mark: B(p.mark),
          imfPpm: B(p.imfPpm),
          mmfPpm: B(p.mmfPpm),
        })),
      ]);
      expect(
        {
          equityBefore: t.equityBefore,
          mmBefore: t.mmBefore,
          equityAfter: t.equityAfter,
          imAfter: t.imAfter,
          mmAfter: t.mmAfter,
          riskGrew: t.riskGrew,
          passes,
        },
        v.name,
      ).to.deep.equal({
        equityBefore: B(v.equityBefore),
        mmBefore: B(v.mmBefore),
        equityAfter: B(v.equityAfter),
        imAfter: B(v.imAfter),
        mmAfter: B(v.mmAfter),
        riskGrew: v.riskGrew,
        passes: v.passes,
      });
    }
  });

  it("signed division helpers round toward -inf and +inf", async () => {
    const h = await harness();
    const [, , f1, c1] = await h.read.units([-7n, 2n]);
    const [, , f2, c2] = await h.read.units([7n, 2n]);
    expect([f1, c1, f2, c2]).to.deep.equal([-4n, -3n, 3n, 4n]);
  });
});
