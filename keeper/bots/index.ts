// The keeper's bots, each a Service started by keeper/keeper.ts next to the listener and the settler, each
// sending through a TxManager of its own key (so their nonces never mix with the settler's):
//   - liquidator.ts: accounts below maintenance at the oracle marks (sdk/margin.ts, sdk/liquidation.ts) are
//     liquidated on chain down to healthy; their orders are cancelled in the matcher first; the result is
//     published on topics.LIQUIDATIONS (the gateway's @forceOrder).
//   - funding.ts: once per funding interval per market, the rate from the exchange's price (settled trades)
//     against the oracle index over the interval, clamped like the contract (sdk/funding.ts), pushed with
//     updateFunding under an idempotent key per interval.
//   - forcedExit.ts: every open forced-exit request is served (serveForcedExit, the bot takes the positions
//     over) or cleared well before anyone could freeze the Exchange; alerts when it cannot.
export interface Service {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export { Liquidator, type LiquidatorOptions, type LiquidationRound } from "./liquidator";
export { FundingBot, type FundingBotOptions, type FundingDecision } from "./funding";
export { ForcedExitBot, type ForcedExitBotOptions, type ForcedExitRound, type ForcedExitFailure } from "./forcedExit";
