// An order's type, original type, time in force and working type packed into one small integer
// (Order.kinds). The event log keeps it as a number in an order event's row where it kept four
// string references (four pointer stores, each with its GC write barrier, on every order event).
// The engine gets the codes from its validation of a placement (orderTypeCode and the others return
// -1 for a value outside its type), so packing costs nothing more per order.
import type { OrderType, TimeInForce, WorkingType } from "./types";

/** Values by code. Bits of a kinds integer: orderType 0-2, origType 3-5, time in force 6-7, working type 8. */
export const ORDER_TYPES: readonly OrderType[] = [
  "LIMIT",
  "MARKET",
  "STOP",
  "STOP_MARKET",
  "TAKE_PROFIT",
  "TAKE_PROFIT_MARKET",
  "TRAILING_STOP_MARKET",
];
export const TIME_IN_FORCES: readonly TimeInForce[] = ["GTC", "IOC", "FOK", "GTX"];
export const WORKING_TYPES: readonly WorkingType[] = ["CONTRACT_PRICE", "MARK_PRICE"];
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
  const codes = [orderTypeCode(orderType), orderTypeCode(origType), tifCode(tif), workingTypeCode(workingType)];
  const bad = codes.indexOf(-1);
  if (bad >= 0) {
    const value = [orderType, origType, tif, workingType][bad];
    throw new RangeError(
      `order kinds: ${String(value)} is not a valid ${["order type", "order type", "time in force", "working type"][bad]}`,
    );
  }
  return kindsOf(codes[0], codes[1], codes[2], codes[3]);
}

export function kindsOrderType(k: number): OrderType {
  return ORDER_TYPES[k & 7];
}
export function kindsOrigType(k: number): OrderType {
  return ORDER_TYPES[(k >> 3) & 7];
}
export function kindsTif(k: number): TimeInForce {
  return TIME_IN_FORCES[(k >> 6) & 3];
}
export function kindsWorkingType(k: number): WorkingType {
  return WORKING_TYPES[(k >> 8) & 1];
}
