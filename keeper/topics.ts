// Bus topics the keeper writes and reads, in one place (the gateway and matcher use the same names).
// Streams are durable (read by position); channels are live pub/sub copies for pushes.

/** Stream + channel: every decoded Exchange event, and reorg corrections ({type: "reorg"}). */
export const CHAIN_EVENTS = "chain.events";
/** Stream: commands for the matching engine from the chain (balance, chainCancel, settlement). */
export const MATCHER_COMMANDS = "matcher.commands";
/** Stream: fills for settlement, appended by the matcher in trade order (see keeper/settler/types.ts). */
export const FILLS = "settlement.fills";
/** Stream + channel: per-fill settlement results for the gateway's user stream. */
export const SETTLEMENT_RESULTS = "settlement.results";
/** Channel: liquidations (seam for the liquidator bot). */
export const LIQUIDATIONS = "chain.liquidations";
/** Channel: candle updates from settled fills (keeper/listener/candles.ts CandleMessage), for the gateway's klines. */
export const CANDLES = "market.candles";
