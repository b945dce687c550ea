// The Exchange data source's mapping file: every handler named in subgraph.yaml is exported here
// (subgraph/scripts/manifest.ts HANDLERS lists them).
export {
  handleEIP712DomainChanged,
  handleRoleAdminChanged,
  handleRoleGranted,
  handleRoleRevoked,
} from "./mappings/admin";
export { handleMarketListed } from "./mappings/markets";
export { handleAgentSet, handleMinNonceRaised, handleOrderCancelled } from "./mappings/orders";
export { handleBatchSettled, handleFillSettled, handleFillSkipped, handlePositionChanged } from "./mappings/settlement";
export { handleDeposit, handleFeesWithdrawn, handleWithdraw } from "./mappings/vault";
export {
  handleBadDebt,
  handleFeesMovedToInsurance,
  handleFundingParamsSet,
  handleFundingUpdated,
  handleInsuranceDeposited,
  handleLiquidated,
  handleLossSocialized,
} from "./mappings/risk";
export {
  handleEscapeClaimed,
  handleEscapeRegistered,
  handleExitParamsSet,
  handleFinalPriceSet,
  handleForcedExitRequested,
  handleForcedExitServed,
  handleForcedExitTakeover,
  handleFrozen,
  handlePaused,
  handleUnpaused,
  handleWithdrawalCancelled,
  handleWithdrawalRequested,
} from "./mappings/exit";
