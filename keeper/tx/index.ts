export { TxManager, type TxManagerOptions, type TxRequest, type TxOutcome, type Intent, type Attempt } from "./manager";
