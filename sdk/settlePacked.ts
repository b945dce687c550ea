// The packed encoding of a settlement batch: `Exchange.settlePacked(bytes)`, the same batch as
// `settle(Batch, bytes)` without the ABI's 32-byte padding (contracts/README.md, "Gas", has the table).
// The operator signs exactly what it signs for `settle` (sdk/eip712.ts signBatch: the same Batch struct
// hash), so a signed batch can go either way.
//
// Payload (big-endian, no padding):
//   header   number uint64 (8) | deadline uint64 (8) | order count uint24 (3) | fill count uint24 (3)
//            | operator signature r, s, v (65)                                              = 87 bytes
//   orders   account (20) | market uint32 (4) | flags (1: bit 0 isBuy, bit 1 reduceOnly)
//            | price uint64 (8) | size uint64 (8) | nonce uint64 (8) | expiry uint64 (8)  = 57 bytes each
//   fills    maker uint16 (2) | taker uint16 (2) | size uint64 (8) | price uint64 (8)
//            | makerFee int64 (8) | takerFee int64 (8), two's complement              = 36 bytes each
//   sigs     per order, in order: length uint16 (2) | the signature's bytes
// The contract reverts on a payload shorter or longer than this (PackedBatchTruncated,
// PackedSignatureTruncated, PackedBatchTrailingBytes) and on a flags byte above 3 (PackedOrderFlagsInvalid).
import { type Hex, encodeFunctionData, size as byteSize } from "viem";
import { exchangeAbi } from "./abi";
import type { Batch, Fill, Order } from "./eip712";

export const PACKED_HEADER_BYTES = 87;
export const PACKED_ORDER_BYTES = 57;
export const PACKED_FILL_BYTES = 36;
/** Per order: the uint16 length in front of its signature. */
export const PACKED_SIG_LENGTH_BYTES = 2;
/** Orders and fills are counted in uint24; fills index orders by uint16. */
export const PACKED_MAX_COUNT = 2 ** 24 - 1;
/** Selector, the `bytes` argument's offset and length words (the payload is then padded to whole words). */
export const SETTLE_PACKED_ABI_OVERHEAD = 4 + 32 + 32;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function sigBytes(sig: Hex): number {
  if (typeof sig !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(sig)) throw new Error(`settlePacked: bad hex ${sig}`);
  return (sig.length - 2) / 2;
}

/** Size of the packed payload (the `bytes` argument) for these distinct orders' signatures and fills. */
export function settlePackedPayloadBytes(signatures: readonly Hex[], fills: number): number {
  let n = PACKED_HEADER_BYTES + fills * PACKED_FILL_BYTES;
  for (const s of signatures) n += PACKED_ORDER_BYTES + PACKED_SIG_LENGTH_BYTES + sigBytes(s);
  return n;
}

/** Exact size of encodeSettlePacked's calldata (selector included) for these orders' signatures and fills. */
export function settlePackedCalldataBytes(signatures: readonly Hex[], fills: number): number {
  return SETTLE_PACKED_ABI_OVERHEAD + Math.ceil(settlePackedPayloadBytes(signatures, fills) / 32) * 32;
}

function uint(v: bigint | number, bytes: number, what: string): string {
  const x = BigInt(v);
  if (x < 0n || x >= 1n << BigInt(8 * bytes))
    throw new RangeError(`settlePacked: ${what} ${x} outside uint${8 * bytes}`);
  return x.toString(16).padStart(2 * bytes, "0");
}

function int64(v: bigint, what: string): string {
  if (v < I64_MIN || v > I64_MAX) throw new RangeError(`settlePacked: ${what} ${v} outside int64`);
  return uint(BigInt.asUintN(64, v), 8, what);
}

function orderHex(o: Order, i: number): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(o.account)) throw new Error(`settlePacked: order ${i} account ${o.account}`);
  const flags = (o.isBuy ? 1 : 0) | (o.reduceOnly ? 2 : 0);
  return (
    o.account.slice(2).toLowerCase() +
    uint(o.market, 4, `order ${i} market`) +
    uint(flags, 1, "flags") +
    uint(o.price, 8, `order ${i} price`) +
    uint(o.size, 8, `order ${i} size`) +
    uint(o.nonce, 8, `order ${i} nonce`) +
    uint(o.expiry, 8, `order ${i} expiry`)
  );
}

function fillHex(f: Fill, j: number): string {
  return (
    uint(f.maker, 2, `fill ${j} maker`) +
    uint(f.taker, 2, `fill ${j} taker`) +
    uint(f.size, 8, `fill ${j} size`) +
    uint(f.price, 8, `fill ${j} price`) +
    int64(f.makerFee, `fill ${j} makerFee`) +
    int64(f.takerFee, `fill ${j} takerFee`)
  );
}

/** The packed payload: the `bytes` argument of settlePacked. Throws on a value its field cannot hold. */
export function encodeSettlePackedPayload(batch: Batch, operatorSignature: Hex): Hex {
  const n = batch.orders.length;
  const m = batch.fills.length;
  if (batch.signatures.length !== n)
    throw new Error(`settlePacked: ${n} orders but ${batch.signatures.length} signatures`);
  if (n > PACKED_MAX_COUNT || m > PACKED_MAX_COUNT) throw new RangeError(`settlePacked: ${n} orders, ${m} fills`);
  if (sigBytes(operatorSignature) !== 65) throw new Error("settlePacked: the operator signature must be 65 bytes");
  const parts: string[] = [
    uint(batch.number, 8, "number"),
    uint(batch.deadline, 8, "deadline"),
    uint(n, 3, "order count"),
    uint(m, 3, "fill count"),
    operatorSignature.slice(2),
  ];
  batch.orders.forEach((o, i) => parts.push(orderHex(o, i)));
  batch.fills.forEach((f, j) => parts.push(fillHex(f, j)));
  batch.signatures.forEach((s, i) => parts.push(uint(sigBytes(s), 2, `signature ${i} length`), s.slice(2)));
  return `0x${parts.join("")}`.toLowerCase() as Hex;
}

/** The full calldata (selector included) of settlePacked for a batch and its operator signature. */
export function encodeSettlePacked(batch: Batch, operatorSignature: Hex): Hex {
  return encodeFunctionData({
    abi: exchangeAbi,
    functionName: "settlePacked",
    args: [encodeSettlePackedPayload(batch, operatorSignature)],
  });
}

/** Inverse of encodeSettlePackedPayload (for tests and tools); throws on a malformed payload. */
export function decodeSettlePackedPayload(payload: Hex): { batch: Batch; operatorSignature: Hex } {
  const total = byteSize(payload);
  const hex = payload.slice(2);
  let at = 0;
  const take = (bytes: number, what: string): string => {
    if (at + bytes > total) throw new Error(`settlePacked: truncated at ${what} (byte ${at} of ${total})`);
    const s = hex.slice(2 * at, 2 * (at + bytes));
    at += bytes;
    return s;
  };
  const num = (bytes: number, what: string) => BigInt(`0x${take(bytes, what)}`);
  const number = num(8, "number");
  const deadline = num(8, "deadline");
  const n = Number(num(3, "order count"));
  const m = Number(num(3, "fill count"));
  const operatorSignature = `0x${take(65, "operator signature")}` as Hex;
  const orders: Order[] = [];
  for (let i = 0; i < n; i++) {
    const account = `0x${take(20, `order ${i}`)}` as Hex;
    const market = Number(num(4, `order ${i}`));
    const flags = Number(num(1, `order ${i}`));
    if (flags > 3) throw new Error(`settlePacked: order ${i} flags ${flags}`);
    orders.push({
      account,
      market,
      isBuy: (flags & 1) !== 0,
      reduceOnly: (flags & 2) !== 0,
      price: num(8, `order ${i}`),
      size: num(8, `order ${i}`),
      nonce: num(8, `order ${i}`),
      expiry: num(8, `order ${i}`),
    });
  }
  const fills: Fill[] = [];
  for (let j = 0; j < m; j++) {
    fills.push({
      maker: Number(num(2, `fill ${j}`)),
      taker: Number(num(2, `fill ${j}`)),
      size: num(8, `fill ${j}`),
      price: num(8, `fill ${j}`),
      makerFee: BigInt.asIntN(64, num(8, `fill ${j}`)),
      takerFee: BigInt.asIntN(64, num(8, `fill ${j}`)),
    });
  }
  const signatures: Hex[] = [];
  for (let i = 0; i < n; i++) {
    const len = Number(num(2, `signature ${i} length`));
    signatures.push(`0x${take(len, `signature ${i}`)}` as Hex);
  }
  if (at !== total) throw new Error(`settlePacked: ${total - at} trailing bytes`);
  return { batch: { number, deadline, orders, signatures, fills }, operatorSignature };
}
