// The bridge between the engine (through its Venue) and the keeper (through the bus):
//   engine TradeEvents  -> FILLS (keeper/settler/types.ts FillMessage), once per trade, in order;
//   MATCHER_COMMANDS    -> venue commands (balances, chain cancels, settlement results), each once.
// Positions are durable (state.ts): the last tradeId appended (checked against the stream's tail on
// start, so a crash between append and save appends nothing twice) and the last command read with
// the dedupe keys of the commands applied.
// Crash safety beyond those positions:
//   - trades the engine journaled but the bridge never appended: the venue hands over the events of
//     its recovery replay (`replayed`) and start() appends every trade after the FILLS tail, in
//     order, before the command loop (and the gateway) start;
//   - commands applied but whose position was never saved: each command carries its bus entry id
//     and dedupe key (`busId`, `busKey`, fields the engine ignores but the journal keeps), and
//     start() reads the journal after the last saved position, so the journal decides what was
//     applied.
import type { Bus } from "../../keeper/bus";
import { FILLS, MATCHER_COMMANDS } from "../../keeper/topics";
import { orderToJson, type FillMessage } from "../../keeper/settler/types";
import { OrderVerifier } from "../gateway/auth/order";
import type { Command, Venue, VenueEvent } from "../gateway/venue/types";
import type { Journal, TradeEvent } from "../index";
import type { BridgeState, Cursors } from "./state";

export interface BridgeLogger {
  info(msg: string, f?: Record<string, unknown>): void;
  warn(msg: string, f?: Record<string, unknown>): void;
  error(msg: string, f?: Record<string, unknown>): void;
}

export interface BridgeOptions {
  venue: Venue;
  bus: Bus;
  state: BridgeState;
  log?: BridgeLogger;
  /** Commands read per poll; wait for new ones up to this long. */
  batch?: number;
  blockMs?: number;
  /** Dedupe keys kept (the newest). */
  keepKeys?: number;
  /** The engine's journal: the truth about which bus commands were applied (see busRef). */
  journal?: Journal;
  /** Events of the engine's recovery replay (JournaledVenue.open's onReplay), in order. */
  replayed?: readonly VenueEvent[];
  /** The engine's highest tradeId so far (e.g. engine.nextTradeId - 1), to detect trades missing
   * from `replayed` because a snapshot covers them... */
  lastTradeId?: () => number;
  /** ...and then the events of a replay of the whole journal (ignoring snapshots), in order. */
  replayAll?: () => Promise<readonly VenueEvent[]>;
}

/** The bus reference a bridged command carries into the journal (ignored by the engine). */
export interface BusRef {
  busId: string;
  busKey: string;
}

/** The bus reference of a journaled command, if the bridge submitted it. */
export function busRef(cmd: object): BusRef | undefined {
  const c = cmd as Partial<BusRef>;
  return typeof c.busId === "string" && typeof c.busKey === "string" ? { busId: c.busId, busKey: c.busKey } : undefined;
}

const quiet: BridgeLogger = { info() {}, warn() {}, error() {} };

/** The dedupe key of a MATCHER_COMMANDS message: the chain ref when given, else per kind. */
export function commandKey(m: Record<string, unknown>, entryId: string): string {
  if (typeof m.ref === "string") return `${m.type}:${m.ref}`;
  if (m.type === "settlement") return `settlement:${m.tradeId}`;
  return `entry:${entryId}`;
}

const int = (v: unknown): number | undefined => {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
};

/** A bus message as an engine command (only the fields the engine knows), or why not. */
export function toCommand(m: Record<string, unknown>, ts: number): Command | string {
  const account = typeof m.account === "string" ? m.account.toLowerCase() : undefined;
  switch (m.type) {
    case "balance": {
      const delta = int(m.delta);
      if (!account || delta === undefined) return "balance without account or safe-integer delta";
      return { type: "balance", ts, account, delta };
    }
    case "chainCancel":
      if (!account) return "chainCancel without account";
      return typeof m.hash === "string"
        ? { type: "chainCancel", ts, account, hash: m.hash.toLowerCase() }
        : { type: "chainCancel", ts, account };
    case "settlement": {
      const tradeId = int(m.tradeId);
      if (tradeId === undefined || typeof m.ok !== "boolean") return "settlement without tradeId/ok";
      return { type: "settlement", ts, tradeId, ok: m.ok };
    }
    case "withdraw": {
      const amount = int(m.amount);
      if (!account || amount === undefined || typeof m.withdrawalId !== "string") return "bad withdraw";
      return { type: "withdraw", ts, account, amount, withdrawalId: m.withdrawalId };
    }
    case "withdrawResult":
      if (typeof m.withdrawalId !== "string" || typeof m.ok !== "boolean") return "bad withdrawResult";
      return { type: "withdrawResult", ts, withdrawalId: m.withdrawalId, ok: m.ok };
    case "liquidation": {
      const market = int(m.market);
      const sizeDelta = int(m.sizeDelta);
      const cashDelta = int(m.cashDelta);
      if (!account || market === undefined || sizeDelta === undefined || cashDelta === undefined)
        return "bad liquidation";
      return { type: "liquidation", ts, account, market, sizeDelta, cashDelta };
    }
    case "funding": {
      const market = int(m.market);
      const indexDelta = int(m.indexDelta);
      if (market === undefined || indexDelta === undefined) return "bad funding";
      return { type: "funding", ts, market, indexDelta };
    }
    case "mark": {
      const market = int(m.market);
      const price = int(m.price);
      if (market === undefined || price === undefined) return "bad mark";
      return { type: "mark", ts, market, price };
    }
    case "setStatus": {
      // the chain froze (HALT: cancel-only), or a reorg undid the freeze (TRADING)
      const market = int(m.market);
      if (market === undefined || (m.status !== "HALT" && m.status !== "TRADING")) return "bad setStatus";
      return { type: "setStatus", ts, market, status: m.status };
    }
    case "restrict":
      // a forced exit filed on chain (reduce-only), or served/cleared (released)
      if (!account || typeof m.reduceOnly !== "boolean") return "bad restrict";
      return { type: "restrict", ts, account, reduceOnly: m.reduceOnly };
    default:
      return `unknown command type ${String(m.type)}`;
  }
}

export class Bridge {
  private cur!: Cursors;
  private keys = new Set<string>();
  private trades: TradeEvent[] = [];
  private draining: Promise<void> | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly log: BridgeLogger;
  private readonly hook = (hash: string, order: Parameters<typeof orderToJson>[0], signature: string) =>
    this.o.state.putOrder(hash.toLowerCase(), { order: orderToJson(order), signature: signature as `0x${string}` });
  /** Counters for /health and tests. */
  readonly stats = {
    fillsAppended: 0,
    commandsApplied: 0,
    commandsDuplicate: 0,
    commandsRejected: 0,
    unsignedTrades: 0,
  };

  constructor(private readonly o: BridgeOptions) {
    this.log = o.log ?? quiet;
  }

  /** Load positions, catch up with the FILLS tail, and start both directions. */
  async start(): Promise<void> {
    this.cur = await this.o.state.loadCursors();
    // A crash between an append and the save of its position: the stream's tail is the truth.
    for (;;) {
      const tail = await this.o.bus.read<FillMessage>(FILLS, this.cur.fillsId, { count: 1000 });
      if (tail.length === 0) break;
      for (const e of tail) {
        this.cur.fillsId = e.id;
        if (e.data.tradeId > this.cur.tradeId) this.cur.tradeId = e.data.tradeId;
      }
    }
    this.keys = new Set(this.cur.keys);
    // A crash after the engine journaled a command but before its position was saved: the journal
    // is the truth (a command found there was applied; resume after it).
    if (this.o.journal) {
      let found = 0;
      await this.o.journal.read(this.cur.commandsInSeq, (inSeq, cmd) => {
        const ref = busRef(cmd);
        if (!ref) return;
        this.cur.commandsId = ref.busId;
        this.cur.commandsInSeq = inSeq;
        this.keys.delete(ref.busKey);
        this.keys.add(ref.busKey);
        found++;
      });
      if (found > 0) {
        this.log.warn("commands applied but unrecorded found in the journal", {
          found,
          commandsId: this.cur.commandsId,
        });
        await this.o.state.saveCursors(this.snapshot());
      }
    }
    OrderVerifier.onVerified.add(this.hook);
    // A crash after the engine journaled trades but before they were appended: append every
    // replayed trade after the FILLS tail, in order, before anything new can trade.
    const trades = (evs: readonly VenueEvent[]) =>
      evs.filter((e): e is TradeEvent => e.kind === "trade" && e.tradeId > this.cur.tradeId);
    let behind = trades(this.o.replayed ?? []);
    const last = this.o.lastTradeId?.() ?? 0;
    if (last > this.cur.tradeId && (behind.length === 0 || behind[0].tradeId > this.cur.tradeId + 1)) {
      // some unappended trades are before the snapshot the engine recovered from
      this.log.warn("trades behind FILLS are older than the snapshot; replaying the whole journal", {
        tail: this.cur.tradeId,
        last,
      });
      if (this.o.replayAll)
        try {
          behind = trades(await this.o.replayAll());
        } catch (err) {
          // (WholeReplayRulesError: part of the journal was written under other matching rules) starting
          // without them, loudly, beats settling trades a replay under these rules made up
          this.log.error("cannot replay the whole journal", { err: err instanceof Error ? err.message : String(err) });
        }
      if (behind.length === 0 || behind[0].tradeId > this.cur.tradeId + 1)
        this.log.error("trades missing between the FILLS tail and the journal", {
          tail: this.cur.tradeId,
          first: behind[0]?.tradeId,
        });
    }
    if (behind.length > 0) {
      this.onEvents(behind);
      await this.flush();
      this.log.warn("appended trades replayed from the journal", { upTo: this.cur.tradeId });
    }
    this.o.venue.onEvents((evs) => this.onEvents(evs));
    this.running = true;
    this.loop = this.commandLoop();
    this.log.info("bridge started", { tradeId: this.cur.tradeId, commandsId: this.cur.commandsId });
  }

  async stop(): Promise<void> {
    this.running = false;
    OrderVerifier.onVerified.delete(this.hook);
    await this.loop;
    await this.flush();
  }

  /** Resolves when every trade seen so far is appended. */
  async flush(): Promise<void> {
    while (this.draining || this.trades.length > 0) await (this.draining ?? this.drain());
  }

  get position(): Readonly<Cursors> {
    return this.cur;
  }

  private onEvents(evs: readonly VenueEvent[]): void {
    for (const e of evs) if (e.kind === "trade" && e.tradeId > this.cur.tradeId) this.trades.push(e);
    if (this.trades.length > 0 && !this.draining) void this.drain();
  }

  private drain(): Promise<void> {
    const run = async () => {
      while (this.trades.length > 0) {
        const batch = this.trades.splice(0, 500);
        try {
          await this.appendTrades(batch);
        } catch (err) {
          this.log.error("appending fills failed; retrying", { err: String(err) });
          this.trades.unshift(...batch);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    this.draining = run().finally(() => (this.draining = null));
    return this.draining;
  }

  private async appendTrades(batch: TradeEvent[]): Promise<void> {
    const msgs: FillMessage[] = [];
    const unsigned: TradeEvent[] = [];
    for (const t of batch) {
      if (t.tradeId <= this.cur.tradeId) continue;
      const [maker, taker] = await Promise.all([
        this.o.state.getOrder(t.makerHash.toLowerCase()),
        this.o.state.getOrder(t.takerHash.toLowerCase()),
      ]);
      if (!maker || !taker) {
        unsigned.push(t);
        continue;
      }
      msgs.push({
        tradeId: t.tradeId,
        maker,
        taker,
        size: String(t.qty),
        price: String(t.price),
        makerFee: String(t.makerFee),
        takerFee: String(t.takerFee),
        ts: t.ts,
      });
    }
    if (msgs.length > 0) {
      const ids = await this.o.bus.appendMany(FILLS, msgs);
      this.cur.fillsId = ids[ids.length - 1];
      this.stats.fillsAppended += msgs.length;
    }
    this.cur.tradeId = Math.max(this.cur.tradeId, batch[batch.length - 1].tradeId);
    await this.o.state.saveCursors(this.snapshot());
    for (const t of unsigned) {
      // No signed order behind it (not placed through a gateway with this bridge): it cannot
      // settle, so the engine undoes it at once (both accounts see SETTLEMENT_FAILED).
      this.stats.unsignedTrades++;
      this.log.error("trade without signed orders; reverting it", { tradeId: t.tradeId });
      await this.o.venue.submit({ type: "settlement", ts: Date.now(), tradeId: t.tradeId, ok: false });
    }
  }

  private snapshot(): Cursors {
    const keep = this.o.keepKeys ?? 10_000;
    if (this.keys.size > keep) {
      const drop = this.keys.size - keep;
      let i = 0;
      for (const k of this.keys) {
        if (i++ >= drop) break;
        this.keys.delete(k);
      }
    }
    return { ...this.cur, keys: [...this.keys] };
  }

  private async commandLoop(): Promise<void> {
    while (this.running) {
      try {
        const entries = await this.o.bus.read<Record<string, unknown>>(MATCHER_COMMANDS, this.cur.commandsId, {
          count: this.o.batch ?? 200,
          blockMs: this.o.blockMs ?? 500,
        });
        if (entries.length === 0) continue;
        for (const e of entries) {
          const m = e.data ?? {};
          const key = commandKey(m, e.id);
          if (this.keys.has(key)) {
            this.stats.commandsDuplicate++;
          } else {
            const cmd = toCommand(m, Date.now());
            if (typeof cmd === "string") {
              this.stats.commandsRejected++;
              this.log.warn("command skipped", { id: e.id, why: cmd });
            } else {
              const ref: BusRef = { busId: e.id, busKey: key };
              const ack = await this.o.venue.submit(Object.assign(cmd, ref));
              this.cur.commandsInSeq = Math.max(this.cur.commandsInSeq, ack.inSeq);
              if (ack.ok) this.stats.commandsApplied++;
              else {
                this.stats.commandsRejected++;
                this.log.warn("command refused by the engine", { id: e.id, type: cmd.type, reason: ack.reason });
              }
            }
            this.keys.add(key);
          }
          this.cur.commandsId = e.id;
        }
        await this.o.state.saveCursors(this.snapshot());
      } catch (err) {
        if (!this.running) break;
        this.log.warn("reading matcher commands failed; retrying", { err: String(err) });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
