// Public API of the matching engine (used by the gateway, matcher/gateway/).
//
// Wiring:
//   const journal = await openJournal("markets-a");            // Redis Streams if REDIS_URL, else a file
//   const je = await JournaledEngine.open({ markets, journal, snapshotEvery: 100_000,
//     onOutput: (acks, events) => { ...answer requests by acks.inSeq(i), publish events.toEvents()... } });
//   const inSeq = je.submit(placeCommand({ type: "place", ts: Date.now(), ... }));
// submit() applies the command at once (reads such as je.engine.depth() see it) but acks and
// events are released only when the command is durable in the journal. Without a journal:
//   const e = new Engine({ markets }); const ack = e.process(cmd); const events = e.events; e.events = [];
// or, with no object per ack or event: e.apply(cmd), then read and clear e.ackLog and e.eventLog
// (AckLog, EventLog: decode with at(i), toAcks(), toEvents()).
// Many commands at hand (a queue, a replay): e.processBatch(cmds, from, to) gives the same acks (in
// e.ackLog) and events, faster on a big book (it reads each batch's cold memory ahead, see Engine.warm).
// Units: sdk/units.ts (price units, size units, quote units, ppm) as JS safe integers.
export { Engine, WARM_BATCH, type EngineOptions, type OrderView } from "./engine/engine";
export { type MarketConfig, toNum } from "./engine/market";
export * from "./engine/types";
export { AckLog } from "./engine/ackLog";
export { EventLog } from "./engine/eventLog";
export { JournaledEngine, type JournaledEngineOptions } from "./journal/journaled";
export { FileJournal } from "./journal/file";
export { RedisJournal } from "./journal/redis";
export { openJournal, type Journal } from "./journal/journal";
export {
  recover,
  replayWholeJournal,
  RulesMismatchError,
  WholeReplayRulesError,
  type Snapshot,
} from "./journal/snapshot";
