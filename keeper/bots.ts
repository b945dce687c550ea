// Seams for the liquidator and the funding updater. They need contract functions that do not exist yet
// (liquidation and funding arrive with the next contract issue), so nothing here runs. Each bot will be
// a Service started by keeper/main.ts next to the listener and the settler:
//
// - Liquidator: reads positions (the `positions` view the listener maintains) and oracle marks, checks
//   each account with sdk/margin.ts isLiquidatable, sends the liquidation through a TxManager of its own
//   gas key (key prefix `liquidate:`), publishes on topics.LIQUIDATIONS; the listener then turns the
//   on-chain event into a matcher `liquidation` command (matcherCommands in listener/events.ts).
// - Funding updater: computes the clamped rate from mark against index over the interval and pushes it
//   with a TxManager intent keyed by the interval (`funding:<market>:<interval>`), so a restart never
//   pushes one interval twice; the listener turns the event into a matcher `funding` command.

export interface Service {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}
