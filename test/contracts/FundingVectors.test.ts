// contracts/libraries/FundingMath.sol against the shared vectors of test/sdk/funding.vectors.json, the same
// file sdk/funding.ts is tested against: contract and sdk compute identical funding numbers.
import { expect } from "chai";
import hre from "hardhat";
import vectors from "../sdk/funding.vectors.json";

const B = BigInt;

describe("FundingMath library: shared vectors with sdk/funding.ts", () => {
  async function harness() {
    return hre.viem.deployContract("FundingHarness");
  }

  it("owed and pending", async () => {
    const h = await harness();
    for (const v of vectors.owed) {
      expect(await h.read.owed([B(v.size), B(v.indexDelta)]), JSON.stringify(v)).to.equal(B(v.owed));
    }
    for (const v of vectors.pending) {
      expect(
        await h.read.pending([B(v.size), B(v.longIndex), B(v.shortIndex), B(v.snapshot)]),
        JSON.stringify(v),
      ).to.equal(B(v.pending));
    }
  });

  it("index delta, rate step and clamp", async () => {
    const h = await harness();
    for (const v of vectors.indexDelta) {
      expect(await h.read.indexDelta([B(v.mark), B(v.rate), B(v.dt), B(v.interval)]), JSON.stringify(v)).to.equal(
        B(v.delta),
      );
    }
    for (const v of vectors.maxRateStep) {
      expect(await h.read.maxRateStep([B(v.maxRateChange), B(v.dt), B(v.interval)]), JSON.stringify(v)).to.equal(
        B(v.step),
      );
    }
    for (const v of vectors.clampRate) {
      expect(
        await h.read.clampRate([B(v.requested), B(v.lastRate), B(v.maxRate), B(v.step)]),
        JSON.stringify(v),
      ).to.equal(B(v.applied));
    }
  });

  it("socialised loss", async () => {
    const h = await harness();
    for (const v of vectors.socialLoss) {
      expect(await h.read.socialLossDelta([B(v.amount), B(v.openInterest)]), JSON.stringify(v)).to.equal(B(v.delta));
    }
  });

  it("whole updates", async () => {
    const h = await harness();
    for (const v of vectors.updates) {
      const r = await h.read.update([
        B(v.requested),
        B(v.lastRate),
        B(v.lastTime),
        B(v.mark),
        B(v.now),
        B(v.interval),
        B(v.maxRate),
        B(v.maxRateChange),
      ]);
      expect(r, JSON.stringify(v)).to.deep.equal([B(v.applied), B(v.delta)]);
    }
  });
});
