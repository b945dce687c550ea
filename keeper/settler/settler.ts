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
  getAbiItem,
  parseEventLogs,
  toEventSelector,
  type AbiEvent,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { exchangeDomain, type Batch, type Fill, type Order } from "../../sdk/eip712";
import type { Bus } from "../bus";
import type { Db, Queryable } from "../db";
import { encodeSettlePacked, settlePackedCalldataBytes } from "../../sdk/settlePacked";
import { skipReasonName } from "../../sdk/skipReasons";
import { silentLogger, type Logger } from "../log";
import { drainOutbox, enqueue, type OutboxMessage } from "../outbox";
import { FILLS, MATCHER_COMMANDS, SETTLEMENT_RESULTS } from "../topics";
import type { TxManager } from "../tx";
import { SettlerHasher } from "./hashing";
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
 * The calldata of a signed batch: the one place the entry point and its encoding are chosen. The packed
 * entry point (settlePacked(bytes), sdk/settlePacked.ts: no ABI padding, about 3x the fills per
 * transaction); the ABI one is `encodeFunctionData(settle, [batch, sig])` with settleCalldataBytes.
 */
export function encodeSettle(batch: Batch, operatorSignature: Hex): Hex {
  return encodeSettlePacked(batch, operatorSignature);
}

/** Its exact size for a batch of these distinct orders' signatures and this many fills (= encodeSettle). */
export const calldataBytes: (signatures: readonly Hex[], fills: number) => number = settlePackedCalldataBytes;

/**
 * How many fills, in order, fit the calldata (calldataBytes) of at most maxBytes (at least 1): each fill
 * counts, and each order not seen before in the batch (by `id`, the order's hash) with its signature (the
 * first signature seen for it, as in the batch). Reads `fills` only up to the first that does not fit.
 *
 * `size` is called on the whole prefix only when a running upper bound (each step's increment from
 * one-element calls, plus 64 bytes for word padding on either side) passes maxBytes, so a prefix of
 * hundreds of fills costs a few full evaluations, not one per fill.
 */
export function fillsWithinCalldata(
  fills: Iterable<readonly [maker: { id: string; sig: Hex }, taker: { id: string; sig: Hex }]>,
  maxBytes: number,
  size: (signatures: readonly Hex[], fills: number) => number = calldataBytes,
): number {
  const seen = new Set<string>();
  const sigs: Hex[] = [];
  const empty = size([], 0);
  const perFill = size([], 1) - empty + 64;
  let bound = empty; // >= size(sigs, n)
  let n = 0;
  for (const pair of fills) {
    bound += perFill;
    for (const o of pair) {
      if (seen.has(o.id)) continue;
      seen.add(o.id);
      sigs.push(o.sig);
      bound += size([o.sig], 0) - empty + 64;
    }
    if (bound > maxBytes) {
      bound = size(sigs, n + 1);
      if (bound > maxBytes) break;
    }
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
  /**
   * Batches in flight at once (built, signed and sent while the ones below mine; nonces n, n+1, ...).
   * Default 4. 1 = one batch at a time.
   */
  maxInFlight?: number;
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
  /**
   * Simulate a batch sent while others are in flight below it too (possible only where they are already
   * mined: automine). Default false: it goes out with the per-fill gas bound, and a batch-level revert
   * (an account's margin, a pause) returns it and those after it to the queue, rebuilt and simulated
   * once nothing is in flight. The first batch (nothing in flight) is always simulated.
   */
  simulateChained?: boolean;
  /** The fixed part of that limit. Default BATCH_BASE_GAS. */
  baseGas?: bigint;
  pollMs?: number;
  /** Stream to read fills from. Default FILLS. */
  stream?: string;
  log?: Logger;
  onBatch?: (b: { number: bigint; fills: number; settled: number; failed: number; gasUsed: bigint }) => void;
  /** Per batch submitted: where its time went (ms): assembly to the simulation, the simulation, the store, the submission. */
  onSubmitted?: (b: {
    number: bigint;
    fills: number;
    buildMs: number;
    simulateMs: number;
    recordMs: number;
    submitMs: number;
  }) => void;
  /** Per settled fill: ms from the matcher's trade time to confirmation. */
  onFillFinal?: (lagMs: number | undefined, ok: boolean) => void;
}

interface BatchRow {
  number: string;
  revision: number;
  status: "built" | "submitted" | "settled" | "failed";
  trade_ids: number[];
  deadline: string;
  tx_key: string;
}

interface Candidate {
  tradeId: number;
  msg: FillMessage;
  maker: Order;
  taker: Order;
  /** EIP-712 struct hashes of the orders, and as hex (the order's identity in a batch). */
  makerStruct?: Uint8Array;
  takerStruct?: Uint8Array;
  makerId?: string;
  takerId?: string;
}

interface Failure {
  c: Candidate;
  reason: string;
}

const FILL_SKIPPED_TOPIC = toEventSelector(getAbiItem({ abi: exchangeAbi, name: "FillSkipped" }) as AbiEvent);

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
      | "maxInFlight"
    >
  > &
    SettlerOptions;
  private readonly hasher: SettlerHasher;
  /** Payloads of fills not final yet, by tradeId (as stored; dropped when final). */
  private readonly payloads = new Map<number, FillMessage>();
  /** Per batch in flight (its tx key): its fills as built, for its results without reading them back. */
  private readonly inFlight = new Map<string, Map<number, FillMessage>>();
  private readonly log: Logger;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private unsubscribe?: () => void;
  /**
   * A batch did not settle (or the settler started with batches in flight): nothing new is built until
   * the batches in flight are all final.
   */
  private draining = true;
  /** A batch's transaction became final while a step ran: step again without sleeping. */
  private woken = false;
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
      maxInFlight: 4,
      ...opts,
    };
    if (!(this.o.maxInFlight >= 1)) throw new Error("Settler: maxInFlight must be at least 1");
    if (this.o.maxFills < 1 || this.o.maxFills > 65_535) throw new Error("Settler: maxFills out of range");
    this.hasher = new SettlerHasher(exchangeDomain(opts.chainId, opts.exchange));
    this.log = opts.log ?? silentLogger;
  }

  // ------------------------------------------------------------------ intake

  /** Moves new fills from the stream into Postgres (position and rows in one transaction). */
  async ingest(max = 1000): Promise<number> {
    const cur = await this.o.db.query<{ last_id: string }>("SELECT last_id FROM settle_cursor WHERE stream = $1", [
      this.o.stream,
    ]);
    const after = cur.rows[0]?.last_id ?? "0";
    const entries = await this.o.bus.read<FillMessage>(this.o.stream, after, { count: max });
    if (entries.length === 0) return 0;
    const stored: FillMessage[] = [];
    await this.o.db.tx(async (q) => {
      for (let i = 0; i < entries.length; i += 500) {
        const chunk = entries.slice(i, i + 500);
        const params: unknown[] = [];
        const values = chunk.map((e, j) => {
          params.push(e.data.tradeId, e.id, JSON.stringify(e.data));
          return `($${3 * j + 1}, $${3 * j + 2}, $${3 * j + 3}::jsonb)`;
        });
        const r = await q.query<{ trade_id: string }>(
          `INSERT INTO settle_fills (trade_id, stream_id, payload) VALUES ${values.join(", ")} ON CONFLICT (trade_id) DO NOTHING RETURNING trade_id`,
          params,
        );
        const fresh = new Set(r.rows.map((x) => Number(x.trade_id)));
        for (const e of chunk) if (fresh.has(Number(e.data.tradeId))) stored.push(e.data);
      }
      await q.query(
        `INSERT INTO settle_cursor (stream, last_id) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET last_id = EXCLUDED.last_id`,
        [this.o.stream, entries[entries.length - 1].id],
      );
    });
    // the queue's payloads as stored (the first of a repeated tradeId), so a batch is built without
    // reading them back
    if (this.payloads.size > 100_000) this.payloads.clear();
    for (const m of stored) this.payloads.set(Number(m.tradeId), m);
    return entries.length;
  }

  /** Fills waiting for a batch. */
  async queueDepth(): Promise<number> {
    const r = await this.o.db.query<{ n: string }>("SELECT count(*) AS n FROM settle_fills WHERE status = 'queued'");
    return Number(r.rows[0].n);
  }

  // ------------------------------------------------------------------ the state machine

  /**
   * One step: take new fills; settle or release the batches in flight, lowest number first, each by its
   * own transaction's outcome; then, while fewer than maxInFlight are in flight and a batch is due (count
   * or age), build, sign and submit the next one, numbered after the highest in flight.
   *
   * After a batch did not settle, nothing new is built until every batch sent after it is final: they
   * normally revert (their numbers chain on it) and return to the queue too, but one may still settle
   * (the failed batch's number was taken by another submitter), so the next number comes from the chain
   * once they are all known. The same holds after a restart with batches in flight.
   */
  async step(force = false): Promise<"idle" | "waiting" | "submitted" | "finished"> {
    await this.ingest();
    const inflight = (
      await this.o.db.query<BatchRow>(
        // not the calldata (100 kB each): only a batch stored but never submitted needs it
        "SELECT number, revision, status, trade_ids, deadline, tx_key FROM settle_batches WHERE status IN ('built', 'submitted') ORDER BY number",
      )
    ).rows;
    let finished = false;
    let open: BatchRow[] = [];
    for (let i = 0; i < inflight.length; i++) {
      const r = await this.advance(inflight[i], i === 0);
      if (r === "waiting") {
        open = inflight.slice(i);
        break;
      }
      finished = true;
      if (r === "failed") this.draining = true;
    }
    const quiet = finished ? "finished" : open.length ? "waiting" : "idle";
    if (open.length === 0) this.draining = false;
    // a stored batch not yet handed to the tx manager (a crash in between) goes out first: nothing may
    // take a nonce before it
    if (this.draining || open.some((b) => b.status === "built") || open.length >= this.o.maxInFlight) return quiet;
    const q = await this.o.db.query<{ n: string; age_ms: string | null }>(
      `SELECT count(*) AS n, (extract(epoch FROM (now() - min(received_at))) * 1000)::bigint AS age_ms
       FROM settle_fills WHERE status = 'queued'`,
    );
    const n = Number(q.rows[0].n);
    if (n === 0 || Date.now() < this.holdUntil) return quiet;
    if (!force && n < this.o.maxFills && Number(q.rows[0].age_ms ?? 0) < this.o.maxWaitMs) return quiet;
    const after = open.length ? BigInt(open[open.length - 1].number) : undefined;
    return (await this.buildAndSubmit(after)) ? "submitted" : quiet;
  }

  /** Builds and submits one batch; `after`: the highest batch number in flight (none: read the chain). */
  private async buildAndSubmit(after?: bigint): Promise<boolean> {
    const t0 = performance.now();
    const queued = await this.o.db.query<{ trade_id: string }>(
      "SELECT trade_id FROM settle_fills WHERE status = 'queued' ORDER BY seq LIMIT $1",
      [this.o.maxFills],
    );
    const missing = queued.rows.map((r) => r.trade_id).filter((id) => !this.payloads.has(Number(id)));
    if (missing.length) {
      const r = await this.o.db.query<{ trade_id: string; payload: FillMessage }>(
        "SELECT trade_id, payload FROM settle_fills WHERE trade_id = ANY($1::bigint[])",
        [missing],
      );
      for (const x of r.rows) this.payloads.set(Number(x.trade_id), x.payload);
    }
    const rows = {
      rows: queued.rows.map((r) => ({ trade_id: r.trade_id, payload: this.payloads.get(Number(r.trade_id))! })),
    };
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
    let chained = after !== undefined;
    for (let round = 0; round < 20; round++) {
      if (cands.length === 0) {
        await this.o.db.tx((q) => this.finish(q, failures, [], undefined));
        await this.publish();
        return false;
      }
      const number = chained
        ? after! + 1n
        : ((await this.o.client.readContract({
            address: this.o.exchange,
            abi: exchangeAbi,
            functionName: "nextBatchNumber",
          })) as bigint);
      const prev = await this.o.db.query<{ revision: number; status: string }>(
        "SELECT revision, status FROM settle_batches WHERE number = $1",
        [number.toString()],
      );
      if (prev.rows[0] && prev.rows[0].status === "settled")
        throw new Error(`Settler: batch ${number} settled on chain but next number not advanced`);
      const revision = prev.rows[0] ? Number(prev.rows[0].revision) + 1 : 0;
      const block = await this.o.client.getBlock({ blockTag: "latest" });
      const deadline = block.timestamp + BigInt(this.o.deadlineSec);
      const { batch, structs } = this.assemble(number, deadline, cands);
      const sig = await this.hasher.signBatch(this.o.operator, batch, structs);
      const calldata = encodeSettle(batch, sig);
      const bytes = (calldata.length - 2) / 2;
      if (bytes > this.o.maxCalldataBytes && cands.length > 1) {
        // too big for one transaction (the estimate above was short): keep a prefix (the rest stays
        // queued for the next batch)
        cands = cands.slice(0, Math.max(1, Math.floor((cands.length * this.o.maxCalldataBytes * 0.97) / bytes)));
        continue;
      }
      let gas: bigint;
      const t1 = performance.now();
      try {
        // a batch chained on batches in flight is simulated only when asked: on a chain that mines in
        // blocks the ones below are not mined yet and the chain's state cannot tell anyway
        gas =
          chained && !this.o.simulateChained && !this.estimateNext
            ? this.gasBound(cands.length, block.gasLimit)
            : await this.simulate(calldata, cands.length, block.gasLimit);
      } catch (err) {
        const rev = decodeRevert(err);
        if (rev?.name === "BatchNumberMismatch" && chained) {
          // the batches below are not mined yet: the chain's state cannot tell; the batch goes out with
          // the per-fill bound, and an on-chain revert returns it (and those above) to the queue, to be
          // rebuilt and simulated on the state it then follows
          const next = (await this.o.client.readContract({
            address: this.o.exchange,
            abi: exchangeAbi,
            functionName: "nextBatchNumber",
          })) as bigint;
          if (next < number) gas = this.gasBound(cands.length, block.gasLimit);
          else {
            chained = false;
            continue;
          }
        } else if (rev?.name === "AccountMarginCheckFailed") {
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
        } else if (rev?.name === "BatchNumberMismatch" || rev?.name === "BatchExpired") continue;
        else if (rev?.name === "ExchangeFrozen") {
          // nothing settles any more (escape only): every queued fill is final, failed
          for (const c of cands) failures.push({ c, reason: "ExchangeFrozen" });
          this.log.error("the Exchange is frozen: queued fills fail", { fills: cands.length });
          cands = [];
          continue;
        } else if (rev?.name === "ExchangePaused") {
          // a guardian pause is bounded: the fills wait, queued; try again in a while
          this.holdUntil = Date.now() + Math.max(2000, this.o.maxWaitMs);
          this.log.warn("the Exchange is paused: fills wait", { pausedUntil: String(rev.args[0]) });
          if (failures.length) {
            await this.o.db.tx((q) => this.finish(q, failures, [], undefined));
            await this.publish();
          }
          return false;
        } else if (cands.length === 1) {
          failures.push({ c: cands[0], reason: rev?.name ?? "Reverted" });
          cands = [];
          continue;
        } else
          throw new Error(
            `Settler: batch ${number} reverts in simulation: ${rev ? rev.name : String(err).slice(0, 300)}`,
            { cause: err },
          );
      }
      const key = `settle:${number}:${revision}`;
      const tradeIds = cands.map((c) => c.tradeId);
      const t2 = performance.now();
      // the batch, its fills and any failures in one transaction, all before the submission
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
      if (failures.length) await this.publish();
      const t3 = performance.now();
      this.inFlight.set(key, new Map(cands.map((c) => [c.tradeId, c.msg])));
      if (this.inFlight.size > 4 * this.o.maxInFlight) this.inFlight.delete(this.inFlight.keys().next().value!);
      await this.o.tx.submit({ key, to: this.o.exchange, data: calldata, gas });
      await this.o.db.query("UPDATE settle_batches SET status = 'submitted' WHERE number = $1", [number.toString()]);
      this.o.onSubmitted?.({
        number,
        fills: cands.length,
        buildMs: t1 - t0,
        simulateMs: t2 - t1,
        recordMs: t3 - t2,
        submitMs: performance.now() - t3,
      });
      this.log.info("batch submitted", { batch: number, revision, fills: cands.length, gas });
      return true;
    }
    throw new Error("Settler: could not build a batch in 20 rounds");
  }

  /** The per-fill gas bound of a batch, capped below the block and transaction gas limits. */
  private gasBound(fills: number, blockGasLimit: bigint): bigint {
    const bound = (this.o.baseGas ?? BATCH_BASE_GAS) + BigInt(this.o.gasPerFill || 100_000) * BigInt(fills);
    const cap = this.gasCap(blockGasLimit);
    return bound > cap ? cap : bound;
  }

  /** 95% of the block gas limit, and EIP-7825's (Osaka) 2^24 per transaction: nodes refuse larger limits. */
  private gasCap(blockGasLimit: bigint): bigint {
    const cap = (blockGasLimit * 95n) / 100n;
    return cap > 16_777_216n ? 16_777_216n : cap;
  }

  /**
   * Simulates settle() once (eth_call on the latest state: same revert detection as an estimate, one
   * execution instead of the estimate's several) and returns the gas limit: a per-fill bound with
   * headroom, capped below the block and transaction gas limits. After a batch reverted on chain (out of gas included)
   * the next build estimates exactly, as before (gas margin gasMarginPct).
   */
  private async simulate(calldata: Hex, fills: number, blockGasLimit: bigint): Promise<bigint> {
    const req = { account: this.o.tx.address, to: this.o.exchange, data: calldata } as const;
    // the margin on an exact estimate stays under the transaction gas cap when the estimate itself does
    const withMargin = (est: bigint) => {
      const g = (est * BigInt(this.o.gasMarginPct)) / 100n;
      const cap = this.gasCap(blockGasLimit);
      return g > cap && est <= cap ? cap : g;
    };
    if (this.estimateNext || this.o.gasPerFill === 0) {
      const est = await this.o.client.estimateGas(req);
      this.estimateNext = false;
      return withMargin(est);
    }
    const bound = this.gasBound(fills, blockGasLimit);
    // Simulated WITH that limit: the contract refuses to read an oracle (or call an ERC-1271 wallet) with
    // less than its gas reserve left (InsufficientGas), which an unlimited eth_call never shows.
    try {
      await this.o.client.call({ ...req, gas: bound });
    } catch (err) {
      const rev = decodeRevert(err);
      if (rev?.name !== "InsufficientGas" && !/out of gas/i.test(String(err))) throw err;
      return withMargin(await this.o.client.estimateGas(req));
    }
    return bound;
  }

  /** A candidate's orders' struct hashes (their identity within a batch: one domain), computed once. */
  private hashes(c: Candidate): void {
    if (c.makerStruct) return;
    c.makerStruct = this.hasher.orderStruct(c.maker);
    c.takerStruct = this.hasher.orderStruct(c.taker);
    c.makerId = Buffer.from(c.makerStruct).toString("hex");
    c.takerId = Buffer.from(c.takerStruct).toString("hex");
  }

  /** Per candidate, in order and lazily: its maker's and taker's order identity and signature. */
  private *orderIds(cands: Candidate[]): Generator<readonly [{ id: string; sig: Hex }, { id: string; sig: Hex }]> {
    for (const c of cands) {
      this.hashes(c);
      yield [
        { id: c.makerId!, sig: c.msg.maker.signature },
        { id: c.takerId!, sig: c.msg.taker.signature },
      ] as const;
    }
  }

  /** The contract's Batch: distinct orders (by EIP-712 hash), one signature each, fills by index. */
  private assemble(number: bigint, deadline: bigint, cands: Candidate[]): { batch: Batch; structs: Uint8Array[] } {
    const index = new Map<string, number>();
    const orders: Order[] = [];
    const signatures: Hex[] = [];
    const structs: Uint8Array[] = [];
    const idx = (o: Order, sig: Hex, id: string, struct: Uint8Array) => {
      let i = index.get(id);
      if (i === undefined) {
        i = orders.length;
        index.set(id, i);
        orders.push(o);
        signatures.push(sig);
        structs.push(struct);
      }
      return i;
    };
    const fills: Fill[] = cands.map((c) => {
      this.hashes(c);
      return {
        maker: idx(c.maker, c.msg.maker.signature, c.makerId!, c.makerStruct!),
        taker: idx(c.taker, c.msg.taker.signature, c.takerId!, c.takerStruct!),
        size: BigInt(c.msg.size),
        price: BigInt(c.msg.price),
        makerFee: BigInt(c.msg.makerFee),
        takerFee: BigInt(c.msg.takerFee),
      };
    });
    return { batch: { number, deadline, orders, signatures, fills }, structs };
  }

  /**
   * Moves one batch in flight on: "settled" or "failed" when final, else "waiting". `lowest`: no batch
   * below it is in flight.
   */
  private async advance(b: BatchRow, lowest: boolean): Promise<"waiting" | "settled" | "failed"> {
    const number = BigInt(b.number);
    const intent = await this.o.tx.state(b.tx_key);
    if (b.status === "built") {
      // stored but the submission did not happen (crash in between); it goes out once it is the lowest
      if (!intent) {
        if (!lowest) return "waiting";
        const next = (await this.o.client.readContract({
          address: this.o.exchange,
          abi: exchangeAbi,
          functionName: "nextBatchNumber",
        })) as bigint;
        const block = await this.o.client.getBlock({ blockTag: "latest" });
        if (next !== number || block.timestamp + 30n > BigInt(b.deadline)) {
          await this.release(b, next !== number ? "batch number taken" : "deadline passed before submission");
          return "failed";
        }
        const calldata = (
          await this.o.db.query<{ calldata: Hex }>("SELECT calldata FROM settle_batches WHERE number = $1", [b.number])
        ).rows[0].calldata;
        let gas: bigint;
        try {
          gas = await this.o.client.estimateGas({ account: this.o.tx.address, to: this.o.exchange, data: calldata });
        } catch (err) {
          await this.release(b, `reverts on resubmission: ${decodeRevert(err)?.name ?? "unknown"}`);
          return "failed";
        }
        await this.o.tx.submit({
          key: b.tx_key,
          to: this.o.exchange,
          data: calldata,
          gas: (gas * BigInt(this.o.gasMarginPct)) / 100n,
        });
      }
      await this.o.db.query("UPDATE settle_batches SET status = 'submitted' WHERE number = $1", [b.number]);
      b.status = "submitted";
      return "waiting";
    }
    if (!intent) {
      await this.o.db.query("UPDATE settle_batches SET status = 'built' WHERE number = $1", [b.number]);
      b.status = "built";
      return "waiting";
    }
    if (intent.status === "pending" || intent.status === "mined") return "waiting";
    if (intent.status === "superseded" || intent.receiptStatus !== "success") {
      if (intent.receiptStatus === "reverted") this.estimateNext = true;
      await this.release(
        b,
        intent.status === "superseded" ? "nonce superseded" : `transaction ${intent.minedHash} reverted`,
      );
      return "failed";
    }
    const receipt =
      this.o.tx.cachedReceipt(intent.minedHash!) ??
      (await this.o.client.getTransactionReceipt({ hash: intent.minedHash! }));
    // only FillSkipped is read back (a batch's FillSettled logs are the listener's)
    const skipLogs = receipt.logs.filter(
      (l) => l.topics[0] === FILL_SKIPPED_TOPIC && l.address.toLowerCase() === this.o.exchange.toLowerCase(),
    );
    const skipped = new Map<number, string>();
    for (const l of parseEventLogs({ abi: exchangeAbi, logs: skipLogs, strict: true })) {
      if (l.eventName === "FillSkipped" && l.args.batch === number)
        skipped.set(Number(l.args.fillIndex), skipReasonName(l.args.reason));
    }
    // the fills as built (kept while the batch is in flight), or from the store after a restart
    let byId = this.inFlight.get(b.tx_key);
    if (!byId) {
      const rows = await this.o.db.query<{ trade_id: string; payload: FillMessage }>(
        "SELECT trade_id, payload FROM settle_fills WHERE trade_id = ANY($1::bigint[])",
        [b.trade_ids.map(String)],
      );
      byId = new Map(rows.rows.map((r) => [Number(r.trade_id), r.payload]));
    }
    this.inFlight.delete(b.tx_key);
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
    return "settled";
  }

  /**
   * A batch that did not settle: its fills go back to the queue (in their place: the queue is ordered by
   * arrival) for the next batch.
   */
  private async release(b: BatchRow, why: string): Promise<void> {
    this.inFlight.delete(b.tx_key);
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
    const results: OutboxMessage[] = [];
    const commands: OutboxMessage[] = [];
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
    for (const f of failed) this.payloads.delete(f.c.tradeId);
    for (const c of settled) this.payloads.delete(c.tradeId);
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
        results.push(
          { kind: "stream", topic: SETTLEMENT_RESULTS, payload: r },
          { kind: "channel", topic: SETTLEMENT_RESULTS, payload: r },
        );
        commands.push({
          kind: "stream",
          topic: MATCHER_COMMANDS,
          payload: { type: "settlement", ts: now, tradeId: f.c.tradeId, ok },
        });
        this.o.onFillFinal?.(f.c.msg.ts !== undefined ? now - f.c.msg.ts : undefined, ok);
      }
    }
    // grouped by topic (each topic keeps the fills' order): the outbox stores each result once (stream and
    // channel) and publishes a run of one stream topic in one append
    await enqueue(q, [...results, ...commands]);
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
    // a batch's transaction final: its result (and the next batch's turn) at once, not at the next poll
    this.unsubscribe = this.o.tx.onFinal((key) => {
      if (!key.startsWith("settle:")) return;
      if (this.wake) this.wake();
      else this.woken = true;
    });
    this.loopDone = (async () => {
      await this.publish();
      while (this.running) {
        let r: Awaited<ReturnType<Settler["step"]>> | "error" = "error";
        try {
          r = await this.step();
        } catch (err) {
          this.log.error("settler step failed", { err: String(err).slice(0, 500) });
        }
        if (r === "finished" || r === "submitted") continue;
        if (this.woken && r !== "error") {
          this.woken = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(
            () => {
              this.wake = undefined;
              resolve();
            },
            r === "error" ? Math.max(1000, this.o.pollMs) : this.o.pollMs,
          );
          this.wake = () => {
            this.wake = undefined;
            clearTimeout(t);
            resolve();
          };
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loopDone;
  }
}
