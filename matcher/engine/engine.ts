// The matching engine for a set of markets: one writer, synchronous, deterministic.
// apply(cmd) applies one command, appends its single ack to `ackLog` and the events it caused to
// `eventLog` (no object per ack or event; the caller reads and clears both). process(cmd) is the
// same returning the ack as an object, and `events` decodes the event log into objects. Time
// comes only from cmd.ts.
import * as fm from "../risk/fastmath";
import * as mg from "../risk/margin";
import * as ac from "./account";
import * as bk from "./book";
import * as ix from "./idIndex";
import { BinaryHeap } from "./heap";
import * as el from "./eventLog";
import * as al from "./ackLog";
import * as pt from "./pendingTrades";
import * as mkt from "./market";
import * as ty from "./types";
import * as ok from "./orderKinds";
import type { AccountMarketState } from "./account";
import type { BookSide, Level } from "./book";
import type { MarketConfig } from "./market";
import type {
  Ack,
  BalanceCmd,
  CancelAllCmd,
  CancelCmd,
  ChainCancelCmd,
  Command,
  CountdownCmd,
  EngineEvent,
  ExecType,
  FundingCmd,
  LiquidationCmd,
  MarkCmd,
  OrderStatus,
  OrderType,
  PlaceCmd,
  ReasonCode,
  RestrictCmd,
  SetStatusCmd,
  SettlementCmd,
  TimeInForce,
  WithdrawCmd,
  WithdrawResultCmd,
} from "./types";

// Imported bindings copied into module constants: the CommonJS output of tsx/esbuild reads
// every imported name through a getter, which costs on the hot path.
const { mulDivCeil, mulDivFloor } = fm;
const {
  addOrderLb,
  healthWithSideTerm,
  lbAddOrder,
  lbFill,
  lbRemoveOrder,
  marketHealth,
  sideTermWithOrder,
  sumDown,
  RATE_ONE_N,
  SIZE_ONE_N,
} = mg;
const { Account } = ac;
type Account = ac.Account;
const { Order, STP_CODES, STP_EXPIRE_BOTH, STP_EXPIRE_MAKER, STP_EXPIRE_TAKER, STP_NONE } = bk;
type Order = bk.Order;
const { IdIndex } = ix;
const { PendingTrades } = pt;
const { Market } = mkt;
type Market = mkt.Market;
const { AccountEvent, MarkEvent, MarketStatusEvent, Reason } = ty;
const { EventLog } = el;
const { AckLog } = al;
const { kindsHasStopPrice, kindsOf, orderTypeCode, packKinds, tifCode, workingTypeCode, TIF_IOC } = ok;

/** STP code of a mode, -1 if unknown (same answers as the STP_CODES table). */
function stpCode(s: string): number {
  if (s === "NONE") return STP_NONE;
  if (s === "EXPIRE_MAKER") return STP_EXPIRE_MAKER;
  if (s === "EXPIRE_TAKER") return STP_EXPIRE_TAKER;
  if (s === "EXPIRE_BOTH") return STP_EXPIRE_BOTH;
  const v = (STP_CODES as Record<string, number | undefined>)[s];
  return v === undefined ? -1 : v;
}
function isPosInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

/**
 * Version of the matching rules: which events a sequence of commands produces. Bump it with any change
 * that makes the same commands give other events (the order triggered stops fire in, a new check, a
 * rounding), since a journal's commands are replayed only under the rules that wrote them (recover(),
 * JournaledEngine.open): replayed under others they could emit trades that were never published.
 * 1: before rules were recorded. 2: triggered trailing stops fire highest trigger first, due
 * countdowns in deadline order, FOK checks matching's reduce-only clips and circuit breaker.
 */
export const MATCHING_RULES = 2;

const MARKET_SLOTS = 4096;
/**
 * Commands warmed together by processBatch (enough reads in flight to overlap, few enough to stay
 * cached). 64 since warm() looks its orders up in a loop of their own: A/B against 32, two runs of
 * 6 rounds, x1.015 / x1.022 at 10k and x1.062 / x1.076 at 1M resting (128: x1.009 and x1.062).
 */
export const WARM_BATCH = 64;
/**
 * Makers warm() reads ahead for each crossing order of a batch: the first, which it surely takes (the
 * workload's takers fill ~1.6). With 2, A/B of 1 against 2, two runs: x1.036 / x1.031 at 10k
 * resting, x0.996 / x1.027 at 1M; 0 read x0.99 / x1.016 (the second maker's read costs more than it saves).
 */
const MAKERS_PER_CROSS = 1;

interface Countdown {
  account: string;
  market: number;
  timeoutMs: number;
  deadline: number;
}

export interface EngineOptions {
  markets: MarketConfig[];
}

export class Engine {
  readonly markets: Market[] = [];
  readonly marketById = new Map<number, Market>();
  private readonly marketSlots: (Market | undefined)[] = [];
  readonly accounts = new Map<string, Account>();
  readonly orders: bk.OrderIndex = new IdIndex<Order>();
  readonly byHash = new Map<string, Order>();
  /** trades waiting for their settlement result, by trade id (numbers in typed-array pages: nothing for the GC to copy as settlement lags) */
  readonly pendingTrades = new PendingTrades();
  readonly withdrawals = new Map<string, { account: string; amount: number }>();
  readonly countdowns = new Map<string, Countdown>();
  /**
   * Output: the events of the processed commands, in order, as written (no object per event).
   * The caller reads and clears it, or decodes it through `events`.
   */
  eventLog = new EventLog();
  /** Output: one ack per command applied with apply() or processBatch(), in order. The caller clears it. */
  ackLog = new AckLog();
  private decoded: EngineEvent[] = [];

  /**
   * The events not yet drained, as objects: the log decoded (and cleared) into one array, which
   * the caller clears (`events = []` or `events.length = 0`). Decoding costs what building the
   * objects used to; the hot consumers read `eventLog` instead. Not behind a JournaledEngine: it
   * releases the log itself, and reading `events` would take the events from its next group.
   */
  get events(): EngineEvent[] {
    const log = this.eventLog;
    if (log.length > 0) {
      log.toEvents(this.decoded);
      log.clear();
    }
    return this.decoded;
  }

  set events(v: EngineEvent[]) {
    this.eventLog.clear();
    this.decoded = v;
  }
  nextOrderId = 1;
  nextTradeId = 1;
  accountSeq = 0;
  /**
   * inSeq from which every command this engine's history holds was applied under MATCHING_RULES (0: all
   * of them; null: unknown, from a snapshot that did not record it). A whole-journal replay under these
   * rules reproduces the published trades only when it is 0 (see replayWholeJournal).
   */
  rulesSince: number | null = 0;
  now = 0;
  inSeq = 0;
  /** earliest countdown deadline (may be one since renewed or removed: then advanceTime finds nothing due) */
  private nextDeadline = Infinity;
  /**
   * Countdown deadlines, earliest first (ties by key). A renewal or removal leaves its old entry,
   * skipped when popped; rebuilt once stale entries outnumber the countdowns. A pass over every
   * countdown whenever the earliest passed cost O(countdowns) per command when bots renew just
   * before their deadline (10,000 such bots: ~5,800 commands/s).
   */
  private readonly deadlines = new BinaryHeap<{ deadline: number; key: string }>(
    (a, b) => a.deadline < b.deadline || (a.deadline === b.deadline && a.key < b.key),
  );
  private nextReopen = Infinity;
  /** markets touched by the current command: touchedMarkets[0, nTouched) (a count, not length = 0: cheaper) */
  private touchedMarkets: Market[] = [];
  private nTouched = 0;
  // scratch results of the margin check
  private freeBefore = 0;
  private freeAfter = 0;
  /** the last margin check's resulting health, kept for the order it checked (see rest) */
  private readonly checked = new CheckedHealth();

  constructor(opts: EngineOptions) {
    opts.markets.forEach((cfg, i) => {
      validateConfig(cfg);
      const m = new Market(i, cfg, this.orders);
      this.markets.push(m);
      this.marketById.set(cfg.id, m);
      if (cfg.id >= 0 && cfg.id < MARKET_SLOTS) this.marketSlots[cfg.id] = m;
    });
  }

  /** marketById.get(id), through an array for small ids (same answers: every config id below MARKET_SLOTS has its slot). */
  private findMarket(id: number): Market | undefined {
    if (typeof id === "number" && id >= 0 && id < MARKET_SLOTS && (id | 0) === id) return this.marketSlots[id];
    return this.marketById.get(id);
  }

  // -------------------------------------------------------------------------------------
  // Entry point

  /** Apply one command; returns its ack (apply() without building the ack object is faster). */
  process(cmd: Command, inSeq?: number): Ack {
    this.apply(cmd, inSeq);
    return this.ackLog.pop();
  }

  /** Apply one command; its ack goes to `ackLog`, its events to `eventLog`. */
  apply(cmd: Command, inSeq?: number): void {
    this.inSeq = inSeq ?? this.inSeq + 1;
    let reason: ReasonCode = Reason.OK;
    let orderId = 0;
    if (cmd === null || typeof cmd !== "object" || typeof cmd.ts !== "number" || !Number.isFinite(cmd.ts)) {
      this.ackLog.push(this.inSeq, (cmd as Command | null)?.type ?? "tick", Reason.INVALID_COMMAND, 0);
      return;
    }
    if (cmd.ts > this.now) this.now = cmd.ts;
    if (this.now >= this.nextDeadline || this.now >= this.nextReopen) this.advanceTime();
    switch (cmd.type) {
      case "place":
        reason = this.place(cmd);
        if (reason === Reason.OK) orderId = this.nextOrderId - 1;
        break;
      case "cancel":
        reason = this.cancel(cmd);
        break;
      case "cancelAll":
        reason = this.cancelAllCmd(cmd);
        break;
      case "countdown":
        reason = this.countdown(cmd);
        break;
      case "tick":
        break;
      case "balance":
        reason = this.balance(cmd);
        break;
      case "withdraw":
        reason = this.withdraw(cmd);
        break;
      case "withdrawResult":
        reason = this.withdrawResult(cmd);
        break;
      case "chainCancel":
        reason = this.chainCancel(cmd);
        break;
      case "liquidation":
        reason = this.liquidation(cmd);
        break;
      case "funding":
        reason = this.funding(cmd);
        break;
      case "mark":
        reason = this.mark(cmd);
        break;
      case "settlement":
        reason = this.settlement(cmd);
        break;
      case "setStatus":
        reason = this.setStatus(cmd);
        break;
      case "restrict":
        reason = this.restrict(cmd);
        break;
      default:
        reason = Reason.INVALID_COMMAND;
    }
    if (this.nTouched > 0) this.finishCommand();
    if (this.nRecycle > 0) this.flushRecycle();
    this.ackLog.push(this.inSeq, cmd.type, reason, orderId);
  }

  /**
   * apply() for cmds[from, to) in order (acks to `ackLog`): the same acks, events and state as calling
   * apply() on each (warm() only reads). Each WARM_BATCH commands are first warmed together, so the
   * main-memory reads of a batch overlap instead of stalling one command at a time.
   */
  processBatch(cmds: readonly Command[], from: number, to: number): void {
    for (let i = from; i < to;) {
      const end = Math.min(to, i + WARM_BATCH);
      this.warm(cmds, i, end);
      for (; i < end; i++) this.apply(cmds[i]);
    }
  }

  /**
   * Read, for cmds[from, to), the memory their processing will touch first and that is likely cold
   * in a big book: a cancel's order (through its index slot) and its account's state in the
   * market; a limit's price-level queue tail; and for the batch's crossing orders, the makers they
   * will take in turn from the front of the opposite side (MAKERS_PER_CROSS live ones each: order
   * and account state).
   * Changes nothing, and any input is safe (what process() would reject is skipped or reads as a
   * miss). With a million resting orders each of these is a main-memory read (~150-300 ns on this
   * machine); issued here back to back, with nothing waiting on them, they overlap, where process()
   * would stall on them one after another. The loop over the commands only collects ids and levels;
   * the reads run after it in short loops of their own (readCollected), where more of them are in
   * flight at once. A placement's account is not read here: its lookup (a string-keyed Map) costs
   * more than it saves, since the accounts that trade are few and their state stays in cache (A/B
   * without it: 10k x1.034 / x1.026, 1M x0.994 / x1.055).
   */
  warm(cmds: readonly Command[], from: number, to: number): void {
    const index = this.orders;
    const ids = this.warmIds;
    const lvls = this.warmLevels;
    let nx = 0;
    let nIds = 0;
    let nl = 0;
    for (let i = from; i < to; i++) {
      if (nIds === ids.length || nl === lvls.length) {
        // a long range: read in slices
        this.readCollected(nIds, nl);
        nIds = nl = 0;
      }
      const c = cmds[i];
      if (c === null || typeof c !== "object") continue;
      if (c.type === "cancel") {
        // by client order id: not warmed; by id: looked up after the loop, in a loop of its own
        if (typeof c.orderId === "number") ids[nIds++] = c.orderId;
      } else if (c.type === "place") {
        const m = this.findMarket(c.market);
        if (m === undefined) continue;
        // the level: its queue's tail is read after the loop (collectTails)
        if (typeof c.price !== "number") continue;
        const isBuy = c.side === "BUY";
        const ticks = c.price / m.cfg.tickSize;
        const l = (isBuy ? m.bids : m.asks).levels.get(ticks);
        if (l !== undefined) lvls[nl++] = l;
        // a crossing order: counted per side, its makers are read after the loop
        const opp = isBuy ? m.asks : m.bids;
        const b = opp.best();
        if (b !== null && (isBuy ? b.ticks <= ticks : b.ticks >= ticks)) {
          let k = 0;
          while (k < nx && this.warmCross[k] !== opp) k++;
          if (k === nx && nx < this.warmCross.length) this.warmCross[nx++] = opp;
          if (k < nx) this.warmCrossN[k]++;
        }
      }
    }
    // The batch's crossing orders take makers from the front of the opposite side in turn: the first
    // MAKERS_PER_CROSS live ones per crossing order (ids told live by the index's bits), looked up
    // with the cancels' orders.
    for (let k = 0; k < nx; k++) {
      const side = this.warmCross[k] as BookSide;
      let want = Math.min(MAKERS_PER_CROSS * this.warmCrossN[k], ids.length - nIds);
      this.warmCross[k] = undefined;
      this.warmCrossN[k] = 0;
      for (let d = 0; want > 0; d++) {
        const l = side.levelFromBest(d);
        if (l === null) break;
        const q = l.q;
        for (let i = l.first, e = l.end; i < e && want > 0; i++) {
          const id = q[i];
          if (!index.has(id)) continue;
          ids[nIds++] = id;
          want--;
        }
      }
    }
    this.readCollected(nIds, nl);
  }

  /** Read what warm()'s command loop collected: nIds order ids and nl levels. */
  private readCollected(nIds: number, nl: number): void {
    const t = this.collectTails(nl);
    this.readWarmed(this.lookUpWarmed(nIds), t);
  }

  /**
   * For warm()'s placements: the tail of each level queue, warmLevels[0, nl), to warmTails / warmAt
   * for readWarmed. Returns their count. A loop of its own, so the levels' chains of reads do not
   * hold back the command loop.
   */
  private collectTails(nl: number): number {
    const lvls = this.warmLevels;
    const tails = this.warmTails;
    const at = this.warmAt;
    let t = 0;
    for (let k = 0; k < nl; k++) {
      const l = lvls[k] as Level;
      if (l.end > 0) {
        tails[t] = l.q;
        at[t++] = l.end - 1;
      }
      lvls[k] = undefined;
    }
    return t;
  }

  /**
   * The orders of warm()'s cancels and makers, warmIds[0, nIds), into warmed (absent ids skipped);
   * returns their count. Each lookup's index slot is a main-memory read at a million resting orders:
   * in a loop this short many of them are in flight at once, where in warm()'s command loop, tens of
   * instructions per command apart, about two were (cold-slot warm by hand at 1M: 0.84-0.87 of the
   * time of lookups in the command loop; the same at 10k). The index's live bits are not read here:
   * with the ring index they are one 256 KB array at 1M (A/B without that read: 1M x1.09 / x1.015).
   */
  private lookUpWarmed(nIds: number): number {
    const index = this.orders;
    const ids = this.warmIds;
    const got = this.warmed;
    let n = 0;
    for (let k = 0; k < nIds; k++) {
      const o = index.get(ids[k]);
      if (o !== undefined) got[n++] = o;
    }
    return n;
  }

  /**
   * Read what warm() collected: the tails warmTails[k][warmAt[k]] for k < t (a level queue a
   * placement appends to), then the orders warmed[0, n) (and let both go). Each pass is a short loop of
   * independent reads, so many of their misses are in flight at once.
   */
  private readWarmed(n: number, t: number): void {
    const got = this.warmed;
    const tails = this.warmTails;
    const at = this.warmAt;
    let s = 0;
    for (let k = 0; k < t; k++) {
      s ^= (tails[k] as number[])[at[k]];
      tails[k] = undefined;
    }
    // An Order's fields that matching, cancels and events read are its first 176 bytes (a 24-byte
    // header and 19 fields of 8, in declaration order: Node 20's V8 has no pointer compression), three
    // or four cache lines wherever it starts: read fields at most 64 bytes apart from the first to the
    // last of them (offsets 24, 64, 120, 168), one in each line. The rest of the order (trigger and
    // trailing state) is left cold. (engine.test checks the offsets against the Order's fields.)
    for (let k = 0; k < n; k++) {
      const o = got[k] as Order;
      s ^= o.id ^ o.ticks ^ o.stp ^ o.filledQP;
      const am = o.account.markets[o.market]; // the order's account state in its market
      if (am !== undefined) s ^= am.openOrders;
      got[k] = undefined;
    }
    this.warmSink ^= s;
  }

  private readonly warmed: (Order | undefined)[] = new Array<Order | undefined>(2 * WARM_BATCH).fill(undefined);
  private readonly warmTails: (number[] | undefined)[] = new Array<number[] | undefined>(2 * WARM_BATCH).fill(
    undefined,
  );
  private readonly warmAt = new Int32Array(2 * WARM_BATCH);
  /** the ids of warm()'s cancels (any number: the lookup reads a NaN or fraction as absent) and makers */
  private readonly warmIds = new Float64Array(2 * WARM_BATCH);
  /** warm()'s placements' levels, for collectTails */
  private readonly warmLevels: (Level | undefined)[] = new Array<Level | undefined>(2 * WARM_BATCH).fill(undefined);
  /** the book sides the batch's crossing orders take from, and how many take from each */
  private readonly warmCross: (BookSide | undefined)[] = new Array<BookSide | undefined>(4).fill(undefined);
  private readonly warmCrossN = new Int32Array(4);
  private warmSink = 0;

  private flushRecycle(): void {
    const r = this.recycle;
    const p = this.pool;
    for (let i = 0, n = this.nRecycle; i < n; i++) if (p.length < 65_536) p.push(r[i]);
    this.nRecycle = 0;
  }

  /** Run the triggers of the touched markets and publish one depth event per touched market. */
  private finishCommand(): void {
    const ms = this.touchedMarkets;
    // runTriggers may touch more markets: nTouched is read again at each step
    for (let i = 0; i < this.nTouched; i++) {
      const m = ms[i];
      if (m.priceMoved) {
        m.priceMoved = false;
        this.runTriggers(m);
      }
    }
    for (let i = 0; i < this.nTouched; i++) {
      const m = ms[i];
      if (m.depthTouched) {
        m.depthTouched = false;
        const seq = ++m.seq;
        this.eventLog.depth(m.id, seq, this.now, m.lastDepthU + 1, m.lastDepthU, m.dBids, m.dAsks);
        m.lastDepthU = seq;
      }
      m.priceMoved = false;
    }
    this.nTouched = 0;
  }

  private touch(m: Market): void {
    const ms = this.touchedMarkets;
    const n = this.nTouched;
    for (let i = 0; i < n; i++) if (ms[i] === m) return;
    if (n === ms.length) ms.push(m);
    else ms[n] = m;
    this.nTouched = n + 1;
  }

  private depthChange(m: Market, isBuy: boolean, ticks: number, lots: number): void {
    if (!m.depthTouched) {
      m.depthTouched = true;
      this.touch(m);
    }
    (isBuy ? m.dBids : m.dAsks).push(ticks * m.cfg.tickSize, lots * m.cfg.lotSize);
  }

  // -------------------------------------------------------------------------------------
  // Time

  /** Recompute the next countdown deadline and reopen time (after a restore). */
  resetTimers(): void {
    this.rebuildDeadlines();
    this.nextReopen = Infinity;
    for (const m of this.markets) if (m.status === "HALT" && m.reopenAt < this.nextReopen) this.nextReopen = m.reopenAt;
  }

  private advanceTime(): void {
    const now = this.now;
    if (now >= this.nextReopen) {
      let next = Infinity;
      for (const m of this.markets) {
        if (m.status === "HALT" && m.reopenAt <= now) {
          this.setMarketStatus(m, "TRADING", "CIRCUIT_BREAKER_REOPEN", Infinity);
          m.priceMoved = true;
          this.touch(m);
        } else if (m.status === "HALT" && m.reopenAt < next) next = m.reopenAt;
      }
      this.nextReopen = next;
    }
    if (now >= this.nextDeadline) {
      // due countdowns in deadline order (ties by key)
      const fired: Countdown[] = [];
      const h = this.deadlines;
      for (let top = h.peek(); top !== undefined && top.deadline <= now; top = h.peek()) {
        h.pop();
        const c = this.countdowns.get(top.key);
        if (c === undefined || c.deadline !== top.deadline) continue; // renewed or removed since
        this.countdowns.delete(top.key);
        fired.push(c);
      }
      this.nextDeadline = h.peek()?.deadline ?? Infinity;
      for (const c of fired) {
        const a = this.accounts.get(c.account);
        if (a) this.cancelAllOf(a, c.market, Reason.COUNTDOWN, "CANCELED");
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Orders

  private place(c: PlaceCmd): ReasonCode {
    const m = this.findMarket(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    if (m.status !== "TRADING") return Reason.MARKET_HALTED;
    const cfg = m.cfg;
    let isBuy: boolean;
    if (c.side === "BUY") isBuy = true;
    else if (c.side === "SELL") isBuy = false;
    else return Reason.INVALID_SIDE;
    const ot = c.orderType;
    const otCode = orderTypeCode(ot);
    if (otCode < 0) return Reason.INVALID_TYPE;
    let tif: TimeInForce = c.tif ?? "GTC";
    let tifC = tifCode(tif);
    if (tifC < 0) return Reason.INVALID_TIF;
    const isMarketType =
      ot === "MARKET" || ot === "STOP_MARKET" || ot === "TAKE_PROFIT_MARKET" || ot === "TRAILING_STOP_MARKET";
    const isCond = ot !== "LIMIT" && ot !== "MARKET";
    if (isMarketType) {
      if (c.tif !== undefined && c.tif !== "GTC" && c.tif !== "IOC") return Reason.INVALID_TIF;
      tif = "IOC";
      tifC = TIF_IOC;
    }
    const closePos = c.closePosition === true;
    if (closePos && ot !== "STOP_MARKET" && ot !== "TAKE_PROFIT_MARKET") return Reason.INVALID_COMMAND;
    const ro = c.reduceOnly === true || closePos;
    let lots = 0;
    if (!closePos) {
      if (!isPosInt(c.qty)) return Reason.INVALID_QTY;
      // exact for positive safe integers (see divFloorN): no fmod
      if (!Number.isInteger(c.qty / cfg.lotSize)) return Reason.QTY_NOT_ON_LOT;
      if (c.qty > cfg.maxOrderQty) return Reason.QTY_TOO_LARGE;
      lots = c.qty / cfg.lotSize;
    }
    const mark = m.risk.mark;
    if (mark === 0) return Reason.NO_MARK_PRICE;
    let ticks = 0;
    if (!isMarketType) {
      if (!isPosInt(c.price)) return Reason.INVALID_PRICE;
      if (!Number.isInteger(c.price / cfg.tickSize)) return Reason.PRICE_NOT_ON_TICK;
      ticks = c.price / cfg.tickSize;
      if (m.bandVersion !== m.risk.markVersion) {
        const band = cfg.priceBandPpm;
        m.bandHi = mulDivFloor(mark, RATE_ONE_N + band, RATE_ONE_N);
        m.bandLo = mulDivCeil(mark, RATE_ONE_N - band, RATE_ONE_N);
        m.bandVersion = m.risk.markVersion;
      }
      if (c.price > m.bandHi || c.price < m.bandLo) return Reason.PRICE_OUT_OF_BAND;
    } else {
      // Market types: the signed order's limit price (limitPrice) bounds every fill, so the engine never
      // makes a fill the contract would skip (PriceOutsideLimit). Conditional ones keep it until triggered.
      if (c.limitPrice !== undefined) {
        if (!isPosInt(c.limitPrice)) return Reason.INVALID_PRICE;
        ticks = isBuy ? Math.floor(c.limitPrice / cfg.tickSize) : Math.ceil(c.limitPrice / cfg.tickSize);
        if (ticks === 0) return Reason.INVALID_PRICE;
      }
      if (!isCond) ticks = clipToLimit(this.marketCap(m, isBuy), ticks, isBuy);
    }
    let stopPrice = 0;
    let activation = 0;
    let callback = 0;
    const workingType = c.workingType ?? "CONTRACT_PRICE";
    const wtC = workingTypeCode(workingType);
    if (wtC < 0) return Reason.INVALID_COMMAND;
    const ref = workingType === "MARK_PRICE" || m.lastPrice === 0 ? mark : m.lastPrice;
    if (ot === "TRAILING_STOP_MARKET") {
      callback = c.callbackRatePpm ?? 0;
      if (!Number.isSafeInteger(callback) || callback < 1_000 || callback > 100_000)
        return Reason.INVALID_CALLBACK_RATE;
      if (c.activationPrice !== undefined) {
        if (!isPosInt(c.activationPrice)) return Reason.INVALID_STOP_PRICE;
        if (!Number.isInteger(c.activationPrice / cfg.tickSize)) return Reason.PRICE_NOT_ON_TICK;
        activation = c.activationPrice;
      }
    } else if (isCond) {
      if (!isPosInt(c.stopPrice)) return Reason.INVALID_STOP_PRICE;
      if (!Number.isInteger(c.stopPrice / cfg.tickSize)) return Reason.PRICE_NOT_ON_TICK;
      stopPrice = c.stopPrice;
      const up = isBuy === (ot === "STOP" || ot === "STOP_MARKET");
      if (up ? ref >= stopPrice : ref <= stopPrice) return Reason.WOULD_IMMEDIATELY_TRIGGER;
    }
    const acct = this.accounts.get(c.account);
    if (acct === undefined) return ro ? Reason.REDUCE_ONLY_REJECTED : Reason.INSUFFICIENT_MARGIN;
    if (acct.reduceOnly && !ro) return Reason.REDUCE_ONLY_REJECTED;
    const am = acct.market(m.index);
    const cid = c.clientOrderId ?? "";
    if (cid !== "" && am.clientIds !== null && am.clientIds.has(cid)) return Reason.DUPLICATE_CLIENT_ORDER_ID;
    if (isCond) {
      if (am.condOrders >= cfg.maxConditionalOrders) return Reason.TOO_MANY_CONDITIONAL_ORDERS;
    } else if (am.openOrders >= cfg.maxOpenOrders) return Reason.TOO_MANY_OPEN_ORDERS;
    if (ro && !isCond) {
      const avail = roAvail(am, isBuy, cfg.lotSize);
      if (avail === 0) return Reason.REDUCE_ONLY_REJECTED;
      if (lots > avail) lots = avail;
    }
    if (!ro) {
      const notional = isMarketType ? m.risk.notional(lots * cfg.lotSize) : m.risk.qpFloor(lots * ticks);
      if (notional < cfg.minNotional) return Reason.NOTIONAL_TOO_SMALL;
    }
    const stp = stpCode(c.stp ?? "NONE");
    if (stp < 0) return Reason.INVALID_COMMAND;
    if (!isCond) {
      const r = this.preTrade(m, acct, am, isBuy, lots, ticks, tif, ro, stp);
      if (r !== Reason.OK) return r;
    }
    // accepted
    const pooled = this.pool.pop();
    const o = (
      pooled === undefined
        ? new Order(0, acct, 0, false, ot, ot, tif, 0, 0, 0, workingType, false, false, 0, "", "", 0, 0, 0, 0)
        : pooled
    ).init(
      this.nextOrderId++,
      acct,
      m.index,
      isBuy,
      ot,
      ot,
      tif,
      ticks,
      lots,
      stopPrice,
      workingType,
      ro,
      closePos,
      stp,
      cid,
      c.hash ?? "",
      this.now,
      activation,
      callback,
      kindsOf(otCode, otCode, tifC, wtC),
    );
    this.register(o, am);
    this.touch(m);
    this.emitOrder(m, o, "NEW", Reason.OK, 0, 0, 0, false);
    if (isCond) {
      o.conditional = true;
      am.condOrders++;
      if (ot === "TRAILING_STOP_MARKET") {
        if (activation === 0) {
          o.activated = true;
          o.extreme = ref;
        }
        m.trailing.add(o);
      } else {
        this.triggerList(m, o).insert(o);
      }
      return Reason.OK;
    }
    this.execute(m, o, am);
    return Reason.OK;
  }

  /** Checks done when an order becomes active (placement, or trigger): post-only, margin, FOK. */
  private preTrade(
    m: Market,
    acct: Account,
    am: AccountMarketState,
    isBuy: boolean,
    lots: number,
    ticks: number,
    tif: TimeInForce,
    ro: boolean,
    stp: number,
  ): ReasonCode {
    const opp = isBuy ? m.asks : m.bids;
    if (tif === "GTX" && opp.crosses(ticks)) return Reason.POST_ONLY_WOULD_TAKE;
    if (!ro) {
      if (!this.marginCheck(m, acct, am, isBuy, lots, ticks)) {
        return Number.isNaN(this.freeAfter) ? Reason.NO_MARK_PRICE : Reason.INSUFFICIENT_MARGIN;
      }
    }
    if (tif === "FOK" && this.fillable(m, acct, am, isBuy, lots, ticks, stp) < lots) return Reason.FOK_NOT_FILLABLE;
    return Reason.OK;
  }

  private marketCap(m: Market, isBuy: boolean): number {
    const slip = m.cfg.marketSlippagePpm;
    const mark = m.risk.mark;
    const ts = m.cfg.tickSize;
    if (isBuy) return Math.floor(mulDivFloor(mark, RATE_ONE_N + slip, RATE_ONE_N) / ts);
    return Math.max(1, Math.ceil(mulDivCeil(mark, RATE_ONE_N - slip, RATE_ONE_N) / ts));
  }

  /**
   * Lots a taker could fill now: what matching would give it (price-time order, stopping where STP
   * would stop it, reduce-only makers clipped to their position as it shrinks, and stopping after the
   * fill that trips the circuit breaker). A level counts whole (its qty) unless the taker's own
   * orders rest there and STP applies: a FOK that cannot fill changes nothing, so it must not cost a
   * pass over every order of a deep book. With reduce-only orders on a level reached, the walk is
   * made order by order (fillableByOrder).
   */
  private fillable(
    m: Market,
    acct: Account,
    am: AccountMarketState,
    isBuy: boolean,
    lots: number,
    ticks: number,
    stp: number,
  ): number {
    const opp = isBuy ? m.asks : m.bids;
    // prices of the account's own resting orders on the other side (only when STP can meet them)
    let own: Set<number> | null = null;
    if (stp !== STP_NONE && (isBuy ? am.sellLots + am.roSellLots : am.buyLots + am.roBuyLots) > 0) {
      own = new Set();
      for (const o of this.ordersOf(acct))
        if (o.market === m.index && o.isBuy !== isBuy && o.level !== null) own.add(o.level.ticks);
    }
    const breaker = new SweepBreaker(m, this.now);
    let got = 0;
    for (const l of opp.fromBest()) {
      if (got >= lots) break;
      if (l.count === 0) continue;
      if (isBuy ? l.ticks > ticks : l.ticks < ticks) break;
      if (l.ro > 0) return this.fillableByOrder(m, acct, isBuy, lots, ticks, stp);
      if (breaker.trips(l.ticks * m.cfg.tickSize)) {
        // the first fill here halts the market and matching stops after it
        if (own !== null && own.has(l.ticks)) return this.fillableByOrder(m, acct, isBuy, lots, ticks, stp);
        return got + Math.min((l.front() as Order).remaining, lots - got);
      }
      if (own === null || !own.has(l.ticks)) {
        got += l.qty;
        continue;
      }
      const os = l.orders();
      for (let k = 0; k < os.length && got < lots; k++) {
        const o = os[k];
        if (o.account === acct) {
          if (stp === STP_EXPIRE_MAKER) continue;
          return got;
        }
        got += o.remaining;
      }
    }
    return got;
  }

  /** fillable() order by order, following each maker's position as its fills move it (execute's clips). */
  private fillableByOrder(m: Market, acct: Account, isBuy: boolean, lots: number, ticks: number, stp: number): number {
    const opp = isBuy ? m.asks : m.bids;
    const lotSize = m.cfg.lotSize;
    /** makers' positions as the fills so far leave them */
    const pos = new Map<Account, number>();
    const breaker = new SweepBreaker(m, this.now);
    let got = 0;
    for (const l of opp.fromBest()) {
      if (got >= lots) break;
      if (l.count === 0) continue;
      if (isBuy ? l.ticks > ticks : l.ticks < ticks) break;
      const os = l.orders();
      for (let k = 0; k < os.length && got < lots; k++) {
        const o = os[k];
        if (o.account === acct && stp !== STP_NONE) {
          if (stp === STP_EXPIRE_MAKER) continue;
          return got;
        }
        const p = pos.get(o.account) ?? (o.account.markets[m.index] as AccountMarketState).pos;
        let q = o.remaining;
        if (o.reduceOnly) {
          // matching clips it to what the maker's position allows by then
          const avail = roAvailAt(p, o.isBuy, lotSize);
          if (avail < q) q = avail;
        }
        if (q > lots - got) q = lots - got;
        if (q === 0) continue; // clipped to nothing: cancelled, no trade
        got += q;
        pos.set(o.account, o.isBuy ? p + q * lotSize : p - q * lotSize);
        if (breaker.trips(l.ticks * m.cfg.tickSize)) return got; // the market halts after this fill
      }
    }
    return got;
  }

  /**
   * Margin check for adding (isBuy, lots at ticks) to the account's open orders. It accepts at once when
   * a lower bound of free collateral after the order is >= 0 (the exact check would accept too: see the
   * health bounds in matcher/risk/margin.ts); otherwise it runs the exact check, which sets freeBefore /
   * freeAfter (NaN if a needed mark price is missing).
   */
  private marginCheck(
    m: Market,
    acct: Account,
    am: AccountMarketState,
    isBuy: boolean,
    lots: number,
    ticks: number,
  ): boolean {
    // a check kept from an earlier order must not pass for this one's (rest stores the check's terms)
    this.checked.clear();
    const lb = this.collateral(acct, true, -1);
    if (sumDown(lb, addOrderLb(m.risk, isBuy, lots, ticks)) >= 0) return true; // (NaN: a mark is missing)
    return this.exactMarginCheck(m, acct, am, isBuy, lots, ticks);
  }

  /** The exact margin check (sets freeBefore / freeAfter). */
  private exactMarginCheck(
    m: Market,
    acct: Account,
    am: AccountMarketState,
    isBuy: boolean,
    lots: number,
    ticks: number,
  ): boolean {
    const base = this.collateral(acct, false, m.index);
    if (Number.isNaN(base)) {
      this.freeAfter = this.freeBefore = NaN;
      return false;
    }
    const hm = this.marketTerm;
    this.freeBefore = base;
    // the order changes one term of this market's health: the others come from its cache
    marketHealth(m.risk, am);
    const term = sideTermWithOrder(m.risk, am, isBuy, lots, ticks);
    const hNew = healthWithSideTerm(am, isBuy, term);
    this.checked.set(am, m.risk.markVersion, hNew, term, isBuy, lots, ticks);
    const after = base - hm + hNew;
    this.freeAfter = after;
    return after >= 0 || after >= base;
  }

  /** market `mi`'s term of the last collateral() sum (0 when the account holds nothing there) */
  private marketTerm = 0;

  /**
   * An account's free collateral: cash + Σ the health of each market it holds something in; NaN if
   * one of them has no mark. With `bounds`, a lower bound of it: each market's health bound where it
   * holds one (the exact health elsewhere, which sets the bound), the float sum taken down.
   * marketTerm is set to market `mi`'s term.
   */
  private collateral(acct: Account, bounds: boolean, mi: number): number {
    let sum = acct.cash;
    let mag = sum < 0 ? -sum : sum;
    this.marketTerm = 0;
    const t = acct.touched;
    for (let i = 0; i < t.length; i++) {
      const j = t[i];
      const amj = acct.markets[j] as AccountMarketState;
      const risk = this.markets[j].risk;
      if (amj.pos === 0 && amj.buyLots === 0 && amj.sellLots === 0) continue;
      if (risk.mark === 0) return NaN;
      const h = bounds && amj.lbVersion === risk.markVersion ? amj.lb : marketHealth(risk, amj);
      sum += h;
      mag += h < 0 ? -h : h;
      if (j === mi) this.marketTerm = h;
    }
    // the bounds' float sum: less a few 2^-53 of the magnitudes summed, more than its rounding
    return bounds ? sum - mag * 1e-14 : sum;
  }

  /** Free collateral of an account (cash + Σ market health), NaN if a needed mark is missing. */
  freeCollateral(account: string): number {
    const acct = this.accounts.get(account);
    return acct === undefined ? 0 : this.collateral(acct, false, -1);
  }

  private register(o: Order, am: AccountMarketState): void {
    this.orders.set(o.id, o);
    o.account.addOrder(o.id, this.orders);
    if (o.clientOrderId !== "") {
      if (am.clientIds === null) am.clientIds = new Map();
      am.clientIds.set(o.clientOrderId, o);
    }
    if (o.hash !== "") this.byHash.set(o.hash, o);
  }

  /** Finished orders are recycled (cuts allocation and old-generation growth); nothing keeps them. */
  private readonly pool: Order[] = [];
  /** orders finished in the current command: recycle[0, nRecycle), pooled after the command */
  private recycle: Order[] = [];
  private nRecycle = 0;

  private unregister(o: Order, am: AccountMarketState): void {
    if (this.orders.get(o.id) !== o) return;
    const nr = this.nRecycle;
    if (nr < 4096) {
      if (nr === this.recycle.length) this.recycle.push(o);
      else this.recycle[nr] = o;
      this.nRecycle = nr + 1;
    }
    this.orders.delete(o.id);
    o.account.removeOrder();
    if (o.clientOrderId !== "" && am.clientIds !== null) am.clientIds.delete(o.clientOrderId);
    if (o.hash !== "" && this.byHash.get(o.hash) === o) this.byHash.delete(o.hash);
  }

  private triggerList(m: Market, o: Order) {
    const up = o.isBuy === (o.origType === "STOP" || o.origType === "STOP_MARKET");
    if (o.workingType === "MARK_PRICE") return up ? m.upMark : m.downMark;
    return up ? m.upLast : m.downLast;
  }

  /** Match a taker order, then rest or expire its remainder. */
  private execute(m: Market, o: Order, am: AccountMarketState): void {
    const opp = o.isBuy ? m.asks : m.bids;
    let endStatus: OrderStatus | null = null;
    let endReason: ReasonCode = Reason.OK;
    while (o.remaining > 0) {
      const lvl = opp.best();
      if (lvl === null) break;
      if (o.isBuy ? lvl.ticks > o.ticks : lvl.ticks < o.ticks) break;
      const mk = lvl.front() as Order;
      if (mk.account === o.account && o.stp !== STP_NONE) {
        if (o.stp === STP_EXPIRE_MAKER || o.stp === STP_EXPIRE_BOTH)
          this.closeOrder(mk, "EXPIRED_IN_MATCH", "EXPIRED", Reason.SELF_TRADE);
        if (o.stp === STP_EXPIRE_TAKER || o.stp === STP_EXPIRE_BOTH) {
          endStatus = "EXPIRED_IN_MATCH";
          endReason = Reason.SELF_TRADE;
          break;
        }
        continue;
      }
      let q = o.remaining < mk.remaining ? o.remaining : mk.remaining;
      if (o.reduceOnly) {
        const avail = roAvail(am, o.isBuy, m.cfg.lotSize);
        if (avail === 0) {
          endStatus = "EXPIRED";
          endReason = Reason.REDUCE_ONLY_CLOSED;
          break;
        }
        if (q > avail) q = avail;
      }
      if (mk.reduceOnly) {
        const mam = mk.account.markets[m.index] as AccountMarketState;
        const avail = roAvail(mam, mk.isBuy, m.cfg.lotSize);
        if (avail < mk.remaining) {
          this.clipReduceOnly(m, mk, mam, avail);
          continue;
        }
      }
      this.fill(m, mk, o, q, lvl.ticks);
      if (m.status !== "TRADING" && o.remaining > 0) {
        endStatus = "EXPIRED";
        endReason = Reason.CIRCUIT_BREAKER;
        break;
      }
    }
    if (o.remaining === 0) {
      this.unregister(o, am);
      return;
    }
    if (endStatus === null) {
      if (o.reduceOnly && roAvail(am, o.isBuy, m.cfg.lotSize) === 0) {
        endStatus = "EXPIRED";
        endReason = Reason.REDUCE_ONLY_CLOSED;
      } else if (o.tif === "GTC" || o.tif === "GTX") {
        this.rest(m, o, am);
        if (o.reduceOnly) this.enforceReduceOnly(m, o.account, am);
        return;
      } else {
        endStatus = "EXPIRED";
        endReason = Reason.IOC_REMAINDER;
      }
    }
    o.status = endStatus;
    this.unregister(o, am);
    this.emitOrder(m, o, "EXPIRED", endReason, 0, 0, 0, false);
  }

  private rest(m: Market, o: Order, am: AccountMarketState): void {
    const side = o.isBuy ? m.bids : m.asks;
    const l = side.getOrCreate(o.ticks);
    l.push(o);
    am.openOrders++;
    if (o.reduceOnly) addRo(am, o);
    else {
      const checked = this.checked;
      // the margin check's health for "these sums plus this order" is the health now, if nothing moved between
      const known = checked.matches(am, m.risk.markVersion, o.isBuy, o.remaining, o.ticks);
      this.addMargin(m, o, am);
      if (known) checked.store(am);
    }
    this.depthChange(m, o.isBuy, o.ticks, l.qty);
  }

  private addMargin(m: Market, o: Order, am: AccountMarketState): void {
    lbAddOrder(m.risk, am, o.isBuy, o.remaining, o.ticks);
    if (o.isBuy) {
      am.buyLots += o.remaining;
      am.buyQP += o.remaining * o.ticks;
    } else {
      am.sellLots += o.remaining;
      am.sellQP += o.remaining * o.ticks;
    }
    o.inMargin = true;
    am.dirty = true;
  }

  /**
   * Take lots of a resting order out of the margin sums (the caller moves the health bound: a cancel
   * and a fill differ).
   */
  private subMargin(o: Order, am: AccountMarketState, lots: number): void {
    if (o.isBuy) {
      am.buyLots -= lots;
      am.buyQP -= lots * o.ticks;
    } else {
      am.sellLots -= lots;
      am.sellQP -= lots * o.ticks;
    }
    am.dirty = true;
  }

  private fill(m: Market, mk: Order, tk: Order, q: number, ticks: number): void {
    const cfg = m.cfg;
    const risk = m.risk;
    const tradeId = this.nextTradeId++;
    const qp = q * ticks;
    const buyerPays = risk.qpCeil(qp);
    const sellerGets = risk.qpFloor(qp);
    const makerFee = cfg.makerFeePpm === 0 ? 0 : mulDivCeil(buyerPays, cfg.makerFeePpm, RATE_ONE_N);
    const takerFee = cfg.takerFeePpm === 0 ? 0 : mulDivCeil(buyerPays, cfg.takerFeePpm, RATE_ONE_N);
    const size = q * cfg.lotSize;
    const mam = mk.account.markets[m.index] as AccountMarketState;
    const tam = tk.account.markets[m.index] as AccountMarketState;
    if (tk.isBuy) {
      tk.account.cash -= buyerPays + takerFee;
      tam.pos += size;
      mk.account.cash += sellerGets - makerFee;
      mam.pos -= size;
    } else {
      tk.account.cash += sellerGets - takerFee;
      tam.pos -= size;
      mk.account.cash -= buyerPays + makerFee;
      mam.pos += size;
    }
    tam.dirty = true;
    mam.dirty = true;
    lbFill(risk, tam, tk.isBuy, q, ticks, false);
    lbFill(risk, mam, mk.isBuy, q, ticks, mk.inMargin);
    // maker
    const lvl = mk.level as Level;
    mk.remaining -= q;
    mk.filled += q;
    mk.filledQP += qp;
    lvl.qty -= q;
    if (mk.inMargin) this.subMargin(mk, mam, q);
    else if (mk.reduceOnly) {
      if (mk.isBuy) mam.roBuyLots -= q;
      else mam.roSellLots -= q;
    }
    // taker
    tk.remaining -= q;
    tk.filled += q;
    tk.filledQP += qp;
    const price = ticks * cfg.tickSize;
    this.eventLog.trade(
      m.id,
      ++m.seq,
      this.now,
      tradeId,
      price,
      size,
      buyerPays,
      sellerGets,
      tk.isBuy,
      mk.id,
      tk.id,
      mk.hash,
      tk.hash,
      mk.account.id,
      tk.account.id,
      makerFee,
      takerFee,
    );
    this.pendingTrades.add(
      tradeId,
      m.id,
      size,
      buyerPays,
      sellerGets,
      tk.isBuy,
      mk.account.id,
      tk.account.id,
      makerFee,
      takerFee,
    );
    mk.status = mk.remaining === 0 ? "FILLED" : "PARTIALLY_FILLED";
    this.emitOrder(m, mk, "TRADE", Reason.OK, q, ticks, tradeId, true);
    if (mk.remaining === 0) {
      const side = mk.isBuy ? m.bids : m.asks;
      side.remove(mk);
      mam.openOrders--;
      if (mk.reduceOnly) removeRo(mam, mk);
      this.unregister(mk, mam);
    }
    this.depthChange(m, mk.isBuy, ticks, lvl.qty);
    tk.status = tk.remaining === 0 ? "FILLED" : "PARTIALLY_FILLED";
    this.emitOrder(m, tk, "TRADE", Reason.OK, q, ticks, tradeId, false);
    m.lastPrice = price;
    m.priceMoved = true;
    if (mam.roCount > 0) this.enforceReduceOnly(m, mk.account, mam);
    if (tam.roCount > 0 && tam !== mam) this.enforceReduceOnly(m, tk.account, tam);
    const cb = cfg.circuitBreaker;
    if (cb !== undefined && cb.movePpm > 0) this.circuitBreaker(m, price, cb.movePpm, cb.windowMs, cb.haltMs);
  }

  private circuitBreaker(m: Market, price: number, movePpm: number, windowMs: number, haltMs: number): void {
    const w = m.window;
    w.push(this.now, price, windowMs);
    const lo = w.min();
    if (w.max() - lo > mulDivFloor(lo, movePpm, RATE_ONE_N)) {
      this.setMarketStatus(m, "HALT", "CIRCUIT_BREAKER", this.now + haltMs);
    }
  }

  private setMarketStatus(m: Market, status: "TRADING" | "HALT", reason: string, reopenAt: number): void {
    m.status = status;
    m.reopenAt = reopenAt;
    m.window.reset();
    if (reopenAt < this.nextReopen) this.nextReopen = reopenAt;
    this.touch(m);
    this.eventLog.object(
      new MarketStatusEvent(m.id, ++m.seq, this.now, status, reason, reopenAt === Infinity ? 0 : reopenAt),
    );
  }

  /** Lower a resting reduce-only order to `avail` lots, or cancel it when avail is 0. */
  private clipReduceOnly(m: Market, o: Order, am: AccountMarketState, avail: number): void {
    if (avail === 0) {
      this.closeOrder(o, "CANCELED", "CANCELED", Reason.REDUCE_ONLY_CLOSED);
      return;
    }
    const cut = o.remaining - avail;
    const l = o.level as Level;
    if (o.isBuy) am.roBuyLots -= cut;
    else am.roSellLots -= cut;
    o.remaining = avail;
    o.lots -= cut;
    l.qty -= cut;
    this.depthChange(m, o.isBuy, l.ticks, l.qty);
    this.emitOrder(m, o, "AMENDMENT", Reason.REDUCE_ONLY_CLIPPED, 0, 0, 0, false);
  }

  /** Every resting reduce-only order of the account in m at most |position|, none when flat/flipped. */
  private enforceReduceOnly(m: Market, _acct: Account, am: AccountMarketState): void {
    const lotSize = m.cfg.lotSize;
    // nothing to clip when each side's open lots fit what the position allows (avail does not
    // change in the loop below: clipping moves no position)
    const availBuy = roAvail(am, true, lotSize);
    const availSell = roAvail(am, false, lotSize);
    if (
      (am.roBuyLots <= availBuy || am.roMaxBuy <= availBuy) &&
      (am.roSellLots <= availSell || am.roMaxSell <= availSell)
    )
      return;
    const list = [...am.roOrders].sort(byId);
    let maxBuy = 0;
    let maxSell = 0;
    for (let i = 0; i < list.length; i++) {
      const o = list[i];
      if (o.level === null) continue;
      const avail = o.isBuy ? availBuy : availSell;
      if (o.remaining > avail) this.clipReduceOnly(m, o, am, avail);
      if (o.level === null) continue; // clipped to nothing: cancelled
      if (o.isBuy) maxBuy = Math.max(maxBuy, o.remaining);
      else maxSell = Math.max(maxSell, o.remaining);
    }
    am.roMaxBuy = maxBuy;
    am.roMaxSell = maxSell;
  }

  /** Remove an order (resting, conditional or an active taker) and publish its final update. */
  private closeOrder(o: Order, status: OrderStatus, exec: ExecType, reason: ReasonCode): void {
    const m = this.markets[o.market];
    const am = o.account.markets[o.market] as AccountMarketState;
    if (o.conditional) {
      o.conditional = false;
      am.condOrders--;
      if (o.origType === "TRAILING_STOP_MARKET") {
        m.trailing.remove(o);
      } else this.triggerList(m, o).remove(o);
    } else if (o.level !== null) {
      const side = o.isBuy ? m.bids : m.asks;
      const l = side.remove(o);
      am.openOrders--;
      if (o.reduceOnly) removeRo(am, o);
      if (o.inMargin) {
        lbRemoveOrder(m.risk, am, o.isBuy, o.remaining, o.ticks);
        this.subMargin(o, am, o.remaining);
      }
      this.depthChange(m, o.isBuy, o.ticks, l.count === 0 ? 0 : l.qty);
    }
    o.status = status;
    this.unregister(o, am);
    this.touch(m);
    this.emitOrder(m, o, exec, reason, 0, 0, 0, false);
  }

  private cancel(c: CancelCmd): ReasonCode {
    const m = this.findMarket(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    let o: Order | undefined;
    if (c.orderId !== undefined) o = this.orders.get(c.orderId);
    else if (c.clientOrderId !== undefined) {
      const am = this.accounts.get(c.account)?.markets[m.index];
      o = am?.clientIds?.get(c.clientOrderId) ?? undefined;
    }
    if (o === undefined || o.account.id !== c.account || o.market !== m.index) return Reason.ORDER_NOT_FOUND;
    this.closeOrder(o, "CANCELED", "CANCELED", Reason.USER_CANCEL);
    return Reason.OK;
  }

  private cancelAllCmd(c: CancelAllCmd): ReasonCode {
    let mi = -1;
    if (c.market !== undefined) {
      const m = this.marketById.get(c.market);
      if (m === undefined) return Reason.UNKNOWN_MARKET;
      mi = m.index;
    }
    const a = this.accounts.get(c.account);
    if (a) this.cancelAllOf(a, mi, Reason.MASS_CANCEL, "CANCELED");
    return Reason.OK;
  }

  /** Close the account's orders (in marketIndex, or all when < 0), newest first. */
  private cancelAllOf(a: Account, marketIndex: number, reason: ReasonCode, status: OrderStatus): void {
    const ids = a.orderIds;
    for (let i = a.nIds - 1; i >= 0; i--) {
      if (!this.orders.has(ids[i])) continue;
      const o = this.orders.get(ids[i]);
      if (o !== undefined && (marketIndex < 0 || o.market === marketIndex))
        this.closeOrder(o, status, status === "EXPIRED" ? "EXPIRED" : "CANCELED", reason);
    }
  }

  /** The account's open and conditional orders, newest first. */
  ordersOf(a: Account): Order[] {
    const out: Order[] = [];
    const ids = a.orderIds;
    for (let i = a.nIds - 1; i >= 0; i--) {
      const o = this.orders.get(ids[i]);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  private countdown(c: CountdownCmd): ReasonCode {
    let mi = -1;
    if (c.market !== undefined) {
      const m = this.marketById.get(c.market);
      if (m === undefined) return Reason.UNKNOWN_MARKET;
      mi = m.index;
    }
    if (!Number.isSafeInteger(c.timeoutMs) || c.timeoutMs < 0) return Reason.INVALID_COMMAND;
    const key = `${c.account}|${mi}`;
    if (c.timeoutMs === 0) {
      this.countdowns.delete(key);
      return Reason.OK;
    }
    const deadline = this.now + c.timeoutMs;
    this.countdowns.set(key, { account: c.account, market: mi, timeoutMs: c.timeoutMs, deadline });
    this.deadlines.push({ deadline, key });
    if (this.deadlines.size > 2 * this.countdowns.size + 64) this.rebuildDeadlines();
    else if (deadline < this.nextDeadline) this.nextDeadline = deadline;
    return Reason.OK;
  }

  /** The deadline heap from the countdowns alone (drops the stale entries). */
  private rebuildDeadlines(): void {
    this.deadlines.reset([...this.countdowns].map(([key, c]) => ({ deadline: c.deadline, key })));
    this.nextDeadline = this.deadlines.peek()?.deadline ?? Infinity;
  }

  // -------------------------------------------------------------------------------------
  // Triggers

  private runTriggers(m: Market): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      if (m.status !== "TRADING") return;
      let o: Order | null = null;
      const last = m.lastPrice;
      const mark = m.risk.mark;
      if (last > 0) o = m.upLast.popTriggered(last) ?? m.downLast.popTriggered(last);
      if (o === null && mark > 0) o = m.upMark.popTriggered(mark) ?? m.downMark.popTriggered(mark);
      if (o === null && m.trailing.size > 0) o = m.trailing.next(last, mark);
      if (o === null) return;
      this.activate(m, o);
    }
  }

  /** A conditional order reached its trigger: it becomes a market (IOC) or limit order. */
  private activate(m: Market, o: Order): void {
    const am = o.account.markets[m.index] as AccountMarketState;
    o.conditional = false;
    am.condOrders--;
    const ot: OrderType = o.origType === "STOP" || o.origType === "TAKE_PROFIT" ? "LIMIT" : "MARKET";
    o.orderType = ot;
    if (ot === "MARKET") {
      o.ticks = clipToLimit(this.marketCap(m, o.isBuy), o.ticks, o.isBuy);
      o.tif = "IOC";
    }
    o.kinds = packKinds(ot, o.origType, o.tif, o.workingType);
    if (o.reduceOnly) {
      const avail = roAvail(am, o.isBuy, m.cfg.lotSize);
      if (o.closePosition) o.lots = o.remaining = avail;
      else if (o.remaining > avail) o.lots = o.remaining = avail;
      if (avail === 0) {
        o.status = "EXPIRED";
        this.unregister(o, am);
        this.touch(m);
        this.emitOrder(m, o, "EXPIRED", Reason.REDUCE_ONLY_CLOSED, 0, 0, 0, false);
        return;
      }
    }
    const r = this.preTrade(m, o.account, am, o.isBuy, o.remaining, o.ticks, o.tif, o.reduceOnly, o.stp);
    if (r !== Reason.OK) {
      o.status = "EXPIRED";
      this.unregister(o, am);
      this.touch(m);
      this.emitOrder(m, o, "EXPIRED", Reason.TRIGGER_REJECTED, 0, 0, 0, false);
      return;
    }
    this.touch(m);
    this.emitOrder(m, o, "TRIGGERED", Reason.OK, 0, 0, 0, false);
    this.execute(m, o, am);
  }

  // -------------------------------------------------------------------------------------
  // Chain side

  private account(id: string): Account {
    let a = this.accounts.get(id);
    if (a === undefined) {
      a = new Account(id);
      this.accounts.set(id, a);
    }
    return a;
  }

  private balance(c: BalanceCmd): ReasonCode {
    if (typeof c.account !== "string" || !Number.isSafeInteger(c.delta)) return Reason.INVALID_AMOUNT;
    const a = this.account(c.account);
    a.cash += c.delta;
    this.eventLog.object(new AccountEvent(-1, ++this.accountSeq, this.now, a.id, "BALANCE", a.cash, c.delta, 0, ""));
    return Reason.OK;
  }

  private withdraw(c: WithdrawCmd): ReasonCode {
    if (!isPosInt(c.amount)) return Reason.INVALID_AMOUNT;
    if (this.withdrawals.has(c.withdrawalId)) return Reason.DUPLICATE_WITHDRAWAL;
    const a = this.accounts.get(c.account);
    if (a === undefined) return Reason.INSUFFICIENT_BALANCE;
    const free = this.freeCollateral(c.account);
    if (!(free >= c.amount)) return Number.isNaN(free) ? Reason.NO_MARK_PRICE : Reason.INSUFFICIENT_BALANCE;
    a.cash -= c.amount;
    this.withdrawals.set(c.withdrawalId, { account: a.id, amount: c.amount });
    this.eventLog.object(
      new AccountEvent(-1, ++this.accountSeq, this.now, a.id, "WITHDRAW", a.cash, -c.amount, 0, c.withdrawalId),
    );
    return Reason.OK;
  }

  private withdrawResult(c: WithdrawResultCmd): ReasonCode {
    const w = this.withdrawals.get(c.withdrawalId);
    if (w === undefined) return Reason.UNKNOWN_WITHDRAWAL;
    this.withdrawals.delete(c.withdrawalId);
    if (!c.ok) {
      const a = this.account(w.account);
      a.cash += w.amount;
      this.eventLog.object(
        new AccountEvent(-1, ++this.accountSeq, this.now, a.id, "WITHDRAW_FAILED", a.cash, w.amount, 0, c.withdrawalId),
      );
    }
    return Reason.OK;
  }

  private chainCancel(c: ChainCancelCmd): ReasonCode {
    if (c.hash !== undefined) {
      const o = this.byHash.get(c.hash);
      if (o === undefined || o.account.id !== c.account) return Reason.ORDER_NOT_FOUND;
      this.closeOrder(o, "CANCELED", "CANCELED", Reason.CHAIN_CANCEL);
      return Reason.OK;
    }
    const a = this.accounts.get(c.account);
    if (a) this.cancelAllOf(a, -1, Reason.CHAIN_CANCEL, "CANCELED");
    return Reason.OK;
  }

  /** Forced exit on chain: cancel everything and accept only reduce-only orders, until released. */
  private restrict(c: RestrictCmd): ReasonCode {
    if (typeof c.account !== "string" || typeof c.reduceOnly !== "boolean") return Reason.INVALID_COMMAND;
    const a = this.account(c.account);
    a.reduceOnly = c.reduceOnly;
    if (c.reduceOnly) this.cancelAllOf(a, -1, Reason.CHAIN_CANCEL, "CANCELED");
    return Reason.OK;
  }

  private liquidation(c: LiquidationCmd): ReasonCode {
    const m = this.marketById.get(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    if (!Number.isSafeInteger(c.sizeDelta) || !Number.isSafeInteger(c.cashDelta)) return Reason.INVALID_AMOUNT;
    const a = this.account(c.account);
    this.cancelAllOf(a, -1, Reason.LIQUIDATION, "CANCELED");
    const am = a.market(m.index);
    am.pos += c.sizeDelta;
    am.dirty = true;
    am.lbVersion = -1; // no bound for a position set from outside: the next check is exact
    a.cash += c.cashDelta;
    this.touch(m);
    this.eventLog.object(
      new AccountEvent(m.id, ++m.seq, this.now, a.id, "LIQUIDATION", a.cash, c.cashDelta, am.pos, ""),
    );
    return Reason.OK;
  }

  private funding(c: FundingCmd): ReasonCode {
    const m = this.marketById.get(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    if (!Number.isSafeInteger(c.indexDelta)) return Reason.INVALID_AMOUNT;
    this.touch(m);
    for (const a of this.accounts.values()) {
      const am = a.markets[m.index];
      if (am === undefined || am.pos === 0) continue;
      // rounding against the account: pay = ceil(pos * delta / SIZE_ONE)
      const d = c.indexDelta;
      const exact = d >= 0 ? mulDivCeil(am.pos, d, SIZE_ONE_N) : mulDivCeil(-am.pos, -d, SIZE_ONE_N);
      a.cash -= exact;
      this.eventLog.object(new AccountEvent(m.id, ++m.seq, this.now, a.id, "FUNDING", a.cash, -exact, am.pos, ""));
    }
    return Reason.OK;
  }

  private mark(c: MarkCmd): ReasonCode {
    const m = this.marketById.get(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    if (!isPosInt(c.price)) return Reason.INVALID_PRICE;
    m.risk.setMark(c.price);
    this.touch(m);
    m.priceMoved = true;
    this.eventLog.object(new MarkEvent(m.id, ++m.seq, this.now, c.price));
    return Reason.OK;
  }

  private settlement(c: SettlementCmd): ReasonCode {
    const t = this.pendingTrades.get(c.tradeId);
    if (t === undefined) return Reason.UNKNOWN_TRADE;
    this.pendingTrades.delete(c.tradeId);
    if (c.ok) return Reason.OK;
    const m = this.marketById.get(t.market) as Market;
    const buyerIsTaker = t.takerSide === "BUY";
    const buyer = this.account(buyerIsTaker ? t.takerAccount : t.makerAccount);
    const seller = this.account(buyerIsTaker ? t.makerAccount : t.takerAccount);
    const buyerFee = buyerIsTaker ? t.takerFee : t.makerFee;
    const sellerFee = buyerIsTaker ? t.makerFee : t.takerFee;
    buyer.cash += t.buyerPays + buyerFee;
    const bam = buyer.market(m.index);
    bam.pos -= t.qty;
    bam.dirty = true;
    bam.lbVersion = -1; // a reversed trade: the next check is exact
    seller.cash -= t.sellerGets - sellerFee;
    const sam = seller.market(m.index);
    sam.pos += t.qty;
    sam.dirty = true;
    sam.lbVersion = -1;
    this.touch(m);
    const ref = String(t.tradeId);
    this.eventLog.object(
      new AccountEvent(
        m.id,
        ++m.seq,
        this.now,
        buyer.id,
        "SETTLEMENT_FAILED",
        buyer.cash,
        t.buyerPays + buyerFee,
        bam.pos,
        ref,
      ),
    );
    this.eventLog.object(
      new AccountEvent(
        m.id,
        ++m.seq,
        this.now,
        seller.id,
        "SETTLEMENT_FAILED",
        seller.cash,
        -(t.sellerGets - sellerFee),
        sam.pos,
        ref,
      ),
    );
    if (bam.roCount > 0) this.enforceReduceOnly(m, buyer, bam);
    if (sam.roCount > 0) this.enforceReduceOnly(m, seller, sam);
    return Reason.OK;
  }

  private setStatus(c: SetStatusCmd): ReasonCode {
    const m = this.marketById.get(c.market);
    if (m === undefined) return Reason.UNKNOWN_MARKET;
    if (c.status !== "TRADING" && c.status !== "HALT") return Reason.INVALID_COMMAND;
    this.setMarketStatus(m, c.status, "OPERATOR", Infinity);
    if (c.status === "TRADING") m.priceMoved = true;
    return Reason.OK;
  }

  // -------------------------------------------------------------------------------------
  // Events

  private emitOrder(
    m: Market,
    o: Order,
    exec: ExecType,
    reason: ReasonCode,
    lastLots: number,
    lastTicks: number,
    tradeId: number,
    isMaker: boolean,
  ): void {
    const ls = m.cfg.lotSize;
    const tsz = m.cfg.tickSize;
    this.eventLog.order(
      m.id,
      ++m.seq,
      this.now,
      o.id,
      o.clientOrderId,
      o.account.id,
      o.isBuy,
      o.kinds,
      o.ticks * tsz,
      kindsHasStopPrice(o.kinds) ? o.stopPrice : 0,
      o.lots * ls,
      o.filled * ls,
      m.risk.qpFloor(o.filledQP),
      lastLots * ls,
      lastTicks * tsz,
      o.status,
      exec,
      reason,
      o.reduceOnly,
      o.closePosition,
      o.hash,
      tradeId,
      isMaker,
    );
  }

  // -------------------------------------------------------------------------------------
  // Queries (for the gateway; never change state)

  /** Book snapshot: lastUpdateId = u of the last depth event included. Prices/sizes in sdk units. */
  depth(marketId: number, limit = 1000): { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] } {
    const m = this.marketById.get(marketId);
    if (m === undefined) throw new Error(`unknown market ${marketId}`);
    const side = (s: BookSide): [number, number][] => {
      const out: [number, number][] = [];
      for (const l of s.fromBest()) {
        if (out.length >= limit) break;
        if (l.count === 0) continue;
        out.push([l.ticks * m.cfg.tickSize, l.qty * m.cfg.lotSize]);
      }
      return out;
    };
    return { lastUpdateId: m.lastDepthU, bids: side(m.bids), asks: side(m.asks) };
  }

  /** Open and conditional orders of an account (newest first), as order-update-shaped records. */
  openOrders(account: string, marketId?: number): OrderView[] {
    const a = this.accounts.get(account);
    const out: OrderView[] = [];
    if (a === undefined) return out;
    for (const o of this.ordersOf(a)) {
      const m = this.markets[o.market];
      if (marketId !== undefined && m.id !== marketId) continue;
      out.push(orderView(m, o));
    }
    return out;
  }

  order(orderId: number): OrderView | undefined {
    const o = this.orders.get(orderId);
    return o ? orderView(this.markets[o.market], o) : undefined;
  }

  /** Cash and positions (size units) per market id. */
  accountView(account: string): { cash: number; positions: Map<number, number>; freeCollateral: number } | undefined {
    const a = this.accounts.get(account);
    if (!a) return undefined;
    const positions = new Map<number, number>();
    for (const j of a.touched) {
      const am = a.markets[j] as AccountMarketState;
      if (am.pos !== 0) positions.set(this.markets[j].id, am.pos);
    }
    return { cash: a.cash, positions, freeCollateral: this.freeCollateral(account) };
  }

  marketState(marketId: number): { status: string; reopenAt: number; lastPrice: number; mark: number; seq: number } {
    const m = this.marketById.get(marketId);
    if (m === undefined) throw new Error(`unknown market ${marketId}`);
    return { status: m.status, reopenAt: m.reopenAt, lastPrice: m.lastPrice, mark: m.risk.mark, seq: m.seq };
  }
}

export interface OrderView {
  orderId: number;
  market: number;
  account: string;
  clientOrderId: string;
  side: "BUY" | "SELL";
  orderType: OrderType;
  origType: OrderType;
  tif: TimeInForce;
  price: number;
  stopPrice: number;
  qty: number;
  filledQty: number;
  status: OrderStatus;
  reduceOnly: boolean;
  closePosition: boolean;
  workingType: string;
  hash: string;
  conditional: boolean;
  ts: number;
}

function orderView(m: Market, o: Order): OrderView {
  return {
    orderId: o.id,
    market: m.id,
    account: o.account.id,
    clientOrderId: o.clientOrderId,
    side: o.isBuy ? "BUY" : "SELL",
    orderType: o.orderType,
    origType: o.origType,
    tif: o.tif,
    price: o.ticks * m.cfg.tickSize,
    stopPrice: o.stopPrice,
    qty: o.lots * m.cfg.lotSize,
    filledQty: o.filled * m.cfg.lotSize,
    status: o.status,
    reduceOnly: o.reduceOnly,
    closePosition: o.closePosition,
    workingType: o.workingType,
    hash: o.hash,
    conditional: o.conditional,
    ts: o.ts,
  };
}

function byId(a: Order, b: Order): number {
  return a.id - b.id;
}

/** A reduce-only order starts resting (also used by snapshot restore). */
export function addRo(am: AccountMarketState, o: Order): void {
  am.roCount++;
  am.roOrders.add(o);
  if (o.isBuy) {
    am.roBuyLots += o.remaining;
    if (o.remaining > am.roMaxBuy) am.roMaxBuy = o.remaining;
  } else {
    am.roSellLots += o.remaining;
    if (o.remaining > am.roMaxSell) am.roMaxSell = o.remaining;
  }
}

function removeRo(am: AccountMarketState, o: Order): void {
  am.roCount--;
  if (o.isBuy) am.roBuyLots -= o.remaining;
  else am.roSellLots -= o.remaining;
  am.roOrders.delete(o);
}

/** Lots a reduce-only order on this side may still fill: |position| if it reduces, else 0. */
/**
 * The circuit breaker's check for a sweep not yet made (the FOK check): the window's price range now,
 * widened by each fill price in turn; trips() tells whether a trade at that price would halt the market.
 */
class SweepBreaker {
  private readonly movePpm: number;
  private lo = NaN;
  private hi = NaN;
  constructor(m: Market, now: number) {
    const cb = m.cfg.circuitBreaker;
    this.movePpm = cb === undefined ? 0 : cb.movePpm;
    if (this.movePpm > 0 && cb !== undefined) {
      const from = now - cb.windowMs;
      this.lo = m.window.minSince(from);
      this.hi = m.window.maxSince(from);
    }
  }
  trips(price: number): boolean {
    if (this.movePpm <= 0) return false;
    if (!(this.lo <= price)) this.lo = price;
    if (!(this.hi >= price)) this.hi = price;
    return this.hi - this.lo > mulDivFloor(this.lo, this.movePpm, RATE_ONE_N);
  }
}

function roAvail(am: AccountMarketState, isBuy: boolean, lotSize: number): number {
  return roAvailAt(am.pos, isBuy, lotSize);
}

/** Lots a reduce-only order on this side may have at position p (a buy reduces a short, a sell a long). */
function roAvailAt(p: number, isBuy: boolean, lotSize: number): number {
  if (isBuy) return p < 0 ? Math.floor(-p / lotSize) : 0;
  return p > 0 ? Math.floor(p / lotSize) : 0;
}

function validateConfig(c: MarketConfig): void {
  const ints: (keyof MarketConfig)[] = [
    "id",
    "tickSize",
    "lotSize",
    "minNotional",
    "maxOrderQty",
    "maxOpenOrders",
    "maxConditionalOrders",
    "priceBandPpm",
    "marketSlippagePpm",
    "imfPpm",
    "mmfPpm",
    "makerFeePpm",
    "takerFeePpm",
  ];
  for (const k of ints)
    if (!Number.isSafeInteger(c[k])) throw new Error(`market ${c.symbol}: ${k} must be a safe integer`);
  if (c.tickSize <= 0 || c.lotSize <= 0) throw new Error(`market ${c.symbol}: tick and lot sizes must be positive`);
  if (c.mmfPpm >= c.imfPpm) throw new Error(`market ${c.symbol}: mmf must be below imf`);
  if (c.priceBandPpm >= RATE_ONE_N || c.marketSlippagePpm >= RATE_ONE_N)
    throw new Error(`market ${c.symbol}: band/slippage must be < 100%`);
}

/** A market order's price cap (ticks) bounded by its signed limit (`limit` ticks, 0 = none). */
function clipToLimit(cap: number, limit: number, isBuy: boolean): number {
  if (limit === 0) return cap;
  return isBuy ? Math.min(cap, limit) : Math.max(cap, limit);
}

/**
 * The health the last margin check computed for an account's sums plus one new order. When that
 * order then rests whole, with nothing else changed in between (same sums, same mark version), the
 * account's health is exactly that value (healthOf is a function of those alone), so the next check
 * need not compute it again.
 */
class CheckedHealth {
  private am: AccountMarketState | null = null;
  private version = -1;
  private health = 0;
  /** the changed side's term of that health (healthWithSideTerm) */
  private term = 0;
  private isBuy = false;
  private pos = 0;
  private buyLots = 0;
  private buyQP = 0;
  private sellLots = 0;
  private sellQP = 0;

  set(
    am: AccountMarketState,
    version: number,
    health: number,
    term: number,
    isBuy: boolean,
    lots: number,
    ticks: number,
  ): void {
    this.am = am;
    this.version = version;
    this.health = health;
    this.term = term;
    this.isBuy = isBuy;
    this.pos = am.pos;
    this.buyLots = isBuy ? am.buyLots + lots : am.buyLots;
    this.buyQP = isBuy ? am.buyQP + lots * ticks : am.buyQP;
    this.sellLots = isBuy ? am.sellLots : am.sellLots + lots;
    this.sellQP = isBuy ? am.sellQP : am.sellQP + lots * ticks;
  }

  /** Forget the check. */
  clear(): void {
    this.am = null;
  }

  /** Would adding (isBuy, lots at ticks) to am now give exactly the checked sums? */
  matches(am: AccountMarketState, version: number, isBuy: boolean, lots: number, ticks: number): boolean {
    if (this.am !== am || this.version !== version || am.pos !== this.pos) return false;
    return isBuy
      ? am.buyLots + lots === this.buyLots &&
          am.buyQP + lots * ticks === this.buyQP &&
          am.sellLots === this.sellLots &&
          am.sellQP === this.sellQP
      : am.sellLots + lots === this.sellLots &&
          am.sellQP + lots * ticks === this.sellQP &&
          am.buyLots === this.buyLots &&
          am.buyQP === this.buyQP;
  }

  /** am now holds the checked sums: its cached health (and the changed term) is the checked one. */
  store(am: AccountMarketState): void {
    am.health = this.health;
    if (this.isBuy) am.hBuy = this.term;
    else am.hSell = this.term;
    am.healthVersion = this.version;
    am.dirty = false;
    am.lb = this.health;
    am.lbVersion = this.version;
    this.am = null;
  }
}
