// The settler: fills from the durable log (bus stream FILLS) in sequence, batched by count and time,
// signed by the operator key, submitted from the separate gas key through the TxManager, reconciled
// from the receipt, and reported per fill on SETTLEMENT_RESULTS and to the matcher.
//
// State lives in Postgres, so a restart resumes exactly: the stream position moves in the same
// transaction as the fills it delivered (a fill is taken once, keyed by tradeId); a batch and its
// calldata are stored before submission; the TxManager resumes its transaction with the same nonce.
// Batch numbers are chained on chain (the contract rejects replays), so a batch settles at most once,
// and a fill returns to the queue only after its batch is known failed.
//
// Bad fills: the contract skips a bad fill (FillSkipped) and settles the rest; the skipped fill is
// reported failed. A batch-level revert that names an account (AccountMarginCheckFailed) is rebuilt
// under the same number without that account's fills, which are reported failed.
import {
  BaseError,
  decodeErrorResult,
  encodeFunctionData,
  parseEventLogs,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { exchangeAbi } from "../../sdk/abi";
import {
  exchangeDomain,
  hashOrder,
  signBatch,
  type Batch,
  type ExchangeDomain,
  type Fill,
  type Order,
} from "../../sdk/eip712";
import type { Bus } from "../bus";
import type { Db, Queryable } from "../db";
import { skipReasonName } from "../../sdk/skipReasons";
import { silentLogger, type Logger } from "../log";
import { drainOutbox, enqueue, type OutboxMessage } from "../outbox";
import { FILLS, MATCHER_COMMANDS, SETTLEMENT_RESULTS } from "../topics";
import type { TxManager } from "../tx";
import { orderFromJson, type FillMessage, type SettlementResult } from "./types";

/**
 * Gas limit of a batch beyond its per-fill bound: the fixed cost, plus the gas every oracle read and
 * ERC-1271 call must still have left when it starts (100k + 1/63, Oracle.sol / OrderSignatures.sol).
 */
export const BATCH_BASE_GAS = 300_000n;

// settle(Batch, bytes) calldata, ABI-encoded, by part (the exact post-encode check stays the safety net):
/** Selector, the two head words, the Batch head (5 words), the lengths of orders, signatures and fills,
 * and the operator signature (length word + 65 bytes in 3 words). */
export const SETTLE_FIXED_BYTES = 4 + 2 * 32 + 5 * 32 + 3 * 32 + 32 + 96;
/** One Fill: six static words. */
export const SETTLE_FILL_BYTES = 6 * 32;
/** One distinct order: eight static words, plus its signature's offset and length words. */
export const SETTLE_ORDER_BYTES = 8 * 32 + 2 * 32;

/** A signature's bytes, padded to whole words, as ABI-encoded in `bytes[]`. */
function sigWords(sig: Hex): number {
  return typeof sig === "string" ? Math.ceil((sig.length - 2) / 2 / 32) * 32 : 0;
}

/** Encoded size of settle() for a batch of these distinct orders' signatures and this many fills. */
export function settleCalldataBytes(signatures: readonly Hex[], fills: number): number {
  let n = SETTLE_FIXED_BYTES + fills * SETTLE_FILL_BYTES;
  for (const s of signatures) n += SETTLE_ORDER_BYTES + sigWords(s);
  return n;
}

/**
 * How many fills, in order, fit settle() calldata of at most maxBytes (at least 1): each fill adds its
 * words, and each order not seen before in the batch (by `id`, the order's hash) adds its words and its
 * signature's (the first signature seen for it, as in the batch). Reads `fills` only up to the first
 * that does not fit.
 */
export function fillsWithinCalldata(
  fills: Iterable<readonly [maker: { id: string; sig: Hex }, taker: { id: string; sig: Hex }]>,
  maxBytes: number,
): number {
  const seen = new Set<string>();
  let bytes = SETTLE_FIXED_BYTES;
  let n = 0;
  for (const pair of fills) {
    bytes += SETTLE_FILL_BYTES;
    for (const o of pair) {
      if (seen.has(o.id)) continue;
      seen.add(o.id);
      bytes += SETTLE_ORDER_BYTES + sigWords(o.sig);
    }
    if (bytes > maxBytes) break;
    n++;
  }
  return Math.max(1, n);
}

export interface SettlerOptions {
  db: Db;
  bus: Bus;
  client: PublicClient;
  exchange: Address;
  chainId: number;
  /** Signs batches (OPERATOR_ROLE). Never sends transactions. */
  operator: LocalAccount;
  /** Sends transactions from the gas key. */
  tx: TxManager;
  /** Largest batch (fills). Default 400 (about 60k gas per fill: fits a 30M block). */
  maxFills?: number;
  /** Oldest queued fill waits at most this long for a fuller batch. Default 1000 ms. */
  maxWaitMs?: number;
  /** Batch deadline: chain time + this. Default 600 s. */
  deadlineSec?: number;
  /** Largest settle() calldata; nodes refuse bigger transactions (geth: 128 KiB). Default 120,000. */
  maxCalldataBytes?: number;
  /** Gas limit = estimate * this / 100 (when estimating). Default 125. */
  gasMarginPct?: number;
  /**
   * Gas limit per fill without a separate estimate (the payload is simulated once with eth_call at that
   * limit): the limit is BATCH_BASE_GAS + this * fills, capped at 95% of the block gas limit and 2^24; when
   * the simulation runs short of gas, or after an on-chain revert, the batch is estimated exactly. 0 = always
   * estimate. Default 100,000 (fresh orders use ~36-50k).
   */
  gasPerFill?: number;
  /** The fixed part of that limit. Default BATCH_BASE_GAS. */
  baseGas?: bigint;
  pollMs?: number;
  /** Stream to read fills from. Default FILLS. */
  stream?: string;
  log?: Logger;
  onBatch?: (b: { number: bigint; fills: number; settled: number; failed: number; gasUsed: bigint }) => void;
  /** Per settled fill: ms from the matcher's trade time to confirmation. */
  onFillFinal?: (lagMs: number | undefined, ok: boolean) => void;
}

interface BatchRow {
  number: string;
  revision: number;
  status: "built" | "submitted" | "settled" | "failed";
  trade_ids: number[];
  deadline: string;
  calldata: Hex;
  tx_key: string;
}

interface Candidate {
  tradeId: number;
  msg: FillMessage;
  maker: Order;
  taker: Order;
}

interface Failure {
  c: Candidate;
  reason: string;
}

/** The custom error a call reverted with, decoded against the Exchange ABI. */
export function decodeRevert(err: unknown): { name: string; args: readonly unknown[] } | undefined {
  let e: unknown = err;
  const seen = new Set<unknown>();
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const data = (e as { data?: unknown }).data;
    const hex =
      typeof data === "string"
        ? data
        : typeof (data as { data?: unknown })?.data === "string"
          ? (data as { data: string }).data
          : undefined;
    if (hex && /^0x[0-9a-f]{8}/i.test(hex)) {
      try {
        const d = decodeErrorResult({ abi: exchangeAbi, data: hex as Hex });
        return { name: d.errorName, args: (d.args ?? []) as readonly unknown[] };
      } catch {
        /* not ours */
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  if (err instanceof BaseError) {
    const m =
      /reverted with custom error '(\w+)\(([^)]*)\)'/.exec(err.message) ??
      /custom error (\w+)\(([^)]*)\)/.exec(err.message);
    if (m) return { name: m[1], args: m[2].split(",").map((x) => x.trim().replace(/^"|"$/g, "")) };
  }
  return undefined;
}

export class Settler {
  private readonly o: Required<
    Pick<
      SettlerOptions,
      | "maxFills"
      | "maxWaitMs"
      | "deadlineSec"
      | "gasMarginPct"
      | "gasPerFill"
      | "pollMs"
      | "stream"
      | "maxCalldataBytes"
    >
  > &
    SettlerOptions;
  private readonly domain: ExchangeDomain;
  private readonly log: Logger;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private readonly hashCache = new Map<string, Hex>();
  /** A batch reverted on chain: estimate the next one exactly (it may have run out of gas). */
  private estimateNext = false;
  /** Paused: no new batch before this time (ms). */
  private holdUntil = 0;

  constructor(opts: SettlerOptions) {
    this.o = {
      maxFills: 400,
      maxWaitMs: 1000,
      deadlineSec: 600,
      gasMarginPct: 125,
      gasPerFill: 100_000,
      pollMs: 100,
      stream: FILLS,
      maxCalldataBytes: 120_000,
      ...opts,
    };
    if (this.o.maxFills < 1 || this.o.maxFills > 65_535) throw new Error("Settler: maxFills out of range");
    this.domain = exchangeDomain(opts.chainId, opts.exchange);
    this.log = opts.log ?? silentLogger;
  }

  // ------------------------------------------------------------------ intake

  /** Moves new fills from the stream into Postgres (position and rows in one transaction). */
  async ingest(max = 5000): Promise<number> {
    const cur = await this.o.db.query<{ last_id: string }>("SELECT last_id FROM settle_cursor WHERE stream = $1", [
      this.o.stream,
    ]);
    const after = cur.rows[0]?.last_id ?? "0";
    const entries = await this.o.bus.read<FillMessage>(this.o.stream, after, { count: max });
    if (entries.length === 0) return 0;
    await this.o.db.tx(async (q) => {
      for (let i = 0; i < entries.length; i += 500) {
        const chunk = entries.slice(i, i + 500);
        const params: unknown[] = [];
        const values = chunk.map((e, j) => {
          params.push(e.data.tradeId, e.id, JSON.stringify(e.data));
          return `($${3 * j + 1}, $${3 * j + 2}, $${3 * j + 3}::jsonb)`;
        });
        await q.query(
          `INSERT INTO settle_fills (trade_id, stream_id, payload) VALUES ${values.join(", ")} ON CONFLICT (trade_id) DO NOTHING`,
          params,
        );
      }
      await q.query(
        `INSERT INTO settle_cursor (stream, last_id) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET last_id = EXCLUDED.last_id`,
        [this.o.stream, entries[entries.length - 1].id],
      );
    });
    return entries.length;
  }

  /** Fills waiting for a batch. */
  async queueDepth(): Promise<number> {
    const r = await this.o.db.query<{ n: string }>("SELECT count(*) AS n FROM settle_fills WHERE status = 'queued'");
    return Number(r.rows[0].n);
  }

  // ------------------------------------------------------------------ the state machine

  /**
   * One step: take new fills, then either advance the batch in flight or, when a batch is due (count
   * or age), build, sign and submit the next one.
   */
  async step(force = false): Promise<"idle" | "waiting" | "submitted" | "finished"> {
    await this.ingest();
    const inflight = await this.o.db.query<BatchRow>(
      "SELECT * FROM settle_batches WHERE status IN ('built', 'submitted') ORDER BY number LIMIT 1",
    );
    if (inflight.rows[0]) return this.advance(inflight.rows[0]);
    const q = await this.o.db.query<{ n: string; age_ms: string | null }>(
      `SELECT count(*) AS n, (extract(epoch FROM (now() - min(received_at))) * 1000)::bigint AS age_ms
       FROM settle_fills WHERE status = 'queued'`,
    );
    const n = Number(q.rows[0].n);
    if (n === 0 || Date.now() < this.holdUntil) return "idle";
    if (!force && n < this.o.maxFills && Number(q.rows[0].age_ms ?? 0) < this.o.maxWaitMs) return "idle";
    return (await this.buildAndSubmit()) ? "submitted" : "idle";
  }

  private async buildAndSubmit(): Promise<boolean> {
    const rows = await this.o.db.query<{ trade_id: string; payload: FillMessage }>(
      "SELECT trade_id, payload FROM settle_fills WHERE status = 'queued' ORDER BY seq LIMIT $1",
      [this.o.maxFills],
    );
    let cands: Candidate[] = [];
    const failures: Failure[] = [];
    for (const r of rows.rows) {
      const m = r.payload;
      const c = { tradeId: Number(r.trade_id), msg: m } as Candidate;
      try {
        c.maker = orderFromJson(m.maker.order);
        c.taker = orderFromJson(m.taker.order);
        for (const v of [m.size, m.price, m.makerFee, m.takerFee]) BigInt(v);
        cands.push(c);
      } catch {
        failures.push({
          c: { ...c, maker: m.maker?.order as never, taker: m.taker?.order as never },
          reason: "InvalidFill",
        });
      }
    }
    // only the prefix that fits one transaction's calldata is assembled, signed and encoded (the rest
    // stays queued for the next batch)
    if (cands.length > 1) cands = cands.slice(0, fillsWithinCalldata(this.orderIds(cands), this.o.maxCalldataBytes));
    for (let round = 0; round < 20; round++) {
      if (cands.length === 0) {
        await this.o.db.tx((q) => this.finish(q, failures, [], undefined));
        await this.publish();
        return false;
      }
      const number = (await this.o.client.readContract({
        address: this.o.exchange,
        abi: exchangeAbi,
        functionName: "nextBatchNumber",
      })) as bigint;
      const prev = await this.o.db.query<{ revision: number; status: string }>(
        "SELECT revision, status FROM settle_batches WHERE number = $1",
        [number.toString()],
      );
      if (prev.rows[0] && prev.rows[0].status === "settled")
        throw new Error(`Settler: batch ${number} settled on chain but next number not advanced`);
      const revision = prev.rows[0] ? Number(prev.rows[0].revision) + 1 : 0;
      const block = await this.o.client.getBlock({ blockTag: "latest" });
      const deadline = block.timestamp + BigInt(this.o.deadlineSec);
      const batch = this.assemble(number, deadline, cands);
      const sig = await signBatch(this.o.operator, this.domain, batch);
      const calldata = encodeFunctionData({ abi: exchangeAbi, functionName: "settle", args: [batch, sig] });
      const bytes = (calldata.length - 2) / 2;
      if (bytes > this.o.maxCalldataBytes && cands.length > 1) {
        // too big for one transaction (the estimate above was short): keep a prefix (the rest stays
        // queued for the next batch)
        cands = cands.slice(0, Math.max(1, Math.floor((cands.length * this.o.maxCalldataBytes * 0.97) / bytes)));
        continue;
      }
      let gas: bigint;
      try {
        gas = await this.simulate(calldata, cands.length, block.gasLimit);
      } catch (err) {
        const rev = decodeRevert(err);
        if (rev?.name === "AccountMarginCheckFailed") {
          const account = String(rev.args[0]).toLowerCase();
          const keep: Candidate[] = [];
          for (const c of cands) {
            if (c.maker.account.toLowerCase() === account || c.taker.account.toLowerCase() === account)
              failures.push({ c, reason: "AccountMarginCheckFailed" });
            else keep.push(c);
          }
          this.log.warn("batch would fail an account's margin check; resubmitting without it", {
            batch: number,
            account,
            dropped: cands.length - keep.length,
          });
          cands = keep;
          continue;
        }
        if (rev?.name === "BatchNumberMismatch" || rev?.name === "BatchExpired") continue;
        if (rev?.name === "ExchangeFrozen") {
          // nothing settles any more (escape only): every queued fill is final, failed
          for (const c of cands) failures.push({ c, reason: "ExchangeFrozen" });
          this.log.error("the Exchange is frozen: queued fills fail", { fills: cands.length });
          cands = [];
          continue;
        }
        if (rev?.name === "ExchangePaused") {
          // a guardian pause is bounded: the fills wait, queued; try again in a while
          this.holdUntil = Date.now() + Math.max(2000, this.o.maxWaitMs);
          this.log.warn("the Exchange is paused: fills wait", { pausedUntil: String(rev.args[0]) });
          if (failures.length) {
            await this.o.db.tx((q) => this.finish(q, failures, [], undefined));
            await this.publish();
          }
          return false;
        }
        if (cands.length === 1) {
          failures.push({ c: cands[0], reason: rev?.name ?? "Reverted" });
          cands = [];
          continue;
        }
        throw new Error(
          `Settler: batch ${number} reverts in simulation: ${rev ? rev.name : String(err).slice(0, 300)}`,
          { cause: err },
        );
      }
      const key = `settle:${number}:${revision}`;
      const tradeIds = cands.map((c) => c.tradeId);
      await this.o.db.tx(async (q) => {
        await q.query(
          `INSERT INTO settle_batches (number, revision, status, trade_ids, deadline, calldata, tx_key)
           VALUES ($1, $2, 'built', $3::jsonb, $4, $5, $6)
           ON CONFLICT (number) DO UPDATE SET revision = EXCLUDED.revision, status = 'built', trade_ids = EXCLUDED.trade_ids,
             deadline = EXCLUDED.deadline, calldata = EXCLUDED.calldata, tx_key = EXCLUDED.tx_key, tx_hash = NULL,
             block_number = NULL, gas_used = NULL, created_at = now()`,
          [number.toString(), revision, JSON.stringify(tradeIds), deadline.toString(), calldata, key],
        );
        await q.query(
          `UPDATE settle_fills SET status = 'batched', batch_number = $1, updated_at = now() WHERE trade_id = ANY($2::bigint[])`,
          [number.toString(), tradeIds.map(String)],
        );
        await this.finish(q, failures, [], undefined);
      });
      await this.publish();
      await this.o.tx.submit({ key, to: this.o.exchange, data: calldata, gas });
      await this.o.db.query("UPDATE settle_batches SET status = 'submitted' WHERE number = $1", [number.toString()]);
      this.log.info("batch submitted", { batch: number, revision, fills: cands.length, gas });
      return true;
    }
    throw new Error("Settler: could not build a batch in 20 rounds");
  }

  /**
   * Simulates settle() once (eth_call on the latest state: same revert detection as an estimate, one
   * execution instead of the estimate's several) and returns the gas limit: a per-fill bound with
   * headroom, capped below the block and transaction gas limits. After a batch reverted on chain (out of gas included)
   * the next build estimates exactly, as before (gas margin gasMarginPct).
   */
  private async simulate(calldata: Hex, fills: number, blockGasLimit: bigint): Promise<bigint> {
    const req = { account: this.o.tx.address, to: this.o.exchange, data: calldata } as const;
    if (this.estimateNext || this.o.gasPerFill === 0) {
      const est = await this.o.client.estimateGas(req);
      this.estimateNext = false;
      return (est * BigInt(this.o.gasMarginPct)) / 100n;
    }
    let bound = (this.o.baseGas ?? BATCH_BASE_GAS) + BigInt(this.o.gasPerFill) * BigInt(fills);
    // EIP-7825 (Osaka) caps a transaction at 2^24 gas; nodes refuse larger limits
    let cap = (blockGasLimit * 95n) / 100n;
    if (cap > 16_777_216n) cap = 16_777_216n;
    if (bound > cap) bound = cap;
    // Simulated WITH that limit: the contract refuses to read an oracle (or call an ERC-1271 wallet) with
    // less than its gas reserve left (InsufficientGas), which an unlimited eth_call never shows.
    try {
      await this.o.client.call({ ...req, gas: bound });
    } catch (err) {
      const rev = decodeRevert(err);
      if (rev?.name !== "InsufficientGas" && !/out of gas/i.test(String(err))) throw err;
      const est = await this.o.client.estimateGas(req);
      return (est * BigInt(this.o.gasMarginPct)) / 100n;
    }
    return bound;
  }

  /** An order's EIP-712 hash (its identity in a batch), cached by its JSON. */
  private orderHash(o: Order, key: string): Hex {
    let h = this.hashCache.get(key);
    if (!h) {
      h = hashOrder(this.domain, o);
      this.hashCache.set(key, h);
      if (this.hashCache.size > 200_000) this.hashCache.clear();
    }
    return h;
  }

  /** Per candidate, in order and lazily: its maker's and taker's order identity and signature. */
  private *orderIds(cands: Candidate[]): Generator<readonly [{ id: Hex; sig: Hex }, { id: Hex; sig: Hex }]> {
    for (const c of cands) {
      yield [
        { id: this.orderHash(c.maker, JSON.stringify(c.msg.maker.order)), sig: c.msg.maker.signature },
        { id: this.orderHash(c.taker, JSON.stringify(c.msg.taker.order)), sig: c.msg.taker.signature },
      ] as const;
    }
  }

  /** The contract's Batch: distinct orders (by EIP-712 hash), one signature each, fills by index. */
  private assemble(number: bigint, deadline: bigint, cands: Candidate[]): Batch {
    const index = new Map<Hex, number>();
    const orders: Order[] = [];
    const signatures: Hex[] = [];
    const idx = (o: Order, sig: Hex, key: string) => {
      const h = this.orderHash(o, key);
      let i = index.get(h);
      if (i === undefined) {
        i = orders.length;
        index.set(h, i);
        orders.push(o);
        signatures.push(sig);
      }
      return i;
    };
    const fills: Fill[] = cands.map((c) => ({
      maker: idx(c.maker, c.msg.maker.signature, JSON.stringify(c.msg.maker.order)),
      taker: idx(c.taker, c.msg.taker.signature, JSON.stringify(c.msg.taker.order)),
      size: BigInt(c.msg.size),
      price: BigInt(c.msg.price),
      makerFee: BigInt(c.msg.makerFee),
      takerFee: BigInt(c.msg.takerFee),
    }));
    return { number, deadline, orders, signatures, fills };
  }

  private async advance(b: BatchRow): Promise<"waiting" | "submitted" | "finished"> {
    const number = BigInt(b.number);
    const intent = await this.o.tx.byKey(b.tx_key);
    if (b.status === "built") {
      // stored but the submission did not happen (crash in between)
      if (!intent) {
        const next = (await this.o.client.readContract({
          address: this.o.exchange,
          abi: exchangeAbi,
          functionName: "nextBatchNumber",
        })) as bigint;
        const block = await this.o.client.getBlock({ blockTag: "latest" });
        if (next !== number || block.timestamp + 30n > BigInt(b.deadline)) {
          await this.release(b, next !== number ? "batch number taken" : "deadline passed before submission");
          return "finished";
        }
        let gas: bigint;
        try {
          gas = await this.o.client.estimateGas({ account: this.o.tx.address, to: this.o.exchange, data: b.calldata });
        } catch (err) {
          await this.release(b, `reverts on resubmission: ${decodeRevert(err)?.name ?? "unknown"}`);
          return "finished";
        }
        await this.o.tx.submit({
          key: b.tx_key,
          to: this.o.exchange,
          data: b.calldata,
          gas: (gas * BigInt(this.o.gasMarginPct)) / 100n,
        });
      }
      await this.o.db.query("UPDATE settle_batches SET status = 'submitted' WHERE number = $1", [b.number]);
      return "submitted";
    }
    if (!intent) {
      await this.o.db.query("UPDATE settle_batches SET status = 'built' WHERE number = $1", [b.number]);
      return "waiting";
    }
    if (intent.status === "pending" || intent.status === "mined") return "waiting";
    if (intent.status === "superseded" || intent.receiptStatus !== "success") {
      if (intent.receiptStatus === "reverted") this.estimateNext = true;
      await this.release(
        b,
        intent.status === "superseded" ? "nonce superseded" : `transaction ${intent.minedHash} reverted`,
      );
      return "finished";
    }
    const receipt = await this.o.client.getTransactionReceipt({ hash: intent.minedHash! });
    const logs = parseEventLogs({ abi: exchangeAbi, logs: receipt.logs, strict: true }).filter(
      (l) => l.address.toLowerCase() === this.o.exchange.toLowerCase(),
    );
    const skipped = new Map<number, string>();
    for (const l of logs) {
      if (l.eventName === "FillSkipped" && l.args.batch === number)
        skipped.set(Number(l.args.fillIndex), skipReasonName(l.args.reason));
    }
    const rows = await this.o.db.query<{ trade_id: string; payload: FillMessage }>(
      "SELECT trade_id, payload FROM settle_fills WHERE trade_id = ANY($1::bigint[])",
      [b.trade_ids.map(String)],
    );
    const byId = new Map(rows.rows.map((r) => [Number(r.trade_id), r.payload]));
    const failed: Failure[] = [];
    const settled: Candidate[] = [];
    b.trade_ids.forEach((id, i) => {
      const msg = byId.get(Number(id))!;
      const c = { tradeId: Number(id), msg, maker: msg.maker.order, taker: msg.taker.order } as unknown as Candidate;
      const why = skipped.get(i);
      if (why) failed.push({ c, reason: why });
      else settled.push(c);
    });
    const info = { batch: number.toString(), txHash: intent.minedHash!, blockNumber: intent.minedBlock!.toString() };
    await this.o.db.tx(async (q) => {
      await q.query(
        "UPDATE settle_batches SET status = 'settled', tx_hash = $2, block_number = $3, gas_used = $4, settled_at = now() WHERE number = $1",
        [b.number, intent.minedHash, intent.minedBlock!.toString(), intent.gasUsed!.toString()],
      );
      await this.finish(q, failed, settled, info);
    });
    await this.publish();
    this.o.onBatch?.({
      number,
      fills: b.trade_ids.length,
      settled: settled.length,
      failed: failed.length,
      gasUsed: intent.gasUsed!,
    });
    this.log.info("batch settled", {
      batch: number,
      settled: settled.length,
      skipped: failed.length,
      gasUsed: intent.gasUsed,
      tx: intent.minedHash,
    });
    return "finished";
  }

  /** A batch that did not settle: its fills go back to the queue (same order) for the next batch. */
  private async release(b: BatchRow, why: string): Promise<void> {
    this.log.warn("batch did not settle; its fills return to the queue", {
      batch: b.number,
      revision: b.revision,
      why,
    });
    await this.o.db.tx(async (q) => {
      await q.query("UPDATE settle_batches SET status = 'failed' WHERE number = $1", [b.number]);
      await q.query(
        "UPDATE settle_fills SET status = 'queued', batch_number = NULL, updated_at = now() WHERE trade_id = ANY($1::bigint[]) AND status = 'batched'",
        [b.trade_ids.map(String)],
      );
    });
  }

  /** Final states and their messages, in the caller's transaction. */
  private async finish(
    q: Queryable,
    failed: Failure[],
    settled: Candidate[],
    info: { batch: string; txHash: Hex; blockNumber: string } | undefined,
  ): Promise<void> {
    const msgs: OutboxMessage[] = [];
    const result = (c: Candidate, status: "settled" | "failed", reason?: string): SettlementResult => ({
      type: "settlement",
      tradeId: c.tradeId,
      status,
      ...(reason ? { reason } : {}),
      ...(status === "settled" ? info : {}),
      maker: (c.msg.maker?.order?.account ?? "0x") as Hex,
      taker: (c.msg.taker?.order?.account ?? "0x") as Hex,
      market: c.msg.maker?.order?.market ?? -1,
    });
    const now = Date.now();
    for (const [list, ok] of [
      [settled.map((c) => ({ c, reason: "" })), true],
      [failed, false],
    ] as const) {
      if (list.length === 0) continue;
      await q.query(
        `UPDATE settle_fills SET status = $2, reason = $3::jsonb->>(trade_id::text), updated_at = now()
         WHERE trade_id = ANY($1::bigint[])`,
        [
          list.map((f) => String(f.c.tradeId)),
          ok ? "settled" : "failed",
          JSON.stringify(Object.fromEntries(list.map((f) => [String(f.c.tradeId), f.reason || null]))),
        ],
      );
      for (const f of list) {
        const r = result(f.c, ok ? "settled" : "failed", f.reason || undefined);
        msgs.push(
          { kind: "stream", topic: SETTLEMENT_RESULTS, payload: r },
          { kind: "channel", topic: SETTLEMENT_RESULTS, payload: r },
          {
            kind: "stream",
            topic: MATCHER_COMMANDS,
            payload: { type: "settlement", ts: now, tradeId: f.c.tradeId, ok },
          },
        );
        this.o.onFillFinal?.(f.c.msg.ts !== undefined ? now - f.c.msg.ts : undefined, ok);
      }
    }
    await enqueue(q, msgs);
  }

  private async publish(): Promise<void> {
    try {
      await drainOutbox(this.o.db, this.o.bus);
    } catch (err) {
      this.log.warn("publishing results failed; will retry", { err: String(err) });
    }
  }

  // ------------------------------------------------------------------ loop

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = (async () => {
      await this.publish();
      while (this.running) {
        let r: Awaited<ReturnType<Settler["step"]>> | "error" = "error";
        try {
          r = await this.step();
        } catch (err) {
          this.log.error("settler step failed", { err: String(err).slice(0, 500) });
        }
        if (r === "finished") continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, r === "error" ? Math.max(1000, this.o.pollMs) : this.o.pollMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
  }
}
