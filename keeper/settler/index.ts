export {
  Settler,
  calldataBytes,
  decodeRevert,
  encodeSettle,
  fillsWithinCalldata,
  settleCalldataBytes,
  SETTLE_FIXED_BYTES,
  SETTLE_FILL_BYTES,
  SETTLE_ORDER_BYTES,
  type SettlerOptions,
} from "./settler";
export * from "./types";
