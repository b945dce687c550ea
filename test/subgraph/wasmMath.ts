// Compiles subgraph/tests/mathHarness.ts (which re-exports subgraph/src/math.ts) with the subgraph's
// own AssemblyScript compiler and instantiates it with graph-node's BigInt host functions implemented
// on JavaScript bigints, so mocha can call the mappings' arithmetic directly.
import fs from "node:fs";
import { AsMemory, type Exports, type Ptr, compileAs } from "./wasmHost";

export { fromSignedBytesLE, toSignedBytesLE } from "./wasmHost";

export interface PositionUpdate {
  size: bigint;
  cost: bigint;
  realized: bigint;
}

export interface WasmMath {
  divFloor(a: bigint, b: bigint): bigint;
  divCeil(a: bigint, b: bigint): bigint;
  positionValue(size: bigint, price: bigint): bigint;
  notionalCeil(size: bigint, price: bigint): bigint;
  buyerPays(size: bigint, price: bigint): bigint;
  sellerReceives(size: bigint, price: bigint): bigint;
  fillVolume(size: bigint, price: bigint): bigint;
  fillFeePool(size: bigint, price: bigint, makerFee: bigint, takerFee: bigint): bigint;
  tradeCashFlow(delta: bigint, price: bigint): bigint;
  openInterestDelta(oldSize: bigint, newSize: bigint): bigint;
  applyTrade(size: bigint, cost: bigint, delta: bigint, price: bigint): PositionUpdate;
  unrealizedPnl(size: bigint, cost: bigint, mark: bigint): bigint;
  entryPrice(size: bigint, cost: bigint): bigint;
  fundingPayment(size: bigint, indexDelta: bigint): bigint;
  fundingIndexDelta(price: bigint, ratePpm: bigint): bigint;
  bucketStart(timestamp: bigint, period: bigint): bigint;
}

export const MATH_HARNESS = "subgraph/tests/mathHarness.ts";

export function compileMathWasm(): Promise<string> {
  return compileAs(MATH_HARNESS);
}

export async function loadMathWasm(wasmFile: string): Promise<WasmMath> {
  const mem = new AsMemory();
  const imports = { env: { abort: mem.abort }, numbers: mem.bigIntImports() };
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), imports as WebAssembly.Imports);
  mem.exports = instance.exports as Exports;
  const exp = mem.ex;
  const read = (p: Ptr) => mem.readBigInt(p);
  const write = (v: bigint) => mem.writeBigInt(v);

  const fn =
    (name: string) =>
    (...args: bigint[]): bigint =>
      read(exp[name](...args.map(write)) as Ptr);
  const names = [
    "divFloor",
    "divCeil",
    "positionValue",
    "notionalCeil",
    "buyerPays",
    "sellerReceives",
    "fillVolume",
    "fillFeePool",
    "tradeCashFlow",
    "openInterestDelta",
    "unrealizedPnl",
    "entryPrice",
    "fundingPayment",
    "fundingIndexDelta",
  ] as const;
  const api = Object.fromEntries(names.map((n) => [n, fn(n)])) as unknown as WasmMath;
  api.applyTrade = (size, cost, delta, price) => {
    const u = exp.applyTrade(write(size), write(cost), write(delta), write(price)) as Ptr;
    return {
      size: read(exp.updateSize(u) as Ptr),
      cost: read(exp.updateCost(u) as Ptr),
      realized: read(exp.updateRealized(u) as Ptr),
    };
  };
  api.bucketStart = (timestamp, period) => exp.bucketStart(timestamp, period) as bigint;
  return api;
}
