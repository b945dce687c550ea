// LiquidationMath (contracts/exchange/Liquidation.sol) against the shared vectors of
// test/sdk/liquidation.vectors.json, the same file sdk/liquidation.ts is tested against: contract and sdk
// compute identical numbers.
import { expect } from "chai";
import hre from "hardhat";
import { encodeAbiParameters, keccak256, toHex } from "viem";
import vectors from "../sdk/liquidation.vectors.json";

const B = BigInt;

describe("LiquidationMath: shared vectors with sdk/liquidation.ts", () => {
  async function harness() {
    return hre.viem.deployContract("LiquidationHarness");
  }

  it("penalties and their split", async () => {
    const h = await harness();
    for (const v of vectors.penalties) {
      const r = await h.read.penalty([B(v.size), B(v.mark), B(v.mmfPpm)]);
      expect(r, JSON.stringify(v)).to.deep.equal([B(v.penalty), B(v.toLiquidator), B(v.toInsurance)]);
    }
  });

  it("takeover amounts", async () => {
    const h = await harness();
    for (const v of vectors.amounts) {
      const a = await h.read.amounts([B(v.positionSize), B(v.size), B(v.mark), B(v.mmfPpm)]);
      expect(a, JSON.stringify(v)).to.deep.equal({
        accountCashDelta: B(v.accountCashDelta),
        liquidatorCashDelta: B(v.liquidatorCashDelta),
        penalty: B(v.penalty),
        liquidatorReward: B(v.liquidatorReward),
        insuranceCredit: B(v.insuranceCredit),
      });
    }
  });

  it("maximum sizes", async () => {
    const h = await harness();
    for (const v of vectors.maxSizes) {
      const m = await h.read.maxSize([
        B(v.equity),
        B(v.maintenance),
        B(v.positionSize),
        B(v.mark),
        B(v.mmfPpm),
        B(v.lotSize),
      ]);
      expect(m, JSON.stringify(v)).to.equal(B(v.maxSize));
    }
  });

  it("bad debt split", async () => {
    const h = await harness();
    for (const v of vectors.badDebt) {
      const r = await h.read.badDebtSplit([B(v.debt), B(v.fund)]);
      expect(r, JSON.stringify(v)).to.deep.equal([B(v.coveredByInsurance), B(v.socialised)]);
    }
  });

  it("whole accounts: maximum size, liquidation of it, health after", async () => {
    const h = await harness();
    for (const v of vectors.accounts) {
      const p = v.positions[v.index];
      const r = await h.read.account([
        B(v.cash),
        v.positions.map((x) => ({ size: B(x.size), mark: B(x.mark), imfPpm: B(x.imfPpm), mmfPpm: B(x.mmfPpm) })),
        B(v.index),
        B(p.lotSize),
      ]);
      expect(r.equity, v.name).to.equal(B(v.equity));
      expect(r.maintenance, v.name).to.equal(B(v.maintenance));
      expect(r.maxSize, v.name).to.equal(B(v.maxSize));
      if (r.maxSize === 0n) continue;
      expect(r.amounts, v.name).to.deep.equal({
        accountCashDelta: B(v.accountCashDelta),
        liquidatorCashDelta: B(v.liquidatorCashDelta),
        penalty: B(v.penalty),
        liquidatorReward: B(v.liquidatorReward),
        insuranceCredit: B(v.insuranceCredit),
      });
      expect(r.equityAfter, v.name).to.equal(B(v.equityAfter));
      expect(r.maintenanceAfter, v.name).to.equal(B(v.maintenanceAfter));
    }
  });

  it("the insurance fund's ERC-7201 slot matches its formula", async () => {
    const h = await harness();
    const inner = B(keccak256(toHex("perpx.storage.Insurance"))) - 1n;
    const slot = B(keccak256(encodeAbiParameters([{ type: "uint256" }], [inner]))) & ~0xffn;
    expect(await h.read.insuranceSlot()).to.equal(toHex(slot, { size: 32 }));
  });
});
