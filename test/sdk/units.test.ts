import { expect } from "chai";
import fc from "fast-check";
import {
  SIZE_ONE,
  divCeil,
  divFloor,
  formatUnits,
  notionalCeil,
  parseUnits,
  positionValue,
  price,
  size,
  usd,
} from "../../sdk/units";

describe("sdk/units", () => {
  it("divFloor rounds toward negative infinity and divCeil toward positive infinity", () => {
    expect(divFloor(7n, 2n)).to.equal(3n);
    expect(divFloor(-7n, 2n)).to.equal(-4n);
    expect(divCeil(7n, 2n)).to.equal(4n);
    expect(divCeil(-7n, 2n)).to.equal(-3n);
    expect(divFloor(-6n, 3n)).to.equal(-2n);
    expect(() => divFloor(1n, 0n)).to.throw(/divisor must be positive/);
  });

  it("divFloor and divCeil bracket the exact quotient", () => {
    fc.assert(
      fc.property(fc.bigInt(), fc.bigInt({ min: 1n, max: 10n ** 30n }), (a, b) => {
        const f = divFloor(a, b);
        const c = divCeil(a, b);
        expect(f * b <= a && a < (f + 1n) * b).to.equal(true);
        expect((c - 1n) * b < a && a <= c * b).to.equal(true);
      }),
    );
  });

  it("values a position against its holder and notionals upward", () => {
    // 0.5 BTC at 60,000.000001: exact value is 30,000.0000005 USD
    const s = size("0.5");
    const p = price("60000.000001");
    expect(positionValue(s, p)).to.equal(30_000_000_000n);
    expect(positionValue(-s, p)).to.equal(-30_000_000_001n);
    expect(notionalCeil(-s, p)).to.equal(30_000_000_001n);
    expect(positionValue(SIZE_ONE, price("1"))).to.equal(usd("1"));
  });

  it("parses and formats decimals exactly and refuses what it cannot represent", () => {
    expect(usd("1.5")).to.equal(1_500_000n);
    expect(usd("-0.000001")).to.equal(-1n);
    expect(formatUnits(-1n, 6)).to.equal("-0.000001");
    expect(formatUnits(123_450_000n, 6)).to.equal("123.450000");
    expect(() => usd("1.0000001")).to.throw(/more than 6 decimal places/);
    expect(() => usd("1e6")).to.throw(/not a decimal number/);
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 18 }), (v, d) => {
        expect(parseUnits(formatUnits(v, d), d)).to.equal(v);
      }),
    );
  });
});
