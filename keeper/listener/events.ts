// Exchange events (sdk/abi, the one ABI) to Postgres rows, bus messages and matcher commands.
import { hexToString, type Hex, type Log } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { skipReasonName } from "../../sdk/skipReasons";
import type { Queryable } from "../db";
import type { OutboxMessage } from "../outbox";
import { CANDLES, CHAIN_EVENTS, MATCHER_COMMANDS } from "../topics";
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

interface TableSpec {
  table: string;
  columns: string[];
  values(a: Args, l: DecodedLog, ctx: WriteContext): unknown[];
}

const logId = (l: { blockNumber: bigint; logIndex: number }) => `${l.blockNumber.toString()}:${l.logIndex}`;

/** Where each event goes. Events not listed (roles, EIP712DomainChanged) are not stored. */
export const TABLES: Record<string, TableSpec> = {
  Deposit: {
    table: "ev_deposits",
    columns: ["account", "from_addr", "amount"],
    values: (a) => [lc(a.account), lc(a.from), s(a.amount)],
  },
  Withdraw: {
    table: "ev_withdrawals",
    columns: ["account", "to_addr", "amount"],
    values: (a) => [lc(a.account), lc(a.to), s(a.amount)],
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
  },
  MinNonceRaised: {
    table: "ev_min_nonces",
    columns: ["account", "min_nonce"],
    values: (a) => [lc(a.account), s(a.minNonce)],
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
    values: (a) => [
      Number(a.market),
      hexToString(a.symbol as Hex).replace(/\0+$/, ""),
      JSON.stringify(a.params, (_k, x) => (typeof x === "bigint" ? x.toString() : x)),
    ],
  },
};

export const EVENT_TABLES = [...new Set(Object.values(TABLES).map((t) => t.table))];

/** The identity of a log on the bus and in the tables. */
export interface EventMessage {
  type: "event";
  name: string;
  blockNumber: string;
  blockHash: Hex;
  logIndex: number;
  txHash: Hex;
  args: Args;
}

export function toMessage(l: DecodedLog): EventMessage {
  return {
    type: "event",
    name: l.eventName,
    blockNumber: l.blockNumber.toString(),
    blockHash: l.blockHash,
    logIndex: l.logIndex,
    txHash: l.transactionHash,
    args: JSON.parse(JSON.stringify(l.args, (_k, x) => (typeof x === "bigint" ? x.toString() : x))),
  };
}

const num = (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};

/** Engine commands (matcher/engine/types.ts) for an event; `sign` -1 undoes it (reorg correction). */
export function matcherCommands(name: string, args: Args, sign: 1 | -1, ref: string): unknown[] {
  const ts = Date.now();
  const amount = (v: unknown) => num((BigInt(String(v)) * BigInt(sign)).toString());
  switch (name) {
    case "Deposit":
      return [{ type: "balance", ts, account: lc(args.account), delta: amount(args.amount), ref }];
    case "Withdraw":
      return [{ type: "balance", ts, account: lc(args.account), delta: amount(-BigInt(String(args.amount))), ref }];
    case "OrderCancelled":
      return sign === 1 ? [{ type: "chainCancel", ts, account: lc(args.account), hash: args.orderHash, ref }] : [];
    case "MinNonceRaised":
      // every order below minNonce is dead: the engine cancels all of the account's orders
      return sign === 1
        ? [{ type: "chainCancel", ts, account: lc(args.account), minNonce: String(args.minNonce), ref }]
        : [];
    default:
      return [];
  }
}

/**
 * Inserts the logs of one block (idempotent); returns the outbox messages for the rows inserted now, in
 * log order. One multi-row INSERT per table (chunked to stay under the bind-parameter limit).
 */
export async function writeLogs(
  q: Queryable,
  logs: readonly DecodedLog[],
  ctx: WriteContext = {},
): Promise<OutboxMessage[]> {
  if (!ctx.tradeIds && logs.some((l) => l.eventName === "FillSettled"))
    ctx = { ...ctx, tradeIds: await fillTradeIds(q, logs) };
  const byTable = new Map<string, { spec: TableSpec; logs: DecodedLog[] }>();
  for (const l of logs) {
    const spec = TABLES[l.eventName];
    if (!spec) continue;
    let g = byTable.get(spec.table);
    if (!g) byTable.set(spec.table, (g = { spec, logs: [] }));
    g.logs.push(l);
  }
  const inserted = new Set<string>();
  for (const { spec, logs: ls } of byTable.values()) {
    const cols = ["block_number", "log_index", "block_hash", "tx_hash", ...spec.columns];
    const per = Math.max(1, Math.floor(60_000 / cols.length));
    for (let i = 0; i < ls.length; i += per) {
      const chunk = ls.slice(i, i + per);
      const params: unknown[] = [];
      const rows = chunk.map((l) => {
        const base = params.length;
        params.push(
          l.blockNumber.toString(),
          l.logIndex,
          l.blockHash,
          l.transactionHash,
          ...spec.values(l.args, l, ctx),
        );
        return `(${cols.map((_c, k) => `$${base + k + 1}`).join(", ")})`;
      });
      const r = await q.query<{ block_number: string; log_index: number }>(
        `INSERT INTO ${spec.table} (${cols.join(", ")}) VALUES ${rows.join(", ")}
         ON CONFLICT (block_number, log_index) DO NOTHING RETURNING block_number, log_index`,
        params,
      );
      for (const row of r.rows) inserted.add(`${row.block_number}:${Number(row.log_index)}`);
    }
  }
  const out: OutboxMessage[] = [];
  const fills: CandleFill[] = [];
  for (const l of logs) {
    if (!TABLES[l.eventName]) continue;
    // already stored: the same block twice is a no-op
    if (!inserted.has(logId(l))) continue;
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
    const msg = toMessage(l);
    out.push(
      { kind: "stream", topic: CHAIN_EVENTS, payload: msg },
      { kind: "channel", topic: CHAIN_EVENTS, payload: msg },
    );
    for (const c of matcherCommands(l.eventName, msg.args, 1, `${l.blockHash}:${l.logIndex}`))
      out.push({ kind: "stream", topic: MATCHER_COMMANDS, payload: c });
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
