// Public API of the matching engine (used by the gateway, matcher/gateway/).
export { Engine, type EngineOptions, type OrderView } from "./engine/engine";
export { type MarketConfig, toNum } from "./engine/market";
export * from "./engine/types";
export { JournaledEngine, type JournaledEngineOptions } from "./journal/journaled";
export { FileJournal } from "./journal/file";
export { RedisJournal } from "./journal/redis";
export { openJournal, type Journal } from "./journal/journal";
export { recover, type Snapshot } from "./journal/snapshot";
