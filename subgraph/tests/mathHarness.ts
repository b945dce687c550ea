// Test entry (AssemblyScript): exposes src/math.ts to test/subgraph/math.test.ts, which compiles this
// file to wasm with the subgraph's own compiler and supplies graph-node's BigInt host functions.
import { BigInt } from "@graphprotocol/graph-ts";
import { PositionUpdate } from "../src/math";

export {
  divFloor,
  divCeil,
  positionValue,
  notionalCeil,
  buyerPays,
  sellerReceives,
  fillVolume,
  fillFeePool,
  tradeCashFlow,
  openInterestDelta,
  applyTrade,
  unrealizedPnl,
  entryPrice,
  fundingPayment,
  fundingIndexDelta,
  bucketStart,
} from "../src/math";

/** A BigInt of `len` bytes for the host (the test) to fill. */
export function allocBytes(len: i32): BigInt {
  return new BigInt(len);
}

export function updateSize(u: PositionUpdate): BigInt {
  return u.size;
}

export function updateCost(u: PositionUpdate): BigInt {
  return u.cost;
}

export function updateRealized(u: PositionUpdate): BigInt {
  return u.realized;
}
