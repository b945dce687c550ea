// An order's type, original type, time in force and working type packed into one small integer
// (Order.kinds). The event log keeps it as a number in an order event's row where it kept four
// string references (four pointer stores, each with its GC write barrier, on every order event).
// The engine gets the codes from its validation of a placement (orderTypeCode and the others return
// -1 for a value outside its type), so packing costs nothing more per order.
// A value's code is its index in its table in types.ts (ORDER_TYPES, TIME_IN_FORCES, WORKING_TYPES).
// Bits of a kinds integer: orderType 0-2, origType 3-5, time in force 6-7, working type 8.
import * as ty from "./types";
import type { OrderType, TimeInForce, WorkingType } from "./types";

// copied into module constants: tsx/esbuild's CommonJS output reads imported names through a getter
const { ORDER_TYPES, TIME_IN_FORCES, WORKING_TYPES } = ty;

/** tifCode("IOC"): what a market-type order's time in force becomes. */
export const TIF_IOC = 1;

// Comparisons with the (internalized) literals: cheaper than keyed lookups.
export function orderTypeCode(t: unknown): number {
  switch (t) {
    case "LIMIT":
      return 0;
    case "MARKET":
      return 1;
    case "STOP":
      return 2;
    case "STOP_MARKET":
      return 3;
    case "TAKE_PROFIT":
      return 4;
    case "TAKE_PROFIT_MARKET":
      return 5;
    case "TRAILING_STOP_MARKET":
      return 6;
    default:
      return -1;
  }
}

export function tifCode(t: unknown): number {
  switch (t) {
    case "GTC":
      return 0;
    case "IOC":
      return TIF_IOC;
    case "FOK":
      return 2;
    case "GTX":
      return 3;
    default:
      return -1;
  }
}

export function workingTypeCode(t: unknown): number {
  if (t === "CONTRACT_PRICE") return 0;
  if (t === "MARK_PRICE") return 1;
  return -1;
}

/** The kinds integer of four valid codes. */
export function kindsOf(orderType: number, origType: number, tif: number, workingType: number): number {
  return orderType | (origType << 3) | (tif << 6) | (workingType << 8);
}

/** The kinds integer of four values (a snapshot's, a trigger's); throws on a value outside its type. */
export function packKinds(
  orderType: OrderType,
  origType: OrderType,
  tif: TimeInForce,
  workingType: WorkingType,
): number {
  // a snapshot restore packs every order: no arrays built per call
  const ot = orderTypeCode(orderType);
  const orig = orderTypeCode(origType);
  const tc = tifCode(tif);
  const wt = workingTypeCode(workingType);
  if (ot < 0 || orig < 0) throw invalid(ot < 0 ? orderType : origType, "order type");
  if (tc < 0) throw invalid(tif, "time in force");
  if (wt < 0) throw invalid(workingType, "working type");
  return kindsOf(ot, orig, tc, wt);
}

function invalid(value: unknown, what: string): RangeError {
  return new RangeError(`order kinds: ${String(value)} is not a valid ${what}`);
}

export function kindsOrderType(k: number): OrderType {
  return ORDER_TYPES[k & 7];
}
export function kindsOrigType(k: number): OrderType {
  return ORDER_TYPES[(k >> 3) & 7];
}
/**
 * Whether an order of these kinds can have a stop price: its original type is STOP, STOP_MARKET,
 * TAKE_PROFIT or TAKE_PROFIT_MARKET (codes 2-5; any other order's stopPrice is 0, so an event need not
 * read the field, which sits in the order's rarely read tail).
 */
export function kindsHasStopPrice(k: number): boolean {
  const orig = (k >> 3) & 7;
  return orig >= 2 && orig <= 5;
}
export function kindsTif(k: number): TimeInForce {
  return TIME_IN_FORCES[(k >> 6) & 3];
}
export function kindsWorkingType(k: number): WorkingType {
  return WORKING_TYPES[(k >> 8) & 1];
}
