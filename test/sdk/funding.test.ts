// sdk/funding.ts against the shared vectors (the Solidity side is checked against the same file in
// test/contracts/FundingVectors.test.ts), plus hand-checked numbers and properties.
import { expect } from "chai";
import fc from "fast-check";
import vectors from "./funding.vectors.json";
import {
  DEFAULT_FUNDING_PARAMS,
  applyFundingUpdate,
  applySocialLoss,
  cashAfterFunding,
  clampFundingRate,
  fundingOwed,
  indexDelta,
  maxRateStep,
  pendingFunding,
  snapshotFor,
  socialLossDelta,
} from "../../sdk/funding";
import { price, size, usd } from "../../sdk/units";

const B = BigInt;

describe("sdk/funding: shared vectors", () => {
  it("owed", () => {
    for (const v of vectors.owed)
      expect(fundingOwed(B(v.size), B(v.indexDelta)), JSON.stringify(v)).to.equal(B(v.owed));
  });
  it("pending", () => {
    for (const v of vectors.pending) {
      expect(pendingFunding(B(v.size), B(v.longIndex), B(v.shortIndex), B(v.snapshot)), JSON.stringify(v)).to.equal(
        B(v.pending),
      );
    }
  });
  it("indexDelta", () => {
    for (const v of vectors.indexDelta) {
      expect(indexDelta(B(v.mark), B(v.rate), B(v.dt), B(v.interval)), JSON.stringify(v)).to.equal(B(v.delta));
    }
  });
  it("maxRateStep and clampRate", () => {
    for (const v of vectors.maxRateStep) {
      expect(maxRateStep(B(v.maxRateChange), B(v.dt), B(v.interval)), JSON.stringify(v)).to.equal(B(v.step));
    }
    for (const v of vectors.clampRate) {
      expect(clampFundingRate(B(v.requested), B(v.lastRate), B(v.maxRate), B(v.step)), JSON.stringify(v)).to.equal(
        B(v.applied),
      );
    }
  });
  it("socialLoss", () => {
    for (const v of vectors.socialLoss) {
      expect(socialLossDelta(B(v.amount), B(v.openInterest)), JSON.stringify(v)).to.equal(B(v.delta));
    }
  });
  it("updates", () => {
    for (const v of vectors.updates) {
      const r = applyFundingUpdate(
        { longIndex: 0n, shortIndex: 0n, lastRate: B(v.lastRate), lastTime: B(v.lastTime), lastMark: 0n },
        B(v.requested),
        B(v.mark),
        B(v.now),
        { interval: B(v.interval), maxRate: B(v.maxRate), maxRateChange: B(v.maxRateChange) },
      );
      expect([r.applied, r.delta], JSON.stringify(v)).to.deep.equal([B(v.applied), B(v.delta)]);
    }
  });
});

describe("sdk/funding: hand-checked numbers", () => {
  it("one hour at 0.01% on 1 BTC at 60,000 USD: the long pays 6 USD, the short receives 6 USD", () => {
    const start = { longIndex: 0n, shortIndex: 0n, lastRate: 0n, lastTime: 0n, lastMark: 0n };
    const first = applyFundingUpdate(start, 100_000n, price("60000"), 1_000n);
    expect(first.delta).to.equal(0n); // the first update starts the clock
    const second = applyFundingUpdate(first.state, 100_000n, price("60000"), 1_000n + 3_600n);
    expect(second.delta).to.equal(6_000_000_000_000n);
    const { longIndex, shortIndex } = second.state;
    expect(pendingFunding(size("1"), longIndex, shortIndex, 0n)).to.equal(usd("6"));
    expect(pendingFunding(-size("1"), longIndex, shortIndex, 0n)).to.equal(-usd("6"));
  });

  it("rounds against the payer: 1e-8 BTC pays a unit, its short counterpart receives nothing", () => {
    expect(pendingFunding(1n, 1n, 1n, 0n)).to.equal(1n);
    expect(pendingFunding(-1n, 1n, 1n, 0n)).to.equal(0n);
    // negative funding (shorts pay): the short pays up, the long receives toward zero
    expect(pendingFunding(-1n, -1n, -1n, 0n)).to.equal(1n);
    expect(pendingFunding(1n, -1n, -1n, 0n)).to.equal(0n);
  });

  it("clamps: rate change per elapsed time, then the absolute bound", () => {
    const p = DEFAULT_FUNDING_PARAMS;
    expect(clampFundingRate(10n ** 9n, 0n, p.maxRate, p.maxRateChange)).to.equal(p.maxRateChange);
    expect(clampFundingRate(10n ** 9n, p.maxRate, p.maxRate, p.maxRateChange)).to.equal(p.maxRate);
    expect(clampFundingRate(-(10n ** 9n), 0n, p.maxRate, maxRateStep(p.maxRateChange, 36n, p.interval))).to.equal(
      -2_500n,
    );
  });

  it("socialised loss: one side's index, at least the amount charged in total", () => {
    const s = applySocialLoss({ longIndex: 5n, shortIndex: 7n }, false, usd("10"), size("3"));
    expect(s.longIndex).to.equal(5n);
    expect(s.shortIndex).to.equal(7n - socialLossDelta(usd("10"), size("3")));
    expect(s.charged).to.equal(usd("10"));
    expect(applySocialLoss({ longIndex: 0n, shortIndex: 0n }, true, usd("10"), 0n).charged).to.equal(0n);
  });

  it("snapshot and cash after settlement", () => {
    expect(snapshotFor(0n, 5n, 7n)).to.equal(0n);
    expect(snapshotFor(1n, 5n, 7n)).to.equal(5n);
    expect(snapshotFor(-1n, 5n, 7n)).to.equal(7n);
    expect(
      cashAfterFunding(100n, [
        { size: 1n, snapshot: 0n, longIndex: 10n ** 14n, shortIndex: 0n },
        { size: -1n, snapshot: 0n, longIndex: 0n, shortIndex: -(10n ** 14n) },
      ]),
    ).to.equal(98n);
  });
});

describe("sdk/funding: properties", () => {
  const i64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
  const i128 = fc.bigInt(-(2n ** 100n), 2n ** 100n);

  it("a position and its exact opposite never pay out more than is paid in", () => {
    fc.assert(
      fc.property(i64, i128, (s, d) => {
        // the payer's side rounds up, the receiver's toward zero
        expect(fundingOwed(s, d) + fundingOwed(-s, d) >= 0n).to.equal(true);
        expect(fundingOwed(s, d) + fundingOwed(-s, d) <= 1n).to.equal(true);
      }),
    );
  });

  it("splitting a position never lowers what it pays in total", () => {
    fc.assert(
      fc.property(i64, i64, i128, (a, b, d) => {
        expect(fundingOwed(a, d) + fundingOwed(b, d) >= fundingOwed(a + b, d)).to.equal(true);
      }),
    );
  });

  it("a socialised loss charges at least its amount over the side's open interest", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt(1n, 2n ** 62n), { minLength: 1, maxLength: 20 }),
        fc.bigInt(1n, 2n ** 100n),
        (sizes, amount) => {
          const oi = sizes.reduce((x, y) => x + y, 0n);
          const d = socialLossDelta(amount, oi);
          const longs = sizes.reduce((acc, s) => acc + fundingOwed(s, d), 0n);
          const shorts = sizes.reduce((acc, s) => acc + fundingOwed(-s, -d), 0n);
          expect(longs >= amount && shorts >= amount).to.equal(true);
          // dust: under one unit per position plus oi / 1e14 (the index step's rounding)
          expect(longs - amount <= BigInt(sizes.length) + oi / 10n ** 14n + 1n).to.equal(true);
        },
      ),
    );
  });

  it("the applied rate always satisfies both clamps", () => {
    fc.assert(
      fc.property(
        i64,
        fc.bigInt(1n, 10_000_000n),
        fc.bigInt(0n, 20_000_000n),
        fc.bigInt(-10_000_000n, 10_000_000n),
        (req, maxRate, step, last0) => {
          const last = last0 > maxRate ? maxRate : last0 < -maxRate ? -maxRate : last0;
          const r = clampFundingRate(req, last, maxRate, step);
          expect(r <= maxRate && r >= -maxRate).to.equal(true);
          expect(r - last <= step && last - r <= step).to.equal(true);
        },
      ),
    );
  });
});
