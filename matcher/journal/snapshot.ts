// Engine snapshots (full state at an input sequence number) and recovery = snapshot + replay.
import { Account, type AccountMarketState } from "../engine/account";
import { Order, type Level } from "../engine/book";
import { packKinds } from "../engine/orderKinds";
import { addRo, Engine, MATCHING_RULES, WARM_BATCH, type EngineOptions } from "../engine/engine";
import type { PendingTrade } from "../engine/pendingTrades";
import {
  type Command,
  type Ack,
  type TradeEvent,
  type OrderStatus,
  type OrderType,
  type TimeInForce,
  type WorkingType,
} from "../engine/types";
import type { EventLog } from "../engine/eventLog";
import type { Journal } from "./journal";

type OrderRow = [
  number,
  string,
  number,
  boolean,
  OrderType,
  OrderType,
  TimeInForce,
  number,
  number,
  number,
  number,
  number,
  number,
  WorkingType,
  boolean,
  boolean,
  number,
  string,
  string,
  number,
  number,
  number,
  boolean,
  number,
  OrderStatus,
  boolean,
];

export interface Snapshot {
  version: 1;
  /** MATCHING_RULES of the engine that took it (absent in snapshots from before rules were recorded: 1) */
  rules?: number;
  /** Engine.rulesSince: the journal's commands from this inSeq on were written under `rules` (absent: unknown) */
  rulesSince?: number | null;
  inSeq: number;
  now: number;
  nextOrderId: number;
  nextTradeId: number;
  accountSeq: number;
  orders: OrderRow[];
  markets: {
    seq: number;
    lastDepthU: number;
    status: "TRADING" | "HALT";
    reopenAt: number | null;
    lastPrice: number;
    mark: number;
    /** resting order ids in priority order: bids best level first, then asks */
    bids: number[];
    asks: number[];
    upMark: number[];
    downMark: number[];
    upLast: number[];
    downLast: number[];
    trailing: number[];
    window: [number[], number[], number[], number[], number, number];
  }[];
  accounts: {
    id: string;
    cash: number;
    touched: number[];
    pos: number[];
    orders: number[];
    /** present (true) only for an account restricted to reduce-only (RestrictCmd) */
    reduceOnly?: true;
  }[];
  /** (snapshots before the compact store held whole TradeEvents: a superset, read the same) */
  pendingTrades: PendingTrade[];
  withdrawals: [string, { account: string; amount: number }][];
  countdowns: [string, { account: string; market: number; timeoutMs: number; deadline: number }][];
}

export function takeSnapshot(e: Engine): Snapshot {
  const ids = (a: Order[]) => a.map((o) => o.id);
  // first: this brings the activated trailing stops' `extreme` up to date (TrailingStops keeps it per group)
  const trailing = e.markets.map((m) => ids(m.trailing.orders()));
  const orders: OrderRow[] = [];
  for (const o of e.orders.values())
    orders.push([
      o.id,
      o.account.id,
      o.market,
      o.isBuy,
      o.orderType,
      o.origType,
      o.tif,
      o.ticks,
      o.lots,
      o.remaining,
      o.filled,
      o.filledQP,
      o.stopPrice,
      o.workingType,
      o.reduceOnly,
      o.closePosition,
      o.stp,
      o.clientOrderId,
      o.hash,
      o.ts,
      o.activation,
      o.callbackPpm,
      o.activated,
      o.extreme,
      o.status,
      o.conditional,
    ]);
  const sideIds = (levels: Level[]) => {
    const out: number[] = [];
    for (let i = levels.length - 1; i >= 0; i--) for (const o of levels[i].orders()) out.push(o.id);
    return out;
  };
  return {
    version: 1,
    rules: MATCHING_RULES,
    rulesSince: e.rulesSince,
    inSeq: e.inSeq,
    now: e.now,
    nextOrderId: e.nextOrderId,
    nextTradeId: e.nextTradeId,
    accountSeq: e.accountSeq,
    orders,
    markets: e.markets.map((m, i) => ({
      seq: m.seq,
      lastDepthU: m.lastDepthU,
      status: m.status,
      reopenAt: m.reopenAt === Infinity ? null : m.reopenAt,
      lastPrice: m.lastPrice,
      mark: m.risk.mark,
      bids: sideIds(m.bids.sorted),
      asks: sideIds(m.asks.sorted),
      upMark: ids(m.upMark.items),
      downMark: ids(m.downMark.items),
      upLast: ids(m.upLast.items),
      downLast: ids(m.downLast.items),
      trailing: trailing[i],
      window: [m.window.maxT, m.window.maxP, m.window.minT, m.window.minP, m.window.maxH, m.window.minH],
    })),
    accounts: [...e.accounts.values()].map((a) => {
      const os = e.ordersOf(a).map((o) => o.id);
      return {
        id: a.id,
        cash: a.cash,
        touched: [...a.touched],
        pos: a.touched.map((j) => (a.markets[j] as AccountMarketState).pos),
        orders: os,
        ...(a.reduceOnly ? { reduceOnly: true as const } : {}),
      };
    }),
    pendingTrades: [...e.pendingTrades.values()],
    withdrawals: [...e.withdrawals.entries()],
    countdowns: [...e.countdowns.entries()].map(([k, c]) => [k, { ...c }]),
  };
}

/** Engine.rulesSince after restoring `s`: under other rules, unknown (JournaledEngine.open marks where this engine's start). */
function restoredRulesSince(s: Snapshot): number | null {
  return (s.rules ?? 1) === MATCHING_RULES ? (s.rulesSince ?? null) : null;
}

export function restoreSnapshot(opts: EngineOptions, s: Snapshot): Engine {
  const e = new Engine(opts);
  e.inSeq = s.inSeq;
  e.rulesSince = restoredRulesSince(s);
  e.now = s.now;
  e.nextOrderId = s.nextOrderId;
  e.nextTradeId = s.nextTradeId;
  e.accountSeq = s.accountSeq;
  for (const a of s.accounts) {
    const acct = new Account(a.id);
    acct.cash = a.cash;
    if (a.reduceOnly === true) acct.reduceOnly = true;
    a.touched.forEach((j, i) => (acct.market(j).pos = a.pos[i]));
    e.accounts.set(a.id, acct);
  }
  const byId = new Map<number, Order>();
  for (const r of s.orders) {
    const acct = e.accounts.get(r[1]) as Account;
    const o = new Order(
      r[0],
      acct,
      r[2],
      r[3],
      r[4],
      r[5],
      r[6],
      r[7],
      r[8],
      r[12],
      r[13],
      r[14],
      r[15],
      r[16],
      r[17],
      r[18],
      r[19],
      r[20],
      r[21],
      packKinds(r[4], r[5], r[6], r[13]),
    );
    o.remaining = r[9];
    o.filled = r[10];
    o.filledQP = r[11];
    o.activated = r[22];
    o.extreme = r[23];
    o.status = r[24];
    o.conditional = r[25];
    byId.set(o.id, o);
    e.orders.set(o.id, o);
    if (o.hash !== "") e.byHash.set(o.hash, o);
    const am = acct.market(o.market);
    if (o.clientOrderId !== "") {
      if (am.clientIds === null) am.clientIds = new Map();
      am.clientIds.set(o.clientOrderId, o);
    }
    if (o.conditional) am.condOrders++;
  }
  // account order lists (head first)
  for (const a of s.accounts) {
    const acct = e.accounts.get(a.id) as Account;
    for (let i = a.orders.length - 1; i >= 0; i--) acct.addOrder(a.orders[i], e.orders);
  }
  s.markets.forEach((ms, i) => {
    const m = e.markets[i];
    m.seq = ms.seq;
    m.lastDepthU = ms.lastDepthU;
    m.status = ms.status;
    m.reopenAt = ms.reopenAt === null ? Infinity : ms.reopenAt;
    m.lastPrice = ms.lastPrice;
    if (ms.mark > 0) m.risk.setMark(ms.mark);
    for (const [ids, side] of [
      [ms.bids, m.bids],
      [ms.asks, m.asks],
    ] as const)
      for (const id of ids) {
        const o = byId.get(id) as Order;
        side.getOrCreate(o.ticks).push(o);
        const am = o.account.market(i);
        am.openOrders++;
        if (o.reduceOnly) addRo(am, o);
        else {
          if (o.isBuy) {
            am.buyLots += o.remaining;
            am.buyQP += o.remaining * o.ticks;
          } else {
            am.sellLots += o.remaining;
            am.sellQP += o.remaining * o.ticks;
          }
          o.inMargin = true;
          am.dirty = true;
          am.lbVersion = -1;
        }
      }
    const orders = (ids: number[]) => ids.map((id) => byId.get(id) as Order);
    m.upMark.load(orders(ms.upMark));
    m.downMark.load(orders(ms.downMark));
    m.upLast.load(orders(ms.upLast));
    m.downLast.load(orders(ms.downLast));
    m.trailing.load(orders(ms.trailing));
    const w = ms.window;
    m.window.maxT = w[0];
    m.window.maxP = w[1];
    m.window.minT = w[2];
    m.window.minP = w[3];
    m.window.maxH = w[4];
    m.window.minH = w[5];
  });
  for (const t of s.pendingTrades) e.pendingTrades.addTrade(t);
  for (const [k, v] of s.withdrawals) e.withdrawals.set(k, v);
  for (const [k, v] of s.countdowns) e.countdowns.set(k, v);
  e.resetTimers();
  return e;
}

export interface Recovered {
  engine: Engine;
  /** last input sequence number applied */
  inSeq: number;
  snapshotInSeq: number;
  /** matching rules of the snapshot recovered from (null: there was none) */
  snapshotRules: number | null;
  replayed: number;
}

/** Replaying the journal's tail under other matching rules than wrote it (see MATCHING_RULES). */
export class RulesMismatchError extends Error {
  constructor(
    /** rules the tail was written under (null: unknown, the journal has no snapshot) */
    readonly journalRules: number | null,
    readonly engineRules: number,
    /** the tail starts after this inSeq */
    readonly fromInSeq: number,
  ) {
    super(
      `journal: the commands after inSeq ${fromInSeq} were written under matching rules ${
        journalRules ?? "unknown (the journal has no snapshot: written by a release before rules were recorded)"
      }, and this engine applies rules ${engineRules}: replayed, they could give other events (trades) than were published. ` +
        `Recover with the release that wrote them and stop it gracefully (it snapshots, leaving nothing to replay), then start this one; ` +
        `or accept the change (MATCHER_ACCEPT_RULES_CHANGE=1) if the events they gave need not be reproduced.`,
    );
    this.name = "RulesMismatchError";
  }
}

/**
 * A replay of the whole journal (snapshot ignored) under rules that did not write all of it: the rules
 * changed at `rulesSince` (an accepted change), or it is unknown where they started (null).
 */
export class WholeReplayRulesError extends Error {
  constructor(readonly rulesSince: number | null) {
    super(
      `journal: replayed whole under matching rules ${MATCHING_RULES}, the commands ${
        rulesSince === null
          ? "(from a release that did not record which rules wrote them)"
          : `before inSeq ${rulesSince} (written under other rules)`
      } could give trades that were never published, so their trades are not re-derived. ` +
        `Trades missing from FILLS before that point must be recovered with the release that wrote those commands.`,
    );
    this.name = "WholeReplayRulesError";
  }
}

/**
 * The trade events of a replay of the whole journal, its snapshot ignored (a separate engine): the
 * bridge's way to find trades a crash kept from FILLS that are older than the snapshot. Only when every
 * command was written under this engine's rules (snapshot's rulesSince 0), else WholeReplayRulesError,
 * thrown before any trade is returned.
 */
export async function replayWholeJournal(journal: Journal, opts: EngineOptions): Promise<TradeEvent[]> {
  const snap = await journal.loadSnapshot();
  const parsed = snap ? (JSON.parse(snap) as Snapshot) : null;
  // no snapshot: a journal of a release before rules were recorded (an empty one replays nothing anyway)
  const since = parsed === null ? null : restoredRulesSince(parsed);
  const out: TradeEvent[] = [];
  const noSnapshot: Journal = Object.create(journal, { loadSnapshot: { value: async () => null } }) as Journal;
  await recover(noSnapshot, opts, (_ack, evs) => {
    if (since !== 0) throw new WholeReplayRulesError(since);
    for (let i = 0; i < evs.length; i++) if (evs.isTrade(i)) out.push(evs.at(i) as TradeEvent);
  });
  return out;
}

/**
 * Recovery: latest snapshot (if any) plus replay of every journaled command after it.
 * `onOutput` receives each replayed command's ack and events (the same stream as before the crash);
 * the event log is cleared after the call: decode what it needs in the call.
 * With `rules`, the commands replayed must have been written under those matching rules (the
 * snapshot's; with no snapshot, unknown): else RulesMismatchError, thrown at the first command after
 * the snapshot, before anything is applied or output.
 */
export async function recover(
  journal: Journal,
  opts: EngineOptions,
  onOutput?: (ack: Ack, events: EventLog) => void,
  rules?: number,
): Promise<Recovered> {
  const snap = await journal.loadSnapshot();
  const parsed = snap ? (JSON.parse(snap) as Snapshot) : null;
  const snapshotRules = parsed === null ? null : (parsed.rules ?? 1);
  const engine = parsed ? restoreSnapshot(opts, parsed) : new Engine(opts);
  const from = engine.inSeq;
  let replayed = 0;
  // commands are applied WARM_BATCH at a time, each batch warmed first (Engine.warm: what processBatch does);
  // cmds[0, n) wait (a count, not length = 0, which would free the arrays' storage)
  const cmds: Command[] = [];
  const seqs: number[] = [];
  let n = 0;
  const apply = (): void => {
    const k = n;
    n = 0; // taken before applying: after a throw (the engine or onOutput) nothing of this batch is applied again
    engine.warm(cmds, 0, k);
    for (let i = 0; i < k; i++) {
      const ack = engine.process(cmds[i], seqs[i]);
      replayed++;
      try {
        if (onOutput) onOutput(ack, engine.eventLog);
      } finally {
        engine.eventLog.clear();
      }
    }
  };
  try {
    await journal.read(from, (inSeq: number, cmd: Command) => {
      if (rules !== undefined && snapshotRules !== rules && replayed + n === 0)
        throw new RulesMismatchError(snapshotRules, rules, from);
      cmds[n] = cmd;
      seqs[n] = inSeq;
      if (++n === WARM_BATCH) apply();
    });
  } finally {
    apply(); // the rest, also when the read failed: what was read before an error is applied, as one by one
  }
  return { engine, inSeq: engine.inSeq, snapshotInSeq: from, snapshotRules, replayed };
}
