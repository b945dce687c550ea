// The arithmetic the mappings do, in one place, in the units of sdk/units.ts:
//   collateral (quote) amounts: 6-decimal token units; price: quote units per WHOLE base unit;
//   size: 1e-8 base units (positive long, negative short); rates: parts per million.
// Every function mirrors a function of sdk/units.ts or sdk/margin.ts (named the same) or is
// defined here in terms of them; test/subgraph/math.test.ts compiles this file to wasm and checks
// it against the sdk on shared vectors and random inputs.
//
// graph-ts BigInt division truncates toward zero (like Solidity); divFloor/divCeil round the way
// the contract and the sdk do.
import { BigInt } from "@graphprotocol/graph-ts";

export function sizeOne(): BigInt {
  return BigInt.fromI32(100_000_000);
}

export function rateOne(): BigInt {
  return BigInt.fromI32(1_000_000);
}

/** Floor division toward negative infinity; `b` must be positive (sdk/units.ts divFloor). */
export function divFloor(a: BigInt, b: BigInt): BigInt {
  const q = a.div(b);
  if (a.lt(BigInt.zero()) && !q.times(b).equals(a)) return q.minus(BigInt.fromI32(1));
  return q;
}

/** Ceiling division toward positive infinity (sdk/units.ts divCeil). */
export function divCeil(a: BigInt, b: BigInt): BigInt {
  return divFloor(a.neg(), b).neg();
}

export function absBig(a: BigInt): BigInt {
  return a.lt(BigInt.zero()) ? a.neg() : a;
}

export function maxBig(a: BigInt, b: BigInt): BigInt {
  return a.gt(b) ? a : b;
}

/** Signed value of a position, rounded down: against the holder (sdk/units.ts positionValue). */
export function positionValue(size: BigInt, price: BigInt): BigInt {
  return divFloor(size.times(price), sizeOne());
}

/** Absolute notional, rounded up (sdk/units.ts notionalCeil). */
export function notionalCeil(size: BigInt, price: BigInt): BigInt {
  return divCeil(absBig(size).times(price), sizeOne());
}

/** Quote units the buyer pays before fees: ceil(size*price/1e8) (sdk/margin.ts buyerPays). */
export function buyerPays(size: BigInt, price: BigInt): BigInt {
  return divCeil(size.times(price), sizeOne());
}

/** Quote units the seller receives before fees: floor(size*price/1e8) (sdk/margin.ts sellerReceives). */
export function sellerReceives(size: BigInt, price: BigInt): BigInt {
  return divFloor(size.times(price), sizeOne());
}

/** Volume of a fill in quote units: what the seller receives, floor(size*price/1e8). */
export function fillVolume(size: BigInt, price: BigInt): BigInt {
  return sellerReceives(size, price);
}

/**
 * What one fill adds to the Exchange's fee pool: both fees plus the rounding remainder
 * (buyerPays - sellerReceives, 0 or 1 unit). Summed over a batch this is BatchSettled.fees.
 */
export function fillFeePool(size: BigInt, price: BigInt, makerFee: BigInt, takerFee: BigInt): BigInt {
  return buyerPays(size, price).minus(sellerReceives(size, price)).plus(makerFee).plus(takerFee);
}

/**
 * Cash an account's trade moves, before fees: buying `delta` > 0 pays buyerPays, selling
 * (`delta` < 0) receives sellerReceives. Zero for a zero delta.
 */
export function tradeCashFlow(delta: BigInt, price: BigInt): BigInt {
  if (delta.gt(BigInt.zero())) return buyerPays(delta, price).neg();
  return sellerReceives(delta.neg(), price);
}

/**
 * Change in open interest (sum of long sizes, which equals the sum of short sizes) when one
 * account's position in a market goes from `oldSize` to `newSize`.
 */
export function openInterestDelta(oldSize: BigInt, newSize: BigInt): BigInt {
  return maxBig(newSize, BigInt.zero()).minus(maxBig(oldSize, BigInt.zero()));
}

/** A position's size, cost basis and the PnL one trade realised. */
export class PositionUpdate {
  constructor(
    public size: BigInt,
    public cost: BigInt,
    public realized: BigInt,
  ) {}
}

/**
 * Average-cost bookkeeping of one trade of `delta` at `price` on a position of `size` whose cost
 * basis is `cost` (the cash spent to open it: positive for a long, negative for a short, so that
 * unrealised PnL = positionValue(size, mark) - cost). Uses the exact cash flows of settlement
 * (tradeCashFlow), fees excluded. Closing q of |size| removes floor(cost*q/|size|) from the cost and
 * realises (cash flow of the closing part) - (cost removed); a flip opens the rest at the trade's
 * remaining cash flow. Over a position's life, realised PnL adds up to its total cash flow exactly.
 */
export function applyTrade(size: BigInt, cost: BigInt, delta: BigInt, price: BigInt): PositionUpdate {
  const zero = BigInt.zero();
  const flow = tradeCashFlow(delta, price);
  if (delta.isZero()) return new PositionUpdate(size, cost, zero);
  const increases = size.isZero() || size.gt(zero) == delta.gt(zero);
  if (increases) return new PositionUpdate(size.plus(delta), cost.minus(flow), zero);
  const absSize = absBig(size);
  const absDelta = absBig(delta);
  if (absDelta.le(absSize)) {
    const removed = divFloor(cost.times(absDelta), absSize);
    return new PositionUpdate(size.plus(delta), cost.minus(removed), flow.minus(removed));
  }
  // Flip: close all of `size`, open the rest on the other side.
  const closeDelta = size.neg();
  const closeFlow = tradeCashFlow(closeDelta, price);
  const openFlow = flow.minus(closeFlow);
  return new PositionUpdate(size.plus(delta), openFlow.neg(), closeFlow.minus(cost));
}

/** Unrealised PnL at `mark`: positionValue(size, mark) - cost. */
export function unrealizedPnl(size: BigInt, cost: BigInt, mark: BigInt): BigInt {
  return positionValue(size, mark).minus(cost);
}

/** Average entry price (quote per whole base unit) of a cost basis, floor; zero when flat. */
export function entryPrice(size: BigInt, cost: BigInt): BigInt {
  if (size.isZero()) return BigInt.zero();
  return divFloor(absBig(cost).times(sizeOne()), absBig(size));
}

/**
 * Funding a position pays (negative) or receives when the market's cumulative funding index
 * (quote units per whole base unit, the price's units) moves by `indexDelta`: longs pay a
 * rising index. Rounded against the holder like every other value:
 * cash change = floor(-size * indexDelta / 1e8).
 */
export function fundingPayment(size: BigInt, indexDelta: BigInt): BigInt {
  return divFloor(size.neg().times(indexDelta), sizeOne());
}

/** Funding index move for one period at `ratePpm` of `price`: floor(price*rate/1e6) (truncated, signed). */
export function fundingIndexDelta(price: BigInt, ratePpm: BigInt): BigInt {
  return divFloor(price.times(ratePpm), rateOne());
}

/** Start (unix seconds) of the `period`-second bucket holding `timestamp`. */
export function bucketStart(timestamp: i64, period: i64): i64 {
  return timestamp - (timestamp % period);
}
