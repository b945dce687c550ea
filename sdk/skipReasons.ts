// Why the Exchange skipped a fill: the `SkipReason` enum of contracts/interfaces/ExchangeTypes.sol,
// by ordinal (the FillSkipped event carries the ordinal). The ABI does not carry enum names, so
// this list is kept by hand; test/sdk/skipReasons.test.ts checks it (and the subgraph's
// AssemblyScript copy, which cannot import sdk/) against the Solidity source.
export const SKIP_REASONS = [
  "None",
  "OrderIndexOutOfRange",
  "SameOrder",
  "InvalidAccount",
  "BadSignature",
  "Expired",
  "Cancelled",
  "OrderClosed",
  "DuplicateOrder",
  "UnknownMarket",
  "InvalidOrderSize",
  "CrossMarket",
  "SameSide",
  "SelfTrade",
  "PriceNotOnTick",
  "PriceOutsideLimit",
  "InvalidFillSize",
  "Overfill",
  "ReduceOnly",
  "FeeTooHigh",
  "NegativeFees",
  "OracleUnavailable",
] as const;

export type SkipReasonName = (typeof SKIP_REASONS)[number];

/** Ordinal by name, e.g. SkipReason.Expired === 5. */
export const SkipReason = Object.fromEntries(SKIP_REASONS.map((name, i) => [name, i])) as {
  readonly [K in SkipReasonName]: number;
};

/** Name of an ordinal; unknown ordinals (a newer contract) read as `Reason<n>`. */
export function skipReasonName(ordinal: number | bigint): string {
  return SKIP_REASONS[Number(ordinal)] ?? `Reason${ordinal}`;
}
