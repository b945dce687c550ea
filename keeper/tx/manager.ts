// The keeper's transaction manager: one sender key, its own nonces, EIP-1559 fees, replacement with a
// fee bump when a transaction is not mined within N blocks, receipts and confirmations, and every
// signed attempt recorded in Postgres BEFORE it is broadcast.
//
// Crash safety. An intent (unique key, fixed payload) gets its nonce and first signed attempt in one
// database transaction; only then is the raw transaction broadcast. After a crash `init()` reloads
// every open intent and re-broadcasts its latest recorded raw transaction: the same nonce, the same
// payload, the same hash. A payload is never sent under a second nonce (the key is unique) and a nonce
// is never skipped (nonces are handed out in order and every recorded one is driven to inclusion).
import {
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  parseSignature,
} from "viem";
import { keccakHex } from "../keccak";
import { serializeEip1559 } from "./rlp";
import type { Db, Queryable } from "../db";
import { silentLogger, type Logger } from "../log";

export interface TxRequest {
  /** Idempotency key: one payload, one nonce. Submitting an existing key returns that intent. */
  key: string;
  to: Address;
  data: Hex;
  value?: bigint;
  /** Gas limit; estimated (times gasMarginPct) when absent. */
  gas?: bigint;
}

export type IntentStatus = "pending" | "mined" | "confirmed" | "superseded";

export interface Intent {
  id: number;
  key: string;
  nonce: bigint;
  to: Address;
  data: Hex;
  value: bigint;
  gas: bigint;
  status: IntentStatus;
  minedHash?: Hex;
  minedBlock?: bigint;
  receiptStatus?: "success" | "reverted";
  gasUsed?: bigint;
  effectiveGasPrice?: bigint;
}

export interface Attempt {
  hash: Hex;
  attempt: number;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  raw: Hex;
  sentBlock?: bigint;
}

export interface TxOutcome {
  key: string;
  nonce: bigint;
  hash: Hex;
  status: "success" | "reverted";
  blockNumber: bigint;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  attempts: number;
}

export interface TxManagerOptions {
  db: Db;
  client: PublicClient;
  /** The gas key. */
  account: LocalAccount;
  chainId: number;
  /** Blocks on top of the including one before a transaction counts as final (1 = included). */
  confirmations?: number;
  /** Replace with a fee bump when not mined this many blocks after the last broadcast. */
  replaceAfterBlocks?: number;
  /** Fee bump per replacement, percent; at least 10 (the node's replacement rule). Default 12.5. */
  feeBumpPct?: number;
  /** Never offer more than this per gas. */
  maxFeeCap?: bigint;
  /** Estimated gas is multiplied by this percentage. Default 120. */
  gasMarginPct?: number;
  /** Poll interval of the background loop. Default 250 ms. */
  pollMs?: number;
  /** A pending transaction is re-broadcast (a node that restarted learns it again) at most this often. Default 2000 ms. */
  rebroadcastMs?: number;
  /** Fees (base fee, priority fee) for new transactions are reused for this long (0: looked up for each). Default 0. */
  feeCacheMs?: number;
  log?: Logger;
  /** Test seams: called after the attempt is recorded / after the node accepted it. */
  hooks?: { afterRecord?: (a: Attempt) => void | Promise<void>; afterSend?: (a: Attempt) => void | Promise<void> };
  /** Called when an intent is final (confirmed). */
  onConfirmed?: (o: TxOutcome) => void;
  /** Called for every attempt broadcast (metrics). */
  onAttempt?: (a: Attempt, replacement: boolean) => void;
}

interface IntentRow {
  id: string;
  key: string;
  nonce: string;
  to_addr: Address;
  data: Hex;
  value: string;
  gas_limit: string;
  status: IntentStatus;
  mined_hash: Hex | null;
  mined_block: string | null;
  mined_block_hash: Hex | null;
  receipt_status: "success" | "reverted" | null;
  gas_used: string | null;
  effective_gas_price: string | null;
}

interface AttemptRow {
  hash: Hex;
  attempt: number;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  raw: Hex;
  sent_block: string | null;
}

/** tx_intents without `data`, tx_attempts without `raw` (each up to 128 kB): what the loop reads every pass. */
const INTENT_LIGHT =
  "id, key, nonce, to_addr, value, gas_limit, status, mined_hash, mined_block, mined_block_hash, receipt_status, gas_used, effective_gas_price";
const ATTEMPT_LIGHT = "hash, attempt, max_fee_per_gas, max_priority_fee_per_gas, sent_block";

const big = (v: string | null | undefined) => (v === null || v === undefined ? undefined : BigInt(v));

function toIntent(r: IntentRow): Intent {
  return {
    id: Number(r.id),
    key: r.key,
    nonce: BigInt(r.nonce),
    to: r.to_addr,
    data: r.data,
    value: BigInt(r.value),
    gas: BigInt(r.gas_limit),
    status: r.status,
    minedHash: r.mined_hash ?? undefined,
    minedBlock: big(r.mined_block),
    receiptStatus: r.receipt_status ?? undefined,
    gasUsed: big(r.gas_used),
    effectiveGasPrice: big(r.effective_gas_price),
  };
}

function toAttempt(r: AttemptRow): Attempt {
  return {
    hash: r.hash,
    attempt: Number(r.attempt),
    maxFeePerGas: BigInt(r.max_fee_per_gas),
    maxPriorityFeePerGas: BigInt(r.max_priority_fee_per_gas),
    raw: r.raw,
    sentBlock: big(r.sent_block),
  };
}

/** Broadcast errors that mean "the node has it, or had it": no retry needed. */
const KNOWN = /already known|known transaction|already imported|already in (the )?(mem)?pool|AlreadyKnown/i;
const NONCE_USED = /nonce too low|nonce has already been used|NonceTooLow|nonce is too low/i;
const UNDERPRICED = /underpriced|replacement fee too low|fee too low/i;

function errText(err: unknown): string {
  const e = err as { details?: string; shortMessage?: string; message?: string };
  return [e?.details, e?.shortMessage, e?.message].filter(Boolean).join(" | ") || String(err);
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

export class TxManager {
  readonly address: Address;
  private readonly o: Required<
    Pick<
      TxManagerOptions,
      "confirmations" | "replaceAfterBlocks" | "gasMarginPct" | "pollMs" | "rebroadcastMs" | "feeCacheMs"
    >
  > &
    TxManagerOptions;
  private readonly bumpPpm: bigint;
  private readonly log: Logger;
  private nextNonce?: bigint;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Map<string, { resolve: (o: TxOutcome) => void; reject: (e: Error) => void }[]>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = true;
  /** Open intents whose nonce the chain reports used but none of our attempts has a receipt. */
  private readonly orphanTicks = new Map<number, number>();
  /** Per pending intent: the head at which its receipts were last looked up (none since: look again). */
  private readonly checkedAt = new Map<number, bigint>();
  /** Per attempt hash: when it was last broadcast (ms). */
  private readonly sentAt = new Map<Hex, number>();
  /** Receipts of recently mined transactions, by hash (the settler reads its logs without a second fetch). */
  private readonly receipts = new Map<Hex, TransactionReceipt>();
  private fees?: { at: number; v: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } };
  private readonly finalListeners = new Set<(key: string) => void>();
  private wakeLoop?: () => void;

  constructor(opts: TxManagerOptions) {
    const bump = opts.feeBumpPct ?? 12.5;
    if (!(bump >= 10)) throw new Error("TxManager: feeBumpPct must be at least 10");
    this.o = {
      confirmations: 1,
      replaceAfterBlocks: 3,
      gasMarginPct: 120,
      pollMs: 250,
      rebroadcastMs: 2000,
      feeCacheMs: 0,
      ...opts,
    };
    if (this.o.confirmations < 1) throw new Error("TxManager: confirmations must be >= 1");
    this.bumpPpm = BigInt(Math.ceil(bump * 10_000));
    this.address = opts.account.address;
    this.log = opts.log ?? silentLogger;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Loads state, fixes the next nonce and re-broadcasts every open intent (crash recovery). */
  async init(): Promise<void> {
    await this.serial(async () => {
      const chainNext = BigInt(await this.o.client.getTransactionCount({ address: this.address, blockTag: "pending" }));
      const r = await this.o.db.query<{ n: string | null }>(
        "SELECT max(nonce) AS n FROM tx_intents WHERE chain_id = $1 AND sender = $2",
        [this.o.chainId, this.address.toLowerCase()],
      );
      const dbNext = r.rows[0].n === null ? 0n : BigInt(r.rows[0].n) + 1n;
      this.nextNonce = chainNext > dbNext ? chainNext : dbNext;
      const open = await this.openIntents();
      if (open.length) this.log.info("resuming open transactions", { count: open.length, nextNonce: this.nextNonce });
      for (const it of open) {
        if (it.status !== "pending") continue;
        const last = await this.lastAttempt(it.id);
        if (last) await this.broadcast(it, last, false);
      }
    });
  }

  /** Starts the background loop (receipts, confirmations, replacements). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    let again = false;
    const loop = async () => {
      this.timer = undefined;
      if (this.stopped) return;
      again = false;
      this.ticking = this.tick().catch((err) => this.log.warn("tick failed", { err: errText(err) }));
      await this.ticking;
      this.ticking = undefined;
      if (!this.stopped) this.timer = setTimeout(loop, again ? 0 : this.o.pollMs);
    };
    // a new transaction: look for its receipt at once (a tick in progress runs again right after)
    this.wakeLoop = () => {
      if (this.stopped) return;
      if (this.ticking) again = true;
      else if (this.timer) {
        clearTimeout(this.timer);
        this.timer = setTimeout(loop, 0);
      }
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeLoop = undefined;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    for (const ws of this.waiters.values()) for (const w of ws) w.reject(new Error("TxManager stopped"));
    this.waiters.clear();
  }

  // ------------------------------------------------------------------ submit / wait

  /**
   * Records the intent and its first signed attempt, then broadcasts it. Idempotent by key: an
   * existing key returns the existing intent and sends nothing new (payload must match).
   * Throws (and records nothing) when gas estimation reverts.
   */
  async submit(req: TxRequest): Promise<Intent> {
    const existing = await this.byKey(req.key);
    if (existing) return this.checkSame(existing, req);
    const gas =
      req.gas ??
      ((await this.o.client.estimateGas({ account: this.address, to: req.to, data: req.data, value: req.value })) *
        BigInt(this.o.gasMarginPct)) /
        100n;
    const fees = await this.newFees();
    return this.serial(async () => {
      const again = await this.byKey(req.key);
      if (again) return this.checkSame(again, req);
      if (this.nextNonce === undefined) throw new Error("TxManager: call init() first");
      const nonce = this.nextNonce;
      const attempt = await this.sign(nonce, req.to, req.data, req.value ?? 0n, gas, fees, 1);
      const intent = await this.o.db.tx(async (q) => {
        const r = await q.query<IntentRow>(
          `INSERT INTO tx_intents (key, chain_id, sender, nonce, to_addr, data, value, gas_limit)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
          [
            req.key,
            this.o.chainId,
            this.address.toLowerCase(),
            nonce.toString(),
            req.to,
            req.data,
            String(req.value ?? 0n),
            gas.toString(),
          ],
        );
        const it = toIntent(r.rows[0]);
        await this.recordAttempt(q, it.id, attempt);
        return it;
      });
      this.nextNonce = nonce + 1n;
      await this.o.hooks?.afterRecord?.(attempt);
      await this.broadcast(intent, attempt, false);
      this.wakeLoop?.();
      return intent;
    });
  }

  /** Resolves when the intent is confirmed (status success or reverted). */
  async wait(key: string, timeoutMs = 0): Promise<TxOutcome> {
    const it = await this.byKey(key);
    if (!it) throw new Error(`TxManager: unknown key ${key}`);
    if (it.status === "confirmed") return this.outcome(it);
    if (it.status === "superseded") throw new Error(`TxManager: nonce of ${key} was used by another transaction`);
    return new Promise<TxOutcome>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry = {
        resolve: (o: TxOutcome) => {
          if (timer) clearTimeout(timer);
          resolve(o);
        },
        reject: (e: Error) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      if (timeoutMs > 0)
        timer = setTimeout(() => reject(new Error(`TxManager: ${key} not final in ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(key) ?? [];
      list.push(entry);
      this.waiters.set(key, list);
    });
  }

  /** The receipt of a recently mined transaction of ours, when still cached. */
  cachedReceipt(hash: Hex): TransactionReceipt | undefined {
    return this.receipts.get(hash);
  }

  /** Calls `fn(key)` whenever an intent becomes final (confirmed or superseded); returns the unsubscribe. */
  onFinal(fn: (key: string) => void): () => void {
    this.finalListeners.add(fn);
    return () => this.finalListeners.delete(fn);
  }

  /** The intent of a key without its payload (`data` is left empty): its status and receipt. */
  async state(key: string): Promise<Omit<Intent, "data"> | undefined> {
    const r = await this.o.db.query<IntentRow>(`SELECT ${INTENT_LIGHT} FROM tx_intents WHERE key = $1`, [key]);
    return r.rows[0] ? toIntent(r.rows[0]) : undefined;
  }

  async byKey(key: string): Promise<Intent | undefined> {
    const r = await this.o.db.query<IntentRow>("SELECT * FROM tx_intents WHERE key = $1", [key]);
    return r.rows[0] ? toIntent(r.rows[0]) : undefined;
  }

  async attempts(key: string): Promise<Attempt[]> {
    const r = await this.o.db.query<AttemptRow>(
      "SELECT a.* FROM tx_attempts a JOIN tx_intents i ON i.id = a.intent_id WHERE i.key = $1 ORDER BY a.attempt",
      [key],
    );
    return r.rows.map(toAttempt);
  }

  /** Intents not yet final. */
  async openIntents(): Promise<Intent[]> {
    const r = await this.o.db.query<IntentRow>(
      "SELECT * FROM tx_intents WHERE chain_id = $1 AND sender = $2 AND status IN ('pending', 'mined') ORDER BY nonce",
      [this.o.chainId, this.address.toLowerCase()],
    );
    return r.rows.map(toIntent);
  }

  // ------------------------------------------------------------------ the loop

  /**
   * One pass over the open intents: receipts, confirmations, re-broadcasts and replacements. Receipts of a
   * pending intent are looked up once per new head (or after a broadcast), not on every pass.
   */
  async tick(): Promise<void> {
    const open = (
      await this.o.db.query<IntentRow>(
        `SELECT ${INTENT_LIGHT} FROM tx_intents WHERE chain_id = $1 AND sender = $2 AND status IN ('pending', 'mined') ORDER BY nonce`,
        [this.o.chainId, this.address.toLowerCase()],
      )
    ).rows.map(toIntent);
    if (open.length === 0) return;
    const head = await this.o.client.getBlockNumber({ cacheTime: 0 });
    let chainNonce: bigint | undefined;
    for (const it of open) {
      if (it.status === "mined") {
        await this.checkConfirmed(it, head);
        continue;
      }
      const attempts = await this.allAttempts(it.id);
      if (this.checkedAt.get(it.id) !== head) {
        const receipt = await this.findReceipt(attempts);
        if (receipt) {
          this.checkedAt.delete(it.id);
          for (const a of attempts) this.sentAt.delete(a.hash);
          await this.markMined(it, receipt, head);
          continue;
        }
        chainNonce ??= BigInt(await this.o.client.getTransactionCount({ address: this.address, blockTag: "latest" }));
        if (chainNonce > it.nonce) {
          // The nonce is used on chain but no attempt of ours has a receipt: either a receipt lookup
          // raced the block, or something else used the key. Give it a few passes before saying so.
          const n = (this.orphanTicks.get(it.id) ?? 0) + 1;
          this.orphanTicks.set(it.id, n);
          if (n >= 5) {
            await this.o.db.query("UPDATE tx_intents SET status = 'superseded', updated_at = now() WHERE id = $1", [
              it.id,
            ]);
            this.log.error("nonce used by a transaction that is not ours", { key: it.key, nonce: it.nonce });
            this.rejectWaiters(
              it.key,
              new Error(`TxManager: nonce ${it.nonce} of ${it.key} used by another transaction`),
            );
            this.notifyFinal(it.key);
          }
          continue;
        }
        this.orphanTicks.delete(it.id);
        // not mined as of this head: no receipt lookup again before the next block (or a new broadcast)
        this.checkedAt.set(it.id, head);
      }
      const last = attempts[attempts.length - 1];
      if (last.sentBlock === undefined) {
        await this.broadcast(it, last, false);
      } else if (head - last.sentBlock >= BigInt(this.o.replaceAfterBlocks)) {
        await this.replace(it, last);
      } else if (Date.now() - (this.sentAt.get(last.hash) ?? 0) >= this.o.rebroadcastMs) {
        // Re-broadcast now and then: a node that restarted or evicted it learns it again.
        this.sentAt.set(last.hash, Date.now());
        await this.rawSend(await this.rawOf(last)).catch(() => {});
      }
    }
  }

  // ------------------------------------------------------------------ internals

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private checkSame(it: Intent, req: TxRequest): Intent {
    if (it.to.toLowerCase() !== req.to.toLowerCase() || it.data !== req.data || it.value !== (req.value ?? 0n))
      throw new Error(`TxManager: key ${req.key} already used for a different payload`);
    return it;
  }

  /** Fees for a new transaction: looked up at most every feeCacheMs (a replacement always looks them up). */
  private async newFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    if (this.fees && Date.now() - this.fees.at < this.o.feeCacheMs) return this.fees.v;
    const v = await this.currentFees();
    this.fees = { at: Date.now(), v };
    return v;
  }

  private async currentFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const block = await this.o.client.getBlock({ blockTag: "latest" });
    const base = block.baseFeePerGas ?? 0n;
    let prio: bigint;
    try {
      prio = await this.o.client.estimateMaxPriorityFeePerGas();
    } catch {
      prio = 1_000_000_000n;
    }
    let maxFee = base * 2n + prio;
    if (this.o.maxFeeCap !== undefined && maxFee > this.o.maxFeeCap) maxFee = this.o.maxFeeCap;
    if (prio > maxFee) prio = maxFee;
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: prio };
  }

  private async sign(
    nonce: bigint,
    to: Address,
    data: Hex,
    value: bigint,
    gas: bigint,
    fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
    n: number,
  ): Promise<Attempt> {
    const tx = {
      type: "eip1559",
      chainId: this.o.chainId,
      nonce: Number(nonce),
      to,
      data,
      value,
      gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    } as const;
    // = LocalAccount.signTransaction, with Buffer serialization and the native keccak over the (up to
    // 128 kB) payload
    let raw: Hex;
    if (this.o.account.sign) {
      const sig = parseSignature(await this.o.account.sign({ hash: keccakHex(serializeEip1559(tx)) }));
      raw = serializeEip1559(tx, { yParity: sig.yParity ?? Number(sig.v! - 27n), r: sig.r, s: sig.s });
    } else raw = await this.o.account.signTransaction(tx);
    return { hash: keccakHex(raw), attempt: n, raw, ...fees };
  }

  private async recordAttempt(q: Queryable, intentId: number, a: Attempt): Promise<void> {
    await q.query(
      `INSERT INTO tx_attempts (hash, intent_id, attempt, max_fee_per_gas, max_priority_fee_per_gas, raw)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [a.hash, intentId, a.attempt, a.maxFeePerGas.toString(), a.maxPriorityFeePerGas.toString(), a.raw],
    );
  }

  private async lastAttempt(intentId: number): Promise<Attempt | undefined> {
    const r = await this.o.db.query<AttemptRow>(
      "SELECT * FROM tx_attempts WHERE intent_id = $1 ORDER BY attempt DESC LIMIT 1",
      [intentId],
    );
    return r.rows[0] ? toAttempt(r.rows[0]) : undefined;
  }

  /** Every attempt of an intent, without the signed bytes (rawOf reads them when they are sent again). */
  private async allAttempts(intentId: number): Promise<Attempt[]> {
    const r = await this.o.db.query<AttemptRow>(
      `SELECT ${ATTEMPT_LIGHT} FROM tx_attempts WHERE intent_id = $1 ORDER BY attempt`,
      [intentId],
    );
    return r.rows.map(toAttempt);
  }

  private async rawOf(a: Attempt): Promise<Hex> {
    if (a.raw) return a.raw;
    const r = await this.o.db.query<{ raw: Hex }>("SELECT raw FROM tx_attempts WHERE hash = $1", [a.hash]);
    a.raw = r.rows[0].raw;
    return a.raw;
  }

  private rawSend(raw: Hex): Promise<Hex> {
    return this.o.client.request({ method: "eth_sendRawTransaction", params: [raw] }) as Promise<Hex>;
  }

  /** Broadcasts a recorded attempt. Network failures leave it unsent; the loop retries. */
  private async broadcast(it: Intent, a: Attempt, replacement: boolean): Promise<boolean> {
    let accepted = false;
    try {
      await this.rawSend(await this.rawOf(a));
      accepted = true;
    } catch (err) {
      const text = errText(err);
      if (KNOWN.test(text) || NONCE_USED.test(text))
        accepted = true; // has it, or it is mined: receipts tell
      else if (UNDERPRICED.test(text)) {
        accepted = true; // an earlier attempt of ours sits in the pool; the next replacement bumps again
        this.log.warn("replacement refused as underpriced", { key: it.key, nonce: it.nonce, attempt: a.attempt });
      } else {
        this.log.warn("broadcast failed, will retry", { key: it.key, nonce: it.nonce, err: text.slice(0, 300) });
      }
    }
    if (!accepted) return false;
    this.sentAt.set(a.hash, Date.now());
    this.checkedAt.delete(it.id);
    if (a.sentBlock === undefined) {
      let head: bigint | undefined;
      try {
        head = await this.o.client.getBlockNumber({ cacheTime: 0 });
      } catch {
        head = undefined;
      }
      if (head !== undefined) {
        await this.o.db.query("UPDATE tx_attempts SET sent_block = $1, sent_at = now() WHERE hash = $2", [
          head.toString(),
          a.hash,
        ]);
        a.sentBlock = head;
      }
    }
    this.o.onAttempt?.(a, replacement);
    this.log.debug("broadcast", { key: it.key, nonce: it.nonce, hash: a.hash, attempt: a.attempt });
    await this.o.hooks?.afterSend?.(a);
    return true;
  }

  /** A new attempt at the same nonce and payload, fees bumped by at least feeBumpPct. */
  private async replace(it: Intent, last: Attempt): Promise<void> {
    const now = await this.currentFees();
    const bump = (v: bigint) => ceilDiv(v * (1_000_000n + this.bumpPpm), 1_000_000n);
    let prio = bump(last.maxPriorityFeePerGas);
    if (now.maxPriorityFeePerGas > prio) prio = now.maxPriorityFeePerGas;
    let maxFee = bump(last.maxFeePerGas);
    const block = await this.o.client.getBlock({ blockTag: "latest" });
    const wanted = (block.baseFeePerGas ?? 0n) * 2n + prio;
    if (wanted > maxFee) maxFee = wanted;
    if (this.o.maxFeeCap !== undefined && maxFee > this.o.maxFeeCap) {
      if (bump(last.maxFeePerGas) > this.o.maxFeeCap) {
        this.log.warn("fee cap reached, not replacing", { key: it.key, nonce: it.nonce, cap: this.o.maxFeeCap });
        await this.rawSend(await this.rawOf(last)).catch(() => {});
        return;
      }
      maxFee = this.o.maxFeeCap;
    }
    if (prio > maxFee) prio = maxFee;
    const data =
      it.data ??
      (await this.o.db.query<{ data: Hex }>("SELECT data FROM tx_intents WHERE id = $1", [it.id])).rows[0].data;
    const a = await this.sign(
      it.nonce,
      it.to,
      data,
      it.value,
      it.gas,
      { maxFeePerGas: maxFee, maxPriorityFeePerGas: prio },
      last.attempt + 1,
    );
    await this.recordAttempt(this.o.db, it.id, a);
    this.log.info("replacing transaction with a fee bump", {
      key: it.key,
      nonce: it.nonce,
      attempt: a.attempt,
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: prio,
    });
    await this.o.hooks?.afterRecord?.(a);
    await this.broadcast(it, a, true);
  }

  private async findReceipt(attempts: Attempt[]): Promise<TransactionReceipt | undefined> {
    for (let i = attempts.length - 1; i >= 0; i--) {
      try {
        const r = await this.o.client.getTransactionReceipt({ hash: attempts[i].hash });
        if (r) {
          this.cacheReceipt(r);
          return r;
        }
      } catch (err) {
        if (!/not found|could not be found/i.test(errText(err))) throw err;
      }
    }
    return undefined;
  }

  private cacheReceipt(r: TransactionReceipt): void {
    this.receipts.set(r.transactionHash, r);
    if (this.receipts.size > 64) this.receipts.delete(this.receipts.keys().next().value!);
  }

  /**
   * Records a receipt just fetched: mined, or at once confirmed when the head already gives it enough
   * confirmations (the receipt is from this head: nothing to re-check). True when confirmed.
   */
  private async markMined(it: Intent, r: TransactionReceipt, head: bigint): Promise<boolean> {
    // the receipt's block exists even when the head was read just before it
    if (r.blockNumber > head) head = r.blockNumber;
    const final = head - r.blockNumber + 1n >= BigInt(this.o.confirmations);
    await this.o.db.query(
      `UPDATE tx_intents SET status = $8, mined_hash = $2, mined_block = $3, mined_block_hash = $4,
         receipt_status = $5, gas_used = $6, effective_gas_price = $7, updated_at = now() WHERE id = $1`,
      [
        it.id,
        r.transactionHash,
        r.blockNumber.toString(),
        r.blockHash,
        r.status,
        r.gasUsed.toString(),
        r.effectiveGasPrice.toString(),
        final ? "confirmed" : "mined",
      ],
    );
    if (!final) return false;
    await this.confirmed({
      ...it,
      status: "confirmed",
      minedHash: r.transactionHash,
      minedBlock: r.blockNumber,
      receiptStatus: r.status,
      gasUsed: r.gasUsed,
      effectiveGasPrice: r.effectiveGasPrice,
    });
    return true;
  }

  /** A mined intent with enough confirmations, still in the chain where we saw it, becomes final. */
  private async checkConfirmed(it: Intent, head: bigint): Promise<boolean> {
    const fresh = toIntent(
      (await this.o.db.query<IntentRow>(`SELECT ${INTENT_LIGHT} FROM tx_intents WHERE id = $1`, [it.id])).rows[0],
    );
    if (fresh.status !== "mined" || fresh.minedHash === undefined || fresh.minedBlock === undefined) return false;
    if (head - fresh.minedBlock + 1n < BigInt(this.o.confirmations)) return false;
    // Still in the canonical chain at the block we saw? (a reorg may have moved or dropped it)
    let r: TransactionReceipt | undefined;
    try {
      r = await this.o.client.getTransactionReceipt({ hash: fresh.minedHash });
    } catch {
      r = undefined;
    }
    if (!r || r.blockNumber !== fresh.minedBlock) {
      this.log.warn("mined transaction left the chain (reorg); back to pending", {
        key: fresh.key,
        nonce: fresh.nonce,
      });
      await this.o.db.query(
        "UPDATE tx_intents SET status = 'pending', mined_hash = NULL, mined_block = NULL, mined_block_hash = NULL, updated_at = now() WHERE id = $1",
        [fresh.id],
      );
      this.checkedAt.delete(fresh.id);
      return false;
    }
    this.cacheReceipt(r);
    await this.o.db.query("UPDATE tx_intents SET status = 'confirmed', updated_at = now() WHERE id = $1", [fresh.id]);
    await this.confirmed({ ...fresh, status: "confirmed" });
    return true;
  }

  private async confirmed(it: Intent): Promise<void> {
    const o = await this.outcome(it);
    this.o.onConfirmed?.(o);
    const ws = this.waiters.get(it.key);
    this.waiters.delete(it.key);
    for (const w of ws ?? []) w.resolve(o);
    this.notifyFinal(it.key);
  }

  private notifyFinal(key: string): void {
    for (const fn of this.finalListeners) {
      try {
        fn(key);
      } catch (err) {
        this.log.warn("final-intent listener failed", { err: String(err) });
      }
    }
  }

  private rejectWaiters(key: string, err: Error): void {
    const ws = this.waiters.get(key);
    this.waiters.delete(key);
    for (const w of ws ?? []) w.reject(err);
  }

  private async outcome(it: Intent): Promise<TxOutcome> {
    const n = await this.o.db.query<{ n: string }>("SELECT count(*) AS n FROM tx_attempts WHERE intent_id = $1", [
      it.id,
    ]);
    return {
      key: it.key,
      nonce: it.nonce,
      hash: it.minedHash!,
      status: it.receiptStatus!,
      blockNumber: it.minedBlock!,
      gasUsed: it.gasUsed!,
      effectiveGasPrice: it.effectiveGasPrice!,
      attempts: Number(n.rows[0].n),
    };
  }
}
