// The subgraph's arithmetic (subgraph/src/math.ts), compiled to wasm by the subgraph's compiler,
// against sdk/units.ts and sdk/margin.ts: fixed vectors computed by the sdk, then random inputs.
import { expect } from "chai";
import fc from "fast-check";
import { buyerPays, sellerReceives } from "../../sdk/margin";
import { SIZE_ONE, RATE_ONE, divCeil, divFloor, notionalCeil, positionValue, price, size, usd } from "../../sdk/units";
import { compileMathWasm, fromSignedBytesLE, loadMathWasm, toSignedBytesLE, type WasmMath } from "./wasmMath";

// Reference bookkeeping in TypeScript, on the sdk's primitives (see applyTrade in subgraph/src/math.ts).
const cashFlow = (delta: bigint, p: bigint) => (delta > 0n ? -buyerPays(delta, p) : sellerReceives(-delta, p));
function refApplyTrade(s: bigint, cost: bigint, delta: bigint, p: bigint) {
  if (delta === 0n) return { size: s, cost, realized: 0n };
  const flow = cashFlow(delta, p);
  if (s === 0n || s > 0n === delta > 0n) return { size: s + delta, cost: cost - flow, realized: 0n };
  const absS = s < 0n ? -s : s;
  const absD = delta < 0n ? -delta : delta;
  if (absD <= absS) {
    const removed = divFloor(cost * absD, absS);
    return { size: s + delta, cost: cost - removed, realized: flow - removed };
  }
  const closeFlow = cashFlow(-s, p);
  return { size: s + delta, cost: -(flow - closeFlow), realized: closeFlow - cost };
}

const MAX_SIZE = 2n ** 64n - 1n; // uint64 in FillSettled
const sizes = fc.bigInt({ min: 1n, max: MAX_SIZE });
const signedSizes = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const prices = fc.bigInt({ min: 1n, max: MAX_SIZE });

describe("subgraph/src/math.ts (wasm) agrees with sdk/", function () {
  this.timeout(120_000);
  let m: WasmMath;

  before(async () => {
    m = await loadMathWasm(await compileMathWasm());
  });

  it("moves BigInts through the host in graph-node's byte format", () => {
    for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 2n ** 64n, -(2n ** 127n)]) {
      expect(fromSignedBytesLE(toSignedBytesLE(v))).to.equal(v);
    }
    expect([...toSignedBytesLE(0n)]).to.deep.equal([0]);
    expect([...toSignedBytesLE(128n)]).to.deep.equal([128, 0]);
    expect([...toSignedBytesLE(-129n)]).to.deep.equal([127, 255]);
  });

  // Vectors computed by the sdk functions, in the units of sdk/units.ts.
  const vectors: [bigint, bigint][] = [
    [size("0.5"), price("60000.000001")],
    [-size("0.5"), price("60000.000001")],
    [size("1"), price("1")],
    [size("0.00000001"), price("0.000001")],
    [size("0.00000003"), price("3333.333333")],
    [-size("0.00000003"), price("3333.333333")],
    [size("184467440737.09551615"), price("18446744073709.551615")], // uint64 max size and price
    [size("0.12345678"), price("61234.5")],
    [-size("7.5"), price("2999.99")],
    [0n, price("100")],
  ];

  it("divFloor and divCeil round like sdk/units.ts", () => {
    for (const [a, b] of [
      [7n, 2n],
      [-7n, 2n],
      [-6n, 3n],
      [0n, 5n],
      [-1n, SIZE_ONE],
      [10n ** 30n + 1n, 10n ** 8n],
    ]) {
      expect(m.divFloor(a, b)).to.equal(divFloor(a, b), `divFloor(${a}, ${b})`);
      expect(m.divCeil(a, b)).to.equal(divCeil(a, b), `divCeil(${a}, ${b})`);
    }
  });

  it("values, notionals and trade cash on the sdk vectors", () => {
    for (const [s, p] of vectors) {
      expect(m.positionValue(s, p)).to.equal(positionValue(s, p), `positionValue(${s}, ${p})`);
      expect(m.notionalCeil(s, p)).to.equal(notionalCeil(s, p), `notionalCeil(${s}, ${p})`);
      if (s < 0n) continue;
      expect(m.buyerPays(s, p)).to.equal(buyerPays(s, p));
      expect(m.sellerReceives(s, p)).to.equal(sellerReceives(s, p));
      expect(m.fillVolume(s, p)).to.equal(sellerReceives(s, p));
    }
    // 0.5 BTC at 60,000.000001 USD: the buyer pays 30,000.000001, the seller gets 30,000.
    expect(m.buyerPays(size("0.5"), price("60000.000001"))).to.equal(usd("30000.000001"));
    expect(m.sellerReceives(size("0.5"), price("60000.000001"))).to.equal(usd("30000"));
  });

  it("the fee pool of a fill is both fees plus the rounding remainder", () => {
    const s = size("0.5");
    const p = price("60000.000001");
    // taker fee 5 bps, maker rebate 1 bp (rounded as the contract caps them)
    const takerFee = divCeil(s * p * 500n, SIZE_ONE * RATE_ONE);
    const makerFee = -divFloor(s * p * 100n, SIZE_ONE * RATE_ONE);
    expect(m.fillFeePool(s, p, makerFee, takerFee)).to.equal(1n + makerFee + takerFee);
    fc.assert(
      fc.property(sizes, prices, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (s2, p2, fee) => {
        const pool = m.fillFeePool(s2, p2, -fee, fee);
        expect(pool).to.equal(buyerPays(s2, p2) - sellerReceives(s2, p2));
        expect(pool === 0n || pool === 1n).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });

  it("agrees with the sdk on random uint64 sizes and prices", () => {
    fc.assert(
      fc.property(signedSizes, prices, (s, p) => {
        expect(m.positionValue(s, p)).to.equal(positionValue(s, p));
        expect(m.notionalCeil(s, p)).to.equal(notionalCeil(s, p));
        expect(m.tradeCashFlow(s, p)).to.equal(cashFlow(s, p));
      }),
      { numRuns: 300 },
    );
  });

  it("open interest counts the long side of each position change", () => {
    expect(m.openInterestDelta(0n, 5n)).to.equal(5n);
    expect(m.openInterestDelta(0n, -5n)).to.equal(0n);
    expect(m.openInterestDelta(5n, -3n)).to.equal(-5n);
    expect(m.openInterestDelta(-3n, 4n)).to.equal(4n);
    expect(m.openInterestDelta(7n, 2n)).to.equal(-5n);
    // A fill of q between a flat buyer and a flat seller adds q; the reverse removes it.
    fc.assert(
      fc.property(signedSizes, signedSizes, fc.bigInt({ min: 0n, max: 2n ** 62n }), (a, b, q) => {
        const d = m.openInterestDelta(a, a + q) + m.openInterestDelta(b, b - q);
        const longs = (x: bigint) => (x > 0n ? x : 0n);
        expect(d).to.equal(longs(a + q) + longs(b - q) - longs(a) - longs(b));
      }),
      { numRuns: 100 },
    );
  });

  it("average-cost bookkeeping: opens, adds, reduces, flips", () => {
    const p1 = price("60000");
    const p2 = price("61000");
    let u = m.applyTrade(0n, 0n, size("1"), p1); // buy 1 at 60k
    expect(u).to.deep.equal({ size: size("1"), cost: usd("60000"), realized: 0n });
    expect(m.entryPrice(u.size, u.cost)).to.equal(p1);
    expect(m.unrealizedPnl(u.size, u.cost, p2)).to.equal(usd("1000"));
    u = m.applyTrade(u.size, u.cost, size("1"), p2); // add 1 at 61k: entry 60.5k
    expect(m.entryPrice(u.size, u.cost)).to.equal(price("60500"));
    u = m.applyTrade(u.size, u.cost, -size("0.5"), p2); // sell 0.5 at 61k: +250 realised
    expect(u).to.deep.equal({ size: size("1.5"), cost: usd("90750"), realized: usd("250") });
    u = m.applyTrade(u.size, u.cost, -size("2"), price("59000")); // flip to 0.5 short at 59k
    expect(u).to.deep.equal({ size: -size("0.5"), cost: -usd("29500"), realized: usd("-2250") });
    expect(m.entryPrice(u.size, u.cost)).to.equal(price("59000"));
    expect(m.unrealizedPnl(u.size, u.cost, price("58000"))).to.equal(usd("500"));
    expect(m.applyTrade(u.size, u.cost, 0n, p1)).to.deep.equal({ size: u.size, cost: u.cost, realized: 0n });
  });

  it("bookkeeping matches the TypeScript reference and realises exactly the cash a round trip moved", () => {
    const trade = fc.tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 13n }));
    fc.assert(
      fc.property(
        fc.array(trade, { minLength: 1, maxLength: 12 }),
        fc.bigInt({ min: 1n, max: 10n ** 13n }),
        (trades, pClose) => {
          let s = 0n;
          let cost = 0n;
          let realized = 0n;
          let cash = 0n;
          for (const [d, p] of trades) {
            const got = m.applyTrade(s, cost, d, p);
            expect(got).to.deep.equal(refApplyTrade(s, cost, d, p));
            s = got.size;
            cost = got.cost;
            realized += got.realized;
            cash += cashFlow(d, p);
            // unrealised + realised = cash so far + value of what is held
            expect(realized + m.unrealizedPnl(s, cost, p)).to.equal(cash + positionValue(s, p));
          }
          const last = m.applyTrade(s, cost, -s, pClose);
          expect(last.size).to.equal(0n);
          expect(last.cost).to.equal(0n);
          expect(realized + last.realized).to.equal(cash + cashFlow(-s, pClose));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("funding: longs pay a rising index, rounded against the holder", () => {
    const idx = m.fundingIndexDelta(price("60000"), 100n); // 1 bp of 60k = 6 USD per BTC
    expect(idx).to.equal(usd("6"));
    expect(m.fundingPayment(size("2"), idx)).to.equal(-usd("12"));
    expect(m.fundingPayment(-size("2"), idx)).to.equal(usd("12"));
    expect(m.fundingPayment(size("0.00000001"), 1n)).to.equal(-1n); // owes 1e-8 of a unit: pays 1
    expect(m.fundingPayment(-size("0.00000001"), 1n)).to.equal(0n); // is owed 1e-8: gets 0
    expect(m.fundingIndexDelta(price("60000"), -1n)).to.equal(-usd("0.06"));
    fc.assert(
      fc.property(signedSizes, fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), prices, fc.integer(), (s, d, p, r) => {
        expect(m.fundingPayment(s, d)).to.equal(divFloor(-s * d, SIZE_ONE));
        expect(m.fundingIndexDelta(p, BigInt(r))).to.equal(divFloor(p * BigInt(r), RATE_ONE));
        // what longs pay covers what shorts receive
        expect(m.fundingPayment(s, d) + m.fundingPayment(-s, d) <= 0n).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });

  it("buckets timestamps by hour and day", () => {
    expect(m.bucketStart(1_700_003_599n, 3600n)).to.equal(1_700_002_800n);
    expect(m.bucketStart(1_700_002_800n, 3600n)).to.equal(1_700_002_800n);
    expect(m.bucketStart(1_700_003_599n, 86_400n)).to.equal(1_699_920_000n);
  });
});
