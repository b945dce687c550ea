import { expect } from "chai";
import { encodeFunctionData, toHex, type Hex } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { exchangeDomain, hashOrder, type Batch, type Fill, type Order } from "../../sdk/eip712";
import { calldataBytes, encodeSettle, fillsWithinCalldata, settleCalldataBytes } from "../../keeper/settler";

// The settler picks the fills that fit its calldata allowance before assembling, signing and encoding:
// the estimate must equal the encoded size of what it sends (encodeSettle: settlePacked) and
// settleCalldataBytes that of settle() (the post-encode check is only a safety net).
describe("settler calldata estimate", () => {
  const domain = exchangeDomain(31337, "0x00000000000000000000000000000000000000e1");
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const order = (i: number): Order => ({
    account: toHex(i + 1, { size: 20 }),
    market: i % 3,
    isBuy: i % 2 === 0,
    reduceOnly: false,
    price: 60_000_000_000n + BigInt(i),
    size: 1_000_000n,
    nonce: BigInt(i),
    expiry: 2n ** 40n,
  });
  const sigOf = (len: number, i: number): Hex => toHex(new Uint8Array(len).fill(i % 256));
  const operatorSig = sigOf(65, 1);

  /** A queue of fills over a pool of orders (shared between fills), with signatures of varied lengths. */
  function queue(fills: number, pool: number) {
    const sigLens = [65, 65, 65, 64, 0, 97, 200];
    const orders = Array.from({ length: pool }, (_, i) => ({
      order: order(i),
      sig: sigOf(sigLens[rnd(sigLens.length)], i),
    }));
    return Array.from({ length: fills }, () => {
      const m = orders[rnd(pool)];
      let t = orders[rnd(pool)];
      if (t === m) t = orders[(orders.indexOf(m) + 1) % pool];
      return { maker: m, taker: t };
    });
  }
  type Q = ReturnType<typeof queue>;

  /** What the settler assembles and encodes (keeper/settler assemble): distinct orders by hash, first signature. */
  function encoded(q: Q, abi = false): { bytes: number; batch: Batch } {
    const index = new Map<Hex, number>();
    const batch: Batch = { number: 12n, deadline: 2n ** 40n, orders: [], signatures: [], fills: [] };
    const idx = (o: { order: Order; sig: Hex }) => {
      const h = hashOrder(domain, o.order);
      let i = index.get(h);
      if (i === undefined) {
        i = batch.orders.length;
        index.set(h, i);
        batch.orders.push(o.order);
        batch.signatures.push(o.sig);
      }
      return i;
    };
    batch.fills = q.map((f): Fill => ({
      maker: idx(f.maker),
      taker: idx(f.taker),
      size: 1_000_000n,
      price: 60_000_000_000n,
      makerFee: -5n,
      takerFee: 30n,
    }));
    const data = abi
      ? encodeFunctionData({ abi: exchangeAbi, functionName: "settle", args: [batch, operatorSig] })
      : encodeSettle(batch, operatorSig);
    return { bytes: (data.length - 2) / 2, batch };
  }
  const ids = (q: Q) =>
    q.map(
      (f) =>
        [
          { id: hashOrder(domain, f.maker.order), sig: f.maker.sig },
          { id: hashOrder(domain, f.taker.order), sig: f.taker.sig },
        ] as const,
    );

  it("equals the encoded size of the settler's calldata (settlePacked) and of settle()", () => {
    for (const [fills, pool] of [
      [1, 2],
      [5, 3],
      [40, 10],
      [120, 300],
      [200, 40],
    ]) {
      const q = queue(fills, pool);
      const { bytes, batch } = encoded(q, true);
      expect(settleCalldataBytes(batch.signatures, batch.fills.length)).to.equal(bytes);
      expect(calldataBytes(batch.signatures, batch.fills.length)).to.equal(encoded(q).bytes);
    }
  });

  it("picks the longest prefix that fits, at least one fill", () => {
    for (const [fills, pool, max] of [
      [60, 20, 6_000],
      [60, 200, 9_000],
      [80, 8, 12_345],
      [30, 60, 100],
    ]) {
      const q = queue(fills, pool);
      const k = fillsWithinCalldata(ids(q), max);
      expect(k).to.be.at.least(1);
      if (k > 1) expect(encoded(q.slice(0, k)).bytes).to.be.at.most(max);
      if (k < q.length) expect(encoded(q.slice(0, k + 1)).bytes).to.be.above(max);
    }
  });

  it("reads the fills only up to the first that does not fit", () => {
    const q = queue(50, 100);
    let read = 0;
    function* lazy() {
      for (const x of ids(q)) {
        read++;
        yield x;
      }
    }
    const k = fillsWithinCalldata(lazy(), 3_000);
    expect(k).to.be.below(50);
    expect(read).to.equal(k + 1);
  });
});
