// The forced-exit server. A user the operator ignores files `requestForcedExit` on chain; unless the account
// is flat by `freezableAfter` (filing + forcedExitGracePeriod, 2 days by default), ANYONE can `freeze` the
// whole Exchange. This bot makes sure that never happens. Every round:
//   1. candidates: accounts whose last ForcedExitRequested (the listener's ev_forced_exits) has no
//      ForcedExitServed after it (ev_other); the chain decides (`exitOf(account).freezableAfter`, 0 = none);
//   2. an account already flat (the operator's batches closed it: the matcher restricted it to reduce-only
//      when the listener saw the request) gets `clearForcedExit(account)` at once;
//   3. otherwise, from `serveAt = filedAt + min(waitSec, grace / 2)` on (waitSec 0 = at once; never later
//      than half the grace period), each remaining position is taken over with
//      `serveForcedExit(account, market)` from the bot's key (an Exchange account with collateral: the taker
//      must pass its own margin check), the last one clearing the request on chain.
// Gas is estimated first: nothing is sent that would revert. A request that cannot be served (the bot's
// margin, a stale oracle) is retried every round and raised as an alert (log line with the reason and the
// time left before anyone can freeze; `onFailure` for the metric).
// Idempotent: each transaction has the key `forcedExit:<account>:<market>:<freezableAfter>:<n>` (clear:
// market "clear") in the TxManager's table; while one for an (account, market) is pending or mined nothing
// else is sent for it, and n only grows after the previous one was final and reverted, so neither a
// restart nor a second round sends two.
import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import type { Db } from "../db";
import { silentLogger, type Logger } from "../log";
import { decodeRevert } from "../settler/settler";
import type { TxManager } from "../tx";
import type { Service } from "./index";
import { PollLoop } from "../pollLoop";
import { readExchange } from "./readExchange";

export interface ForcedExitBotOptions {
  db: Db;
  client: PublicClient;
  exchange: Address;
  /** Sends from the serving account's key. */
  tx: TxManager;
  pollMs?: number;
  /**
   * Seconds after filing before serving (a chance for the operator's batches to close the account).
   * Capped at half the grace period. Default 0: at once.
   */
  waitSec?: number;
  /** Gas limit = estimate * this / 100. Default 130. */
  gasMarginPct?: number;
  /** The same unservable request is logged again after this long. Default 60 s. */
  alertEveryMs?: number;
  log?: Logger;
  /** A serve or clear of ours, mined with success. */
  onServed?: (s: { account: string; market: number | "clear"; key: string }) => void;
  /** A request that could not be served this round (estimate reverted, or our transaction reverted). */
  onFailure?: (f: ForcedExitFailure) => void;
  /** After each round: open requests seen and the least time left before a freeze (seconds; null: none). */
  onRound?: (open: number, minTimeLeft: number | null) => void;
}

export interface ForcedExitFailure {
  account: string;
  market: number | "clear";
  reason: string;
  /** Seconds until anyone may freeze (negative: already freezable). */
  timeLeft: number;
  freezableAfter: bigint;
}

export interface ForcedExitRound {
  now: bigint;
  open: { account: string; freezableAfter: bigint; serveAt: bigint }[];
  sent: string[];
  failures: ForcedExitFailure[];
}

const KEY = "forcedExit";

export class ForcedExitBot implements Service {
  readonly name = "forcedExit";
  private readonly o: Required<Pick<ForcedExitBotOptions, "pollMs" | "waitSec" | "gasMarginPct" | "alertEveryMs">> &
    ForcedExitBotOptions;
  private readonly log: Logger;
  /** Keys of our transactions not yet final. */
  private readonly inFlight = new Set<string>();
  private readonly alerted = new Map<string, number>();
  private readonly loop: PollLoop;

  constructor(opts: ForcedExitBotOptions) {
    this.o = { pollMs: 1000, waitSec: 0, gasMarginPct: 130, alertEveryMs: 60_000, ...opts };
    this.log = opts.log ?? silentLogger;
    this.loop = new PollLoop("forced exit", this.o.pollMs, this.log, () => this.round());
  }

  get address(): Address {
    return this.o.tx.address;
  }

  private read<T>(functionName: string, args: unknown[] = []): Promise<T> {
    return readExchange<T>(this.o.client, this.o.exchange, functionName, args);
  }

  /** Accounts with a request the listener has seen and no ForcedExitServed after it. */
  private async candidates(): Promise<string[]> {
    const r = await this.o.db.query<{ account: string }>(
      `SELECT DISTINCT f.account FROM ev_forced_exits f WHERE NOT EXISTS (
         SELECT 1 FROM ev_other o WHERE o.name = 'ForcedExitServed' AND lower(o.args->>'account') = f.account
           AND (o.block_number, o.log_index) > (f.block_number, f.log_index))
       ORDER BY f.account`,
    );
    return r.rows.map((x) => x.account);
  }

  /** One round (public for tests): report final transactions, then serve or clear every open request. */
  async round(): Promise<ForcedExitRound> {
    await this.report();
    const block = await this.o.client.getBlock({ blockTag: "latest" });
    const now = block.timestamp;
    const out: ForcedExitRound = { now, open: [], sent: [], failures: [] };
    if (await this.read<boolean>("frozen")) {
      this.o.onRound?.(0, null);
      return out;
    }
    const accounts = await this.candidates();
    if (accounts.length === 0) {
      this.o.onRound?.(0, null);
      return out;
    }
    const grace = BigInt((await this.read<{ forcedExitGracePeriod: number }>("exitParams")).forcedExitGracePeriod);
    const wait = BigInt(Math.floor(this.o.waitSec));
    const delay = wait < grace / 2n ? wait : grace / 2n;
    const me = this.address.toLowerCase();
    let minLeft: number | null = null;
    for (const account of accounts) {
      const [freezableAfter] = await this.read<[bigint, number, bigint]>("exitOf", [account]);
      if (freezableAfter === 0n) continue; // served or cleared; the listener has not seen it yet
      const serveAt = freezableAfter - grace + delay;
      const timeLeft = Number(freezableAfter - now);
      out.open.push({ account, freezableAfter, serveAt });
      minLeft = minLeft === null ? timeLeft : Math.min(minLeft, timeLeft);
      if (account === me) {
        this.alert(out, { account, market: "clear", reason: "CannotServeSelf", timeLeft, freezableAfter });
        continue;
      }
      const [, , openMarkets] = await this.read<[bigint, bigint, bigint]>("accountOf", [account]);
      if (openMarkets === 0n) {
        // flat already (closed by settlement or liquidation): close the request now
        const data = encodeFunctionData({
          abi: exchangeAbi,
          functionName: "clearForcedExit",
          args: [account as Address],
        });
        if (await this.send(out, account, "clear", freezableAfter, timeLeft, data)) out.sent.push(`${account}:clear`);
        continue;
      }
      if (now < serveAt) continue;
      for (let m = 0; m < 64; m++) {
        if (((openMarkets >> BigInt(m)) & 1n) === 0n) continue;
        if ((await this.read<bigint>("positionOf", [account, m])) === 0n) continue;
        const data = encodeFunctionData({
          abi: exchangeAbi,
          functionName: "serveForcedExit",
          args: [account as Address, m],
        });
        if (await this.send(out, account, m, freezableAfter, timeLeft, data)) out.sent.push(`${account}:${m}`);
      }
    }
    this.o.onRound?.(out.open.length, minLeft);
    return out;
  }

  /** Our intents for (account, market, request), in any state. */
  private async intents(prefix: string): Promise<{ key: string; status: string; receipt_status: string | null }[]> {
    const r = await this.o.db.query<{ key: string; status: string; receipt_status: string | null }>(
      "SELECT key, status, receipt_status FROM tx_intents WHERE sender = $1 AND key LIKE $2 ORDER BY id",
      [this.address.toLowerCase(), `${prefix}:%`],
    );
    return r.rows;
  }

  /** Sends one serve or clear unless one for the same (account, market, request) is open; true when sent. */
  private async send(
    out: ForcedExitRound,
    account: string,
    market: number | "clear",
    freezableAfter: bigint,
    timeLeft: number,
    data: Hex,
  ): Promise<boolean> {
    const prefix = `${KEY}:${account}:${market}:${freezableAfter}`;
    const prior = await this.intents(prefix);
    if (prior.some((p) => p.status === "pending" || p.status === "mined")) {
      for (const p of prior) if (p.status === "pending" || p.status === "mined") this.inFlight.add(p.key);
      return false;
    }
    let gas: bigint;
    try {
      gas = await this.o.client.estimateGas({ account: this.address, to: this.o.exchange, data });
    } catch (err) {
      const reason = decodeRevert(err)?.name ?? String(err).slice(0, 200);
      this.alert(out, { account, market, reason, timeLeft, freezableAfter });
      return false;
    }
    const key = `${prefix}:${prior.length}`;
    await this.o.tx.submit({ key, to: this.o.exchange, data, gas: (gas * BigInt(this.o.gasMarginPct)) / 100n });
    this.inFlight.add(key);
    this.alerted.delete(prefix);
    this.log.info(market === "clear" ? "forced exit clear sent" : "forced exit serve sent", {
      account,
      market,
      key,
      timeLeftSec: timeLeft,
    });
    return true;
  }

  private alert(out: ForcedExitRound, f: ForcedExitFailure): void {
    out.failures.push(f);
    this.o.onFailure?.(f);
    const k = `${f.account}:${f.market}:${f.freezableAfter}:${f.reason}`;
    const last = this.alerted.get(k);
    if (last !== undefined && Date.now() - last < this.o.alertEveryMs) return;
    this.alerted.set(k, Date.now());
    // the alert: who, why, and how long until anyone may freeze the Exchange
    const fields = {
      account: f.account,
      market: f.market,
      reason: f.reason,
      timeLeftSec: f.timeLeft,
      freezableAfter: f.freezableAfter,
    };
    if (f.timeLeft < 6 * 3600) this.log.error("FORCED EXIT NOT SERVED: the Exchange can be frozen soon", fields);
    else this.log.warn("forced exit cannot be served yet; retrying", fields);
  }

  /** Final transactions of ours: served, or reverted (the next round tries again under the next key). */
  private async report(): Promise<void> {
    for (const key of [...this.inFlight]) {
      const it = await this.o.tx.byKey(key);
      if (!it || it.status === "pending" || it.status === "mined") continue;
      this.inFlight.delete(key);
      const [, account, m] = key.split(":");
      const market = m === "clear" ? "clear" : Number(m);
      if (it.status === "confirmed" && it.receiptStatus === "success") {
        this.log.info("forced exit served", { account, market, key });
        this.o.onServed?.({ account, market, key });
      } else {
        this.log.warn("forced exit transaction did not go through; retrying", { key, status: it.status });
        this.o.onFailure?.({
          account,
          market,
          reason: `tx ${it.receiptStatus ?? it.status}`,
          timeLeft: NaN,
          freezableAfter: 0n,
        });
      }
    }
  }

  start(): void {
    this.loop.start(async () => {
      // transactions of a previous run still open are reported when final
      const r = await this.o.db
        .query<{ key: string }>(
          "SELECT key FROM tx_intents WHERE sender = $1 AND status IN ('pending', 'mined') AND key LIKE $2",
          [this.address.toLowerCase(), `${KEY}:%`],
        )
        .catch(() => ({ rows: [] as { key: string }[] }));
      for (const x of r.rows) this.inFlight.add(x.key);
    });
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
