import { expect } from "chai";
import fc from "fast-check";
import { type Address, type Hex, decodeFunctionData, size as byteSize, toFunctionSelector } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import type { Batch, Fill, Order } from "../../sdk/eip712";
import {
  PACKED_FILL_BYTES,
  PACKED_HEADER_BYTES,
  PACKED_ORDER_BYTES,
  decodeSettlePackedPayload,
  encodeSettlePacked,
  encodeSettlePackedPayload,
  settlePackedCalldataBytes,
  settlePackedPayloadBytes,
} from "../../sdk/settlePacked";

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => toHexBytes(b));
const toHexBytes = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString("hex")}`;
const u = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

const orderArb: fc.Arbitrary<Order> = fc.record({
  account: hex(20).map((h) => h as Address),
  market: fc.nat({ max: 2 ** 32 - 1 }),
  isBuy: fc.boolean(),
  reduceOnly: fc.boolean(),
  price: u(64),
  size: u(64),
  nonce: u(64),
  expiry: u(64),
});
const fillArb: fc.Arbitrary<Fill> = fc.record({
  maker: fc.nat({ max: 65_535 }),
  taker: fc.nat({ max: 65_535 }),
  size: u(64),
  price: u(64),
  makerFee: i64,
  takerFee: i64,
});
const batchArb: fc.Arbitrary<Batch> = fc
  .array(fc.tuple(orderArb, fc.oneof(hex(65), fc.uint8Array({ maxLength: 200 }).map(toHexBytes))), { maxLength: 6 })
  .chain((os) =>
    fc.record({
      number: u(64),
      deadline: u(64),
      orders: fc.constant(os.map(([o]) => o)),
      signatures: fc.constant(os.map(([, s]) => s)),
      fills: fc.array(fillArb, { maxLength: 6 }),
    }),
  );

const SIG65 = `0x${"ab".repeat(64)}1b` as Hex;

function sampleBatch(): Batch {
  return {
    number: 7n,
    deadline: 1_800_000_000n,
    orders: [
      {
        account: "0x00000000000000000000000000000000000000aa",
        market: 1,
        isBuy: false,
        reduceOnly: true,
        price: 60_000_000_000n,
        size: 50_000_000n,
        nonce: 3n,
        expiry: 1_800_000_100n,
      },
      {
        account: "0x00000000000000000000000000000000000000bb",
        market: 1,
        isBuy: true,
        reduceOnly: false,
        price: 60_010_000_000n,
        size: 50_000_000n,
        nonce: 9n,
        expiry: 1_800_000_200n,
      },
    ],
    signatures: [SIG65, "0x1234"],
    fills: [{ maker: 0, taker: 1, size: 50_000_000n, price: 60_000_000_000n, makerFee: -3_000_000n, takerFee: 15n }],
  };
}

describe("sdk/settlePacked", () => {
  it("lays out the payload byte for byte as the contract reads it", () => {
    const p = encodeSettlePackedPayload(sampleBatch(), SIG65).slice(2);
    const at = (off: number, len: number) => p.slice(2 * off, 2 * (off + len));
    expect(at(0, 8)).to.equal("0000000000000007");
    expect(at(8, 8)).to.equal((1_800_000_000).toString(16).padStart(16, "0"));
    expect(at(16, 3)).to.equal("000002");
    expect(at(19, 3)).to.equal("000001");
    expect(at(22, 65)).to.equal(SIG65.slice(2));
    const o0 = PACKED_HEADER_BYTES;
    expect(at(o0, 20)).to.equal("00000000000000000000000000000000000000aa");
    expect(at(o0 + 20, 4)).to.equal("00000001");
    expect(at(o0 + 24, 1)).to.equal("02"); // sell, reduce-only
    expect(at(o0 + 25, 8)).to.equal(60_000_000_000n.toString(16).padStart(16, "0"));
    expect(at(o0 + PACKED_ORDER_BYTES + 24, 1)).to.equal("01"); // buy
    const f0 = o0 + 2 * PACKED_ORDER_BYTES;
    expect(at(f0, 4)).to.equal("00000001");
    expect(at(f0 + 20, 8)).to.equal("ffffffffffd23940"); // -3,000,000 in two's complement
    expect(at(f0 + 28, 8)).to.equal("000000000000000f");
    const s0 = f0 + PACKED_FILL_BYTES;
    expect(at(s0, 2)).to.equal("0041");
    expect(at(s0 + 2 + 65, 2)).to.equal("0002");
    expect(at(s0 + 2 + 65 + 2, 2)).to.equal("1234");
    expect(p.length / 2).to.equal(s0 + 2 + 65 + 2 + 2);
  });

  it("encodeSettlePacked is settlePacked(bytes) with the payload, and its size is settlePackedCalldataBytes", () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const data = encodeSettlePacked(batch, SIG65);
        expect(data.slice(0, 10)).to.equal(toFunctionSelector("settlePacked(bytes)"));
        const { functionName, args } = decodeFunctionData({ abi: exchangeAbi, data });
        expect(functionName).to.equal("settlePacked");
        const payload = (args as readonly [Hex])[0];
        expect(payload).to.equal(encodeSettlePackedPayload(batch, SIG65));
        expect(byteSize(payload)).to.equal(settlePackedPayloadBytes(batch.signatures, batch.fills.length));
        expect(byteSize(data)).to.equal(settlePackedCalldataBytes(batch.signatures, batch.fills.length));
      }),
    );
  });

  it("decodes back to the same batch and operator signature", () => {
    fc.assert(
      fc.property(batchArb, hex(65), (batch, sig) => {
        const decoded = decodeSettlePackedPayload(encodeSettlePackedPayload(batch, sig));
        expect(decoded.operatorSignature).to.equal(sig);
        expect(decoded.batch).to.deep.equal({
          ...batch,
          orders: batch.orders.map((o) => ({ ...o, account: o.account.toLowerCase() })),
          signatures: batch.signatures.map((s) => s.toLowerCase()),
        });
      }),
    );
  });

  it("is much smaller than the ABI encoding of settle", () => {
    // 100 distinct orders with 65-byte signatures, 50 fills: 51,652 bytes ABI-encoded (settle), 14,372 packed
    const sigs = Array.from({ length: 100 }, () => SIG65);
    expect(settlePackedCalldataBytes(sigs, 50)).to.equal(
      68 + Math.ceil((87 + 100 * (57 + 2 + 65) + 50 * 36) / 32) * 32,
    );
    expect(settlePackedCalldataBytes(sigs, 50)).to.equal(14_372);
  });

  it("refuses what its fields cannot hold", () => {
    const b = sampleBatch();
    expect(() => encodeSettlePackedPayload(b, "0x1234")).to.throw(/operator signature must be 65 bytes/);
    expect(() => encodeSettlePackedPayload({ ...b, signatures: [SIG65] }, SIG65)).to.throw(/2 orders but 1 signatures/);
    const badFill = (f: Partial<Fill>) => ({ ...b, fills: [{ ...b.fills[0], ...f }] });
    expect(() => encodeSettlePackedPayload(badFill({ maker: 65_536 }), SIG65)).to.throw(/maker 65536 outside uint16/);
    expect(() => encodeSettlePackedPayload(badFill({ size: 2n ** 64n }), SIG65)).to.throw(/size .* outside uint64/);
    expect(() => encodeSettlePackedPayload(badFill({ makerFee: -(2n ** 63n) - 1n }), SIG65)).to.throw(/outside int64/);
    expect(() => encodeSettlePackedPayload(badFill({ takerFee: 2n ** 63n }), SIG65)).to.throw(/outside int64/);
    const badOrder = (o: Partial<Order>) => ({ ...b, orders: [{ ...b.orders[0], ...o }, b.orders[1]] });
    expect(() => encodeSettlePackedPayload(badOrder({ market: 2 ** 32 }), SIG65)).to.throw(/market .* outside uint32/);
    expect(() => encodeSettlePackedPayload(badOrder({ nonce: -1n }), SIG65)).to.throw(/nonce -1 outside uint64/);
    expect(() => encodeSettlePackedPayload(badOrder({ account: "0x12" }), SIG65)).to.throw(/account/);
    expect(() => encodeSettlePackedPayload({ ...b, number: 2n ** 64n }, SIG65)).to.throw(/number/);
    const longSig = `0x${"00".repeat(65_536)}` as Hex;
    expect(() => encodeSettlePackedPayload({ ...b, signatures: [longSig, SIG65] }, SIG65)).to.throw(
      /signature 0 length 65536 outside uint16/,
    );
    expect(() => encodeSettlePackedPayload({ ...b, signatures: ["0x123" as Hex, SIG65] }, SIG65)).to.throw(/bad hex/);
  });

  it("the decoder refuses truncated, overlong and malformed payloads", () => {
    const p = encodeSettlePackedPayload(sampleBatch(), SIG65);
    expect(() => decodeSettlePackedPayload(p.slice(0, -2) as Hex)).to.throw(/truncated at signature 1/);
    expect(() => decodeSettlePackedPayload(`${p}00`)).to.throw(/1 trailing bytes/);
    expect(() => decodeSettlePackedPayload("0x0000")).to.throw(/truncated at number/);
    const flagsAt = 2 + 2 * (PACKED_HEADER_BYTES + 24);
    expect(() => decodeSettlePackedPayload(`${p.slice(0, flagsAt)}04${p.slice(flagsAt + 2)}` as Hex)).to.throw(
      /order 0 flags 4/,
    );
  });
});
