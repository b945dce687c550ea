// Exchange events (sdk/abi, the one ABI) to Postgres rows, bus messages and matcher commands.
import { hexToString, type Hex, type Log } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { skipReasonName } from "../../sdk/skipReasons";
import type { Queryable } from "../db";
import type { OutboxMessage } from "../outbox";
import { CANDLES, CHAIN_EVENTS, LIQUIDATIONS, MATCHER_COMMANDS } from "../topics";
import { fillKey, upsertCandles, type CandleFill } from "./candles";

export { SKIP_REASONS } from "../../sdk/skipReasons";

export type DecodedLog = Log<bigint, number, false, undefined, true, typeof exchangeAbi> & {
  eventName: string;
  args: Record<string, unknown>;
};

type Args = Record<string, unknown>;
const lc = (v: unknown) => String(v).toLowerCase();
const s = (v: unknown) => String(v);

/** What writeLogs knows besides the logs: block times (ms) and the matcher's tradeIds of fills. */
export interface WriteContext {
  blockTimes?: ReadonlyMap<bigint, number>;
  tradeIds?: ReadonlyMap<string, number>;
}

type Row = Record<string, unknown>;

interface TableSpec {
  table: string;
  columns: string[];
  values(a: Args, l: DecodedLog, ctx: WriteContext): unknown[];
  /** Computed columns of a new row, from the rows before it (in log order, after the block's inserts). */
  compute?(q: Queryable, row: Row): Promise<Row>;
  /** Engine commands of a stored row; `sign` -1 undoes them (reorg rollback). */
  commands?(q: Queryable, row: Row, sign: 1 | -1, ref: string): Promise<unknown[]> | unknown[];
  /** The event name of a stored row (tables holding several events). */
  nameOf?(row: Row): string;
}

const logId = (l: { blockNumber: bigint; logIndex: number }) => `${l.blockNumber.toString()}:${l.logIndex}`;
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
const big = (v: unknown) => BigInt(String(v ?? 0));
const num = (v: bigint) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v.toString();
};

const balance = (account: unknown, delta: bigint, sign: 1 | -1, ref: string) =>
  delta === 0n
    ? []
    : [{ type: "balance", ts: Date.now(), account: lc(account), delta: num(delta * BigInt(sign)), ref }];

/** A position and cash move decided by the chain: the engine cancels the account's orders and applies it. */
const positionMove = (account: unknown, market: unknown, size: bigint, cash: bigint, sign: 1 | -1, ref: string) => ({
  type: "liquidation",
  ts: Date.now(),
  account: lc(account),
  market: Number(market),
  sizeDelta: num(size * BigInt(sign)),
  cashDelta: num(cash * BigInt(sign)),
  ref,
});

/** Forced exit: the engine accepts only reduce-only orders from the account (cancelling its orders), or not. */
const restrict = (account: unknown, reduceOnly: boolean, ref: string) => ({
  type: "restrict",
  ts: Date.now(),
  account: lc(account),
  reduceOnly,
  ref,
});

/** Before the log at (block, logIndex) of `row`. */
const before = (row: Row) => [String(row.block_number), Number(row.log_index)];

/**
 * The slow withdrawal `account` had pending just before `row`: the last request before it, unless a
 * cancel or a claim came between. 0 when none.
 */
export async function pendingWithdrawal(q: Queryable, account: string, row: Row): Promise<bigint> {
  const [b, li] = before(row);
  const r = await q.query<{ amount: string; block_number: string; log_index: number }>(
    `SELECT amount, block_number, log_index FROM ev_withdrawal_requests
     WHERE account = $1 AND (block_number, log_index) < ($2::bigint, $3::integer)
     ORDER BY block_number DESC, log_index DESC LIMIT 1`,
    [account, b, li],
  );
  const req = r.rows[0];
  if (!req) return 0n;
  const closed = await q.query(
    `SELECT 1 FROM ev_withdrawal_cancels WHERE account = $1
       AND (block_number, log_index) > ($2::bigint, $3::integer) AND (block_number, log_index) < ($4::bigint, $5::integer)
     UNION ALL
     SELECT 1 FROM ev_withdrawals WHERE account = $1 AND kind = 'claim'
       AND (block_number, log_index) > ($2::bigint, $3::integer) AND (block_number, log_index) < ($4::bigint, $5::integer)
     LIMIT 1`,
    [account, req.block_number, Number(req.log_index), b, li],
  );
  return closed.rowCount > 0 ? 0n : BigInt(req.amount);
}

/** Positions of `market` just before `row` (from PositionChanged). */
async function positionsBefore(q: Queryable, market: number, row: Row): Promise<{ account: string; size: bigint }[]> {
  const [b, li] = before(row);
  const r = await q.query<{ account: string; size: string }>(
    `SELECT DISTINCT ON (account) account, new_size AS size FROM ev_positions
     WHERE market = $1 AND (block_number, log_index) < ($2::bigint, $3::integer)
     ORDER BY account, block_number DESC, log_index DESC`,
    [market, b, li],
  );
  return r.rows.map((x) => ({ account: x.account, size: BigInt(x.size) })).filter((x) => x.size !== 0n);
}

/** Funding index units per engine unit (sdk/funding.ts: 1e-6 quote per whole base unit). */
const INDEX_PER_QUOTE = 1_000_000n;
const FUNDING_INDEX_DIVISOR = 100_000_000_000_000n; // 1e8 size units x 1e6 index units
const divCeil = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : -(-a / b));

/** Where each event goes. Events of the ABI not listed go to ev_other (name and arguments). */
export const TABLES: Record<string, TableSpec> = {
  Deposit: {
    table: "ev_deposits",
    columns: ["account", "from_addr", "amount"],
    values: (a) => [lc(a.account), lc(a.from), s(a.amount)],
    commands: (_q, r, sign, ref) => balance(r.account, big(r.amount), sign, ref),
  },
  Withdraw: {
    table: "ev_withdrawals",
    columns: ["account", "to_addr", "amount"],
    values: (a) => [lc(a.account), lc(a.to), s(a.amount)],
    // A claim pays a pending slow request (whose amount the matcher already reserved); any other Withdraw is
    // a fast withdrawal. A fast one of exactly the pending amount counts as the claim; the later real claim
    // then counts as fast: the total the matcher debits is the same.
    compute: async (q, r) => {
      const pending = await pendingWithdrawal(q, String(r.account), r);
      return { kind: pending > 0n && pending === big(r.amount) ? "claim" : "fast" };
    },
    commands: (_q, r, sign, ref) => (r.kind === "claim" ? [] : balance(r.account, -big(r.amount), sign, ref)),
  },
  WithdrawalRequested: {
    table: "ev_withdrawal_requests",
    columns: ["account", "amount", "claimable_at"],
    values: (a) => [lc(a.account), s(a.amount), s(a.claimableAt)],
    // the matcher stops counting the amount as free margin (reserves it); a replaced request is released
    compute: async (q, r) => ({ replaced_amount: (await pendingWithdrawal(q, String(r.account), r)).toString() }),
    commands: (_q, r, sign, ref) => balance(r.account, big(r.replaced_amount) - big(r.amount), sign, ref),
  },
  WithdrawalCancelled: {
    table: "ev_withdrawal_cancels",
    columns: ["account"],
    values: (a) => [lc(a.account)],
    compute: async (q, r) => ({ amount: (await pendingWithdrawal(q, String(r.account), r)).toString() }),
    commands: (_q, r, sign, ref) => balance(r.account, big(r.amount), sign, ref),
  },
  Liquidated: {
    table: "ev_liquidations",
    columns: [
      "account",
      "liquidator",
      "market",
      "size_delta",
      "mark",
      "account_cash_delta",
      "liquidator_cash_delta",
      "penalty",
      "liquidator_reward",
      "insurance_credit",
    ],
    values: (a) => {
      const m = a.amounts as Record<string, unknown>;
      return [
        lc(a.account),
        lc(a.liquidator),
        Number(a.market),
        s(a.sizeDelta),
        s(a.mark),
        s(m.accountCashDelta),
        s(m.liquidatorCashDelta),
        s(m.penalty),
        s(m.liquidatorReward),
        s(m.insuranceCredit),
      ];
    },
    // the engine cancels the account's orders and moves both positions and cashes as the chain did
    commands: (_q, r, sign, ref) => [
      positionMove(r.account, r.market, big(r.size_delta), big(r.account_cash_delta), sign, ref),
      positionMove(r.liquidator, r.market, -big(r.size_delta), big(r.liquidator_cash_delta), sign, `${ref}:liquidator`),
    ],
  },
  BadDebt: {
    table: "ev_bad_debts",
    columns: ["account", "market", "amount", "covered", "socialised"],
    values: (a) => [lc(a.account), Number(a.market), s(a.amount), s(a.coveredByInsurance), s(a.socialised)],
    commands: (_q, r, sign, ref) => balance(r.account, big(r.covered) + big(r.socialised), sign, ref),
  },
  LossSocialized: {
    table: "ev_loss_socialized",
    columns: ["market", "charge_longs", "amount", "index_delta"],
    values: (a) => [Number(a.market), Boolean(a.chargeLongs), s(a.amount), s(a.indexDelta)],
    // every position of the charged side owes ceil(|size| * |delta| / 1e14) (sdk/funding.ts fundingOwed)
    compute: async (q, r) => {
      const d = big(r.index_delta) < 0n ? -big(r.index_delta) : big(r.index_delta);
      const longs = r.charge_longs === true || r.charge_longs === "true";
      const charges = (await positionsBefore(q, Number(r.market), r))
        .filter((p) => (longs ? p.size > 0n : p.size < 0n))
        .map((p) => [p.account, divCeil((p.size < 0n ? -p.size : p.size) * d, FUNDING_INDEX_DIVISOR).toString()]);
      return { charges: json(charges) };
    },
    commands: (_q, r, sign, ref) => {
      const charges = (typeof r.charges === "string" ? JSON.parse(r.charges) : r.charges) as [string, string][];
      return charges.flatMap(([a, amt]) => balance(a, -BigInt(amt), sign, `${ref}:${a}`));
    },
  },
  FundingUpdated: {
    table: "ev_funding",
    columns: ["market", "requested_rate", "applied_rate", "mark", "long_index", "short_index"],
    values: (a) => [Number(a.market), s(a.requestedRate), s(a.appliedRate), s(a.mark), s(a.longIndex), s(a.shortIndex)],
    compute: async (q, r) => {
      const [b, li] = before(r);
      const prev = await q.query<{ long_index: string; block_number: string; log_index: number }>(
        `SELECT long_index, block_number, log_index FROM ev_funding
         WHERE market = $1 AND (block_number, log_index) < ($2::bigint, $3::integer)
         ORDER BY block_number DESC, log_index DESC LIMIT 1`,
        [Number(r.market), b, li],
      );
      const p = prev.rows[0];
      const social = await q.query<{ d: string | null }>(
        `SELECT sum(index_delta) AS d FROM ev_loss_socialized WHERE market = $1 AND charge_longs
         AND (block_number, log_index) > ($2::bigint, $3::integer) AND (block_number, log_index) < ($4::bigint, $5::integer)`,
        [Number(r.market), p?.block_number ?? "-1", Number(p?.log_index ?? 0), b, li],
      );
      return { index_delta: (big(r.long_index) - big(p?.long_index ?? 0) - big(social.rows[0].d ?? 0)).toString() };
    },
    // engine funding: quote units per whole base unit, rounded half away from zero
    commands: (_q, r, sign, ref) => {
      const d = big(r.index_delta);
      const q = (d < 0n ? -1n : 1n) * (((d < 0n ? -d : d) + INDEX_PER_QUOTE / 2n) / INDEX_PER_QUOTE);
      return q === 0n
        ? []
        : [{ type: "funding", ts: Date.now(), market: Number(r.market), indexDelta: num(q * BigInt(sign)), ref }];
    },
  },
  ForcedExitRequested: {
    table: "ev_forced_exits",
    columns: ["account", "fee", "withdraw_amount", "freezable_after"],
    values: (a) => [lc(a.account), s(a.fee), s(a.withdrawAmount), s(a.freezableAfter)],
    // the fee, and the account may only reduce until the request is served (its orders are cancelled):
    // a position reopened meanwhile would let anyone freeze the Exchange. Undone: released (one open
    // request per account, so none was open before it).
    commands: (_q, r, sign, ref) => [
      ...balance(r.account, -big(r.fee), sign, ref),
      restrict(r.account, sign === 1, ref),
    ],
  },
  ForcedExitTakeover: {
    table: "ev_forced_exit_takeovers",
    columns: ["account", "taker", "market", "size", "price"],
    values: (a) => [lc(a.account), lc(a.taker), Number(a.market), s(a.size), s(a.price)],
    // the taker takes the whole position at the mark: the long side pays ceil, the short side gets floor
    commands: (_q, r, sign, ref) => {
      const size = big(r.size);
      const abs = size < 0n ? -size : size;
      const pays = divCeil(abs * big(r.price), 100_000_000n);
      const gets = (abs * big(r.price)) / 100_000_000n;
      return [
        positionMove(r.account, r.market, -size, size > 0n ? gets : -pays, sign, ref),
        positionMove(r.taker, r.market, size, size > 0n ? -pays : gets, sign, `${ref}:taker`),
      ];
    },
  },
  Frozen: {
    table: "ev_freezes",
    columns: ["by_addr", "account", "frozen_at"],
    values: (a) => [lc(a.by), lc(a.account), s(a.timestamp)],
    // nothing settles any more: every market stops trading (cancel-only)
    commands: async (q, _r, sign, ref) => {
      const ms = await q.query<{ market: number }>("SELECT DISTINCT market FROM ev_markets ORDER BY market");
      return ms.rows.map((m) => ({
        type: "setStatus",
        ts: Date.now(),
        market: Number(m.market),
        status: sign === 1 ? "HALT" : "TRADING",
        ref: `${ref}:${m.market}`,
      }));
    },
  },
  EscapeRegistered: {
    table: "ev_escapes",
    columns: ["kind", "account", "to_addr", "equity", "claim", "paid"],
    values: (a) => ["register", lc(a.account), null, s(a.equity), s(a.claim), null],
    nameOf: (r) => (r.kind === "claim" ? "EscapeClaimed" : "EscapeRegistered"),
  },
  EscapeClaimed: {
    table: "ev_escapes",
    columns: ["kind", "account", "to_addr", "equity", "claim", "paid"],
    values: (a) => ["claim", lc(a.account), lc(a.to), null, s(a.claim), s(a.paid)],
    nameOf: (r) => (r.kind === "claim" ? "EscapeClaimed" : "EscapeRegistered"),
  },
  FillSettled: {
    table: "ev_fills",
    columns: [
      "batch",
      "maker",
      "taker",
      "maker_order_hash",
      "taker_order_hash",
      "market",
      "taker_is_buy",
      "size",
      "price",
      "maker_fee",
      "taker_fee",
      "block_time",
      "trade_id",
    ],
    values: (a, l, ctx) => [
      s(a.batch),
      lc(a.maker),
      lc(a.taker),
      a.makerOrderHash,
      a.takerOrderHash,
      Number(a.market),
      a.takerIsBuy,
      s(a.size),
      s(a.price),
      s(a.makerFee),
      s(a.takerFee),
      ctx.blockTimes?.get(l.blockNumber) ?? null,
      ctx.tradeIds?.get(logId(l)) ?? null,
    ],
  },
  FillSkipped: {
    table: "ev_fill_skips",
    columns: ["batch", "fill_index", "reason", "reason_name", "order_hash"],
    values: (a) => [s(a.batch), Number(a.fillIndex), Number(a.reason), skipReasonName(Number(a.reason)), a.orderHash],
  },
  PositionChanged: {
    table: "ev_positions",
    columns: ["account", "market", "old_size", "new_size", "cash"],
    values: (a) => [lc(a.account), Number(a.market), s(a.oldSize), s(a.newSize), s(a.cash)],
  },
  OrderCancelled: {
    table: "ev_cancels",
    columns: ["account", "order_hash", "nonce"],
    values: (a) => [lc(a.account), a.orderHash, s(a.nonce)],
    commands: (_q, r, sign, ref) =>
      sign === 1 ? [{ type: "chainCancel", ts: Date.now(), account: lc(r.account), hash: r.order_hash, ref }] : [],
  },
  MinNonceRaised: {
    table: "ev_min_nonces",
    columns: ["account", "min_nonce"],
    values: (a) => [lc(a.account), s(a.minNonce)],
    // every order below minNonce is dead: the engine cancels all of the account's orders
    commands: (_q, r, sign, ref) =>
      sign === 1
        ? [{ type: "chainCancel", ts: Date.now(), account: lc(r.account), minNonce: String(r.min_nonce), ref }]
        : [],
  },
  AgentSet: {
    table: "ev_agents",
    columns: ["account", "agent", "expiry"],
    values: (a) => [lc(a.account), lc(a.agent), s(a.expiry)],
  },
  BatchSettled: {
    table: "ev_batches",
    columns: ["batch", "settled", "skipped", "fees", "submitter"],
    values: (a) => [s(a.batch), Number(a.settled), Number(a.skipped), s(a.fees), lc(a.submitter)],
  },
  FeesWithdrawn: { table: "ev_fees_withdrawn", columns: ["to_addr", "amount"], values: (a) => [lc(a.to), s(a.amount)] },
  MarketListed: {
    table: "ev_markets",
    columns: ["market", "symbol", "params"],
    values: (a) => [Number(a.market), hexToString(a.symbol as Hex).replace(/\0+$/, ""), json(a.params)],
  },
};

/** Any other event of the ABI (roles, parameters, pause, insurance, final prices, ...). */
export const OTHER: TableSpec = {
  table: "ev_other",
  columns: ["name", "args"],
  values: (a, l) => [l.eventName, json(a)],
  nameOf: (r) => String(r.name),
  // ForcedExitServed releases the account's reduce-only restriction. Undone: restricted again if its
  // request is still stored (a reorg that removes both, in any table order, ends released).
  commands: async (q, r, sign, ref) => {
    if (r.name !== "ForcedExitServed") return [];
    const args = (typeof r.args === "string" ? JSON.parse(r.args) : r.args) as Args;
    const account = lc(args.account);
    if (sign === 1) return [restrict(account, false, ref)];
    const [b, li] = before(r);
    // its request: one stored before it with no other ForcedExitServed of the account in between
    const req = await q.query(
      `SELECT 1 FROM ev_forced_exits f WHERE f.account = $1 AND (f.block_number, f.log_index) < ($2::bigint, $3::integer)
         AND NOT EXISTS (SELECT 1 FROM ev_other o WHERE o.name = 'ForcedExitServed' AND lower(o.args->>'account') = $1
           AND (o.block_number, o.log_index) > (f.block_number, f.log_index)
           AND (o.block_number, o.log_index) < ($2::bigint, $3::integer))
       LIMIT 1`,
      [account, b, li],
    );
    return req.rowCount > 0 ? [restrict(account, true, ref)] : [];
  },
};

export const specOf = (name: string): TableSpec => TABLES[name] ?? OTHER;

/** Every event table once, with its specs (for the rollback). */
export const EVENT_TABLES = [...new Set([...Object.values(TABLES), OTHER].map((t) => t.table))];

/** The event name of a stored row of `table`. */
export function rowName(table: string, row: Row): string {
  const spec = tableSpec(table);
  if (spec.nameOf) return spec.nameOf(row);
  return Object.entries(TABLES).find(([, t]) => t.table === table)![0];
}

/** The spec that handles a table's rows (commands and names are per table). */
export function tableSpec(table: string): TableSpec {
  return [...Object.values(TABLES), OTHER].find((t) => t.table === table)!;
}

/** The identity of a log on the bus and in the tables. */
export interface EventMessage {
  type: "event";
  name: string;
  blockNumber: string;
  blockHash: Hex;
  logIndex: number;
  txHash: Hex;
  args: Args;
  /** The block's time (ms), where the listener read it (blocks with fills or funding updates). */
  blockTime?: number;
}

export function toMessage(l: DecodedLog, blockTime?: number): EventMessage {
  const m: EventMessage = {
    type: "event",
    name: l.eventName,
    blockNumber: l.blockNumber.toString(),
    blockHash: l.blockHash,
    logIndex: l.logIndex,
    txHash: l.transactionHash,
    args: JSON.parse(json(l.args)),
  };
  if (blockTime !== undefined) m.blockTime = blockTime;
  return m;
}

/**
 * A liquidation as published on topics.LIQUIDATIONS (by the listener for every Liquidated event, and by the
 * liquidator bot from its receipt, with the same id: the gateway shows it once on @forceOrder).
 */
export interface LiquidationMessage {
  type: "liquidation";
  /** tx hash and log index of the Liquidated event. */
  id: string;
  account: string;
  liquidator: string;
  market: number;
  /** Size taken over (1e-8 units), positive. */
  size: string;
  /** The oracle mark it was taken over at, 6 decimals. */
  price: string;
  /** The liquidated position was long (closed by a sell). */
  wasLong: boolean;
  penalty: string;
  /** ms */
  ts: number;
}

export function liquidationMessage(row: Row, txHash: string, timeMs?: number): LiquidationMessage {
  const d = big(row.size_delta);
  return {
    type: "liquidation",
    id: `${txHash.toLowerCase()}:${Number(row.log_index)}`,
    account: lc(row.account),
    liquidator: lc(row.liquidator),
    market: Number(row.market),
    size: (d < 0n ? -d : d).toString(),
    price: String(row.mark),
    wasLong: d < 0n,
    penalty: String(row.penalty),
    ts: timeMs ?? Date.now(),
  };
}

/** Engine commands (matcher/engine/types.ts) of a stored row; `sign` -1 undoes them (reorg correction). */
export async function rowCommands(
  q: Queryable,
  table: string,
  row: Row,
  sign: 1 | -1,
  ref: string,
): Promise<unknown[]> {
  const spec = tableSpec(table);
  return spec.commands ? spec.commands(q, row, sign, ref) : [];
}

/**
 * Inserts the logs of one block (idempotent); returns the outbox messages for the rows inserted now, in
 * log order. One multi-row INSERT per table (chunked to stay under the bind-parameter limit).
 */
const typeCache = new Map<string, Map<string, string>>();

/** A table's column types (udt names: int8, numeric, text, bool, jsonb...), read once (every schema has the same migrations). */
async function columnTypes(q: Queryable, table: string): Promise<Map<string, string>> {
  let t = typeCache.get(table);
  if (!t) {
    const r = await q.query<{ column_name: string; udt_name: string }>(
      "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()",
      [table],
    );
    t = new Map(r.rows.map((x) => [x.column_name, x.udt_name]));
    if (t.size) typeCache.set(table, t);
  }
  return t;
}

export async function writeLogs(
  q: Queryable,
  logs: readonly DecodedLog[],
  ctx: WriteContext = {},
): Promise<OutboxMessage[]> {
  if (!ctx.tradeIds && logs.some((l) => l.eventName === "FillSettled"))
    ctx = { ...ctx, tradeIds: await fillTradeIds(q, logs) };
  const byTable = new Map<string, { spec: TableSpec; logs: DecodedLog[] }>();
  for (const l of logs) {
    const spec = specOf(l.eventName);
    let g = byTable.get(spec.table);
    if (!g) byTable.set(spec.table, (g = { spec, logs: [] }));
    g.logs.push(l);
  }
  const inserted = new Map<string, Row>();
  for (const { logs: ls } of byTable.values()) {
    // one statement per (table, column list): events sharing a table share its columns
    const spec = specOf(ls[0].eventName);
    const cols = ["block_number", "log_index", "block_hash", "tx_hash", ...spec.columns];
    const types = await columnTypes(q, spec.table);
    const rowsByKey = new Map<string, Row>();
    const columns: unknown[][] = cols.map(() => []);
    for (const l of ls) {
      const vals = [
        l.blockNumber.toString(),
        l.logIndex,
        l.blockHash,
        l.transactionHash,
        ...specOf(l.eventName).values(l.args, l, ctx),
      ];
      vals.forEach((v, k) => columns[k].push(v));
      rowsByKey.set(logId(l), Object.fromEntries(cols.map((c, k) => [c, vals[k]])));
    }
    // one statement, one array parameter per column (its type from the table)
    const r = await q.query<{ block_number: string; log_index: number }>(
      `INSERT INTO ${spec.table} (${cols.join(", ")})
       SELECT * FROM unnest(${cols.map((c, k) => `$${k + 1}::${types.get(c) ?? "text"}[]`).join(", ")})
       ON CONFLICT (block_number, log_index) DO NOTHING RETURNING block_number, log_index`,
      columns,
    );
    for (const row of r.rows) {
      const k = `${row.block_number}:${Number(row.log_index)}`;
      inserted.set(k, rowsByKey.get(k)!);
    }
  }
  const out: OutboxMessage[] = [];
  const fills: CandleFill[] = [];
  for (const l of logs) {
    // already stored: the same block twice is a no-op
    const row = inserted.get(logId(l));
    if (!row) continue;
    const spec = specOf(l.eventName);
    if (spec.compute) {
      const extra = await spec.compute(q, row);
      const keys = Object.keys(extra);
      await q.query(
        `UPDATE ${spec.table} SET ${keys.map((k, i) => `${k} = $${i + 3}`).join(", ")}
         WHERE block_number = $1 AND log_index = $2`,
        [row.block_number, row.log_index, ...keys.map((k) => extra[k])],
      );
      Object.assign(row, extra);
    }
    const time = ctx.blockTimes?.get(l.blockNumber);
    if (l.eventName === "FillSettled" && time !== undefined) {
      const a = l.args;
      fills.push({
        market: Number(a.market),
        price: BigInt(a.price as bigint),
        size: BigInt(a.size as bigint),
        takerIsBuy: Boolean(a.takerIsBuy),
        key: fillKey(l.blockNumber, l.logIndex),
        time,
        tradeId: ctx.tradeIds?.get(logId(l)) ?? null,
      });
    }
    const msg = toMessage(l, time);
    out.push(
      { kind: "stream", topic: CHAIN_EVENTS, payload: msg },
      { kind: "channel", topic: CHAIN_EVENTS, payload: msg },
    );
    if (spec.commands)
      for (const c of await spec.commands(q, row, 1, `${l.blockHash}:${l.logIndex}`))
        out.push({ kind: "stream", topic: MATCHER_COMMANDS, payload: c });
    if (l.eventName === "Liquidated") {
      const liq = liquidationMessage(row, l.transactionHash, time);
      out.push({ kind: "channel", topic: LIQUIDATIONS, payload: liq });
    }
  }
  for (const c of await upsertCandles(q, fills))
    out.push({ kind: "channel", topic: CANDLES, payload: { type: "candle", ...c } });
  return out;
}

/**
 * The matcher's tradeId of each FillSettled (by "block:logIndex"), when this keeper's settler built the
 * batch: FillSettled and FillSkipped are emitted in fill order, so a settled fill's index in the batch
 * is found by counting, and settle_batches.trade_ids maps the index to the trade.
 */
export async function fillTradeIds(q: Queryable, logs: readonly DecodedLog[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const byBatch = new Map<string, DecodedLog[]>();
  for (const l of logs) {
    if (l.eventName !== "FillSettled" && l.eventName !== "FillSkipped") continue;
    const b = String(l.args.batch);
    let list = byBatch.get(b);
    if (!list) byBatch.set(b, (list = []));
    list.push(l);
  }
  if (byBatch.size === 0) return out;
  const r = await q.query<{ number: string; trade_ids: number[] }>(
    "SELECT number, trade_ids FROM settle_batches WHERE number = ANY($1::bigint[])",
    [[...byBatch.keys()]],
  );
  const ids = new Map(r.rows.map((x) => [String(x.number), x.trade_ids]));
  for (const [b, list] of byBatch) {
    const tradeIds = ids.get(b);
    if (!tradeIds) continue;
    list.sort((x, y) =>
      x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1,
    );
    let next = 0;
    for (const l of list) {
      if (l.eventName === "FillSkipped") next = Number(l.args.fillIndex) + 1;
      else {
        const id = tradeIds[next++];
        if (id !== undefined) out.set(logId(l), Number(id));
      }
    }
  }
  return out;
}
