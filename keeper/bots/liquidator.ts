// The liquidator bot. Every new block:
//   1. candidates: accounts holding a position, from the listener's `positions` view (Postgres);
//   2. their state from the chain (cash, positions, pending funding) and the oracle marks, checked with the
//      sdk formulas (sdk/margin.ts isLiquidatable: equity below maintenance, pending funding included);
//   3. for a liquidatable account: the matcher is told to cancel its orders (MATCHER_COMMANDS chainCancel,
//      so it cannot add risk while the liquidation is in flight), then `liquidate(account, market, size)` is
//      sent from the bot's key (itself an Exchange account with collateral: it takes the position over)
//      for its largest position with size = sdk maxLiquidationSizeOf (down to healthy, the whole position
//      when bankrupt), through the bot's own TxManager under the key
//      `liquidate:<account>:<market>:<block>`; no second liquidation of an account while one is open;
//   4. once mined, the Liquidated events of the receipt go to topics.LIQUIDATIONS (the listener publishes the
//      same message with the same id for every liquidation on chain, ours or not; the gateway shows it once).
// A transaction that would revert (the account recovered, the oracle is stale, the bot's own margin would
// not pass) is not sent: gas is estimated first.
import { encodeFunctionData, parseEventLogs, type Address, type Hex, type PublicClient } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { maxLiquidationSizeOf } from "../../sdk/liquidation";
import { isLiquidatable, type AccountState, type MarketRisk } from "../../sdk/margin";
import type { Bus } from "../bus";
import type { Db } from "../db";
import { liquidationMessage, type LiquidationMessage } from "../listener/events";
import { silentLogger, type Logger } from "../log";
import { LIQUIDATIONS, MATCHER_COMMANDS } from "../topics";
import type { TxManager } from "../tx";
import { decodeRevert } from "../settler/settler";
import type { Service } from "./index";
import { PollLoop } from "../pollLoop";
import { readExchange } from "./readExchange";

export interface LiquidatorOptions {
  db: Db;
  bus: Bus;
  client: PublicClient;
  exchange: Address;
  /** Sends from the liquidating account's key. */
  tx: TxManager;
  pollMs?: number;
  /** Liquidations sent per round at most. Default 20. */
  maxPerRound?: number;
  /** Gas limit = estimate * this / 100. Default 130. */
  gasMarginPct?: number;
  log?: Logger;
  /** Each liquidation of ours, mined (metrics). */
  onLiquidation?: (m: LiquidationMessage) => void;
}

export interface LiquidationRound {
  block: bigint;
  checked: number;
  liquidatable: { account: string; market: number; size: bigint }[];
  sent: string[];
}

interface MarketInfo extends MarketRisk {
  lotSize: bigint;
}

export class Liquidator implements Service {
  readonly name = "liquidator";
  private readonly o: Required<Pick<LiquidatorOptions, "pollMs" | "maxPerRound" | "gasMarginPct">> & LiquidatorOptions;
  private readonly log: Logger;
  private readonly markets = new Map<number, MarketInfo>();
  /** Keys of our liquidations not yet reported. */
  private readonly inFlight = new Map<string, { account: string }>();
  private lastBlock = -1n;
  private readonly loop: PollLoop;

  constructor(opts: LiquidatorOptions) {
    this.o = { pollMs: 500, maxPerRound: 20, gasMarginPct: 130, ...opts };
    this.log = opts.log ?? silentLogger;
    this.loop = new PollLoop("liquidator", this.o.pollMs, this.log, () => this.round());
  }

  get address(): Address {
    return this.o.tx.address;
  }

  private read<T>(functionName: string, args: unknown[] = []): Promise<T> {
    return readExchange<T>(this.o.client, this.o.exchange, functionName, args);
  }

  private async market(id: number): Promise<MarketInfo> {
    let m = this.markets.get(id);
    if (!m) {
      const p = await this.read<{ imfPpm: number; mmfPpm: number; lotSize: bigint }>("marketParams", [id]);
      m = { imfPpm: BigInt(p.imfPpm), mmfPpm: BigInt(p.mmfPpm), lotSize: BigInt(p.lotSize) };
      this.markets.set(id, m);
    }
    return m;
  }

  /** One round (public for tests): report mined liquidations, then check every account holding a position. */
  async round(force = false): Promise<LiquidationRound> {
    const block = await this.o.client.getBlockNumber({ cacheTime: 0 });
    const out: LiquidationRound = { block, checked: 0, liquidatable: [], sent: [] };
    await this.report();
    if (!force && block === this.lastBlock) return out;
    this.lastBlock = block;
    const me = this.address.toLowerCase();
    const rows = await this.o.db.query<{ account: string; market: number }>(
      "SELECT account, market FROM positions WHERE size <> 0 AND account <> $1",
      [me],
    );
    const byAccount = new Map<string, number[]>();
    for (const r of rows.rows) byAccount.set(r.account, [...(byAccount.get(r.account) ?? []), Number(r.market)]);
    const marks = new Map<number, bigint>();
    const stale = new Set<number>();
    const markOf = async (m: number) => {
      if (marks.has(m) || stale.has(m)) return;
      try {
        marks.set(m, await this.read<bigint>("markPrice", [m]));
      } catch {
        stale.add(m); // no usable oracle: the contract refuses liquidations in this market
      }
    };
    const risks = new Map<number, MarketRisk>();
    const open = await this.openAccounts();
    for (const [account, hint] of byAccount) {
      if (out.sent.length >= this.o.maxPerRound) break;
      if (open.has(account)) continue;
      out.checked++;
      const [cash, , openMarkets] = await this.read<[bigint, bigint, bigint]>("accountOf", [account]);
      // the chain's open-market bits are the truth; the listener's view only finds candidates
      const ids = new Set(hint);
      for (let m = 0; m < 64; m++) if ((openMarkets >> BigInt(m)) & 1n) ids.add(m);
      const acct: AccountState = { cash, positions: new Map() };
      let skip = false;
      for (const m of ids) {
        const size = await this.read<bigint>("positionOf", [account, m]);
        if (size === 0n) continue;
        await markOf(m);
        if (stale.has(m)) skip = true;
        risks.set(m, await this.market(m));
        acct.positions.set(m, size);
        acct.cash -= await this.read<bigint>("pendingFunding", [account, m]);
      }
      if (skip || acct.positions.size === 0 || !isLiquidatable(acct, marks, risks)) continue;
      // the largest position first
      let best = -1;
      let bestNotional = -1n;
      for (const [m, size] of acct.positions) {
        const n = (size < 0n ? -size : size) * marks.get(m)!;
        if (n > bestNotional) [best, bestNotional] = [m, n];
      }
      const size = maxLiquidationSizeOf(acct, best, marks, risks, this.markets.get(best)!.lotSize);
      if (size === 0n) continue;
      out.liquidatable.push({ account, market: best, size });
      if (await this.liquidate(account, best, size, block)) out.sent.push(account);
    }
    return out;
  }

  /** Accounts with a liquidation of ours not yet final. */
  private async openAccounts(): Promise<Set<string>> {
    const r = await this.o.db.query<{ key: string }>(
      "SELECT key FROM tx_intents WHERE sender = $1 AND status IN ('pending', 'mined') AND key LIKE 'liquidate:%'",
      [this.address.toLowerCase()],
    );
    return new Set(r.rows.map((x) => x.key.split(":")[1]));
  }

  private async liquidate(account: string, market: number, size: bigint, block: bigint): Promise<boolean> {
    const data = encodeFunctionData({
      abi: exchangeAbi,
      functionName: "liquidate",
      args: [account as Address, market, size],
    });
    let gas: bigint;
    try {
      gas = await this.o.client.estimateGas({ account: this.address, to: this.o.exchange, data });
    } catch (err) {
      this.log.warn("liquidation would revert; not sent", {
        account,
        market,
        size,
        why: decodeRevert(err)?.name ?? String(err).slice(0, 200),
      });
      return false;
    }
    // the account must not add risk while the liquidation is in flight
    await this.o.bus.append(MATCHER_COMMANDS, {
      type: "chainCancel",
      ts: Date.now(),
      account,
      ref: `liquidator:${account}:${block}`,
    });
    const key = `liquidate:${account}:${market}:${block}`;
    await this.o.tx.submit({ key, to: this.o.exchange, data, gas: (gas * BigInt(this.o.gasMarginPct)) / 100n });
    this.inFlight.set(key, { account });
    this.log.info("liquidation sent", { account, market, size, key });
    return true;
  }

  /** Publishes the Liquidated events of our mined liquidations. */
  private async report(): Promise<void> {
    for (const [key, f] of this.inFlight) {
      const it = await this.o.tx.byKey(key);
      if (!it || it.status === "pending" || it.status === "mined") continue;
      this.inFlight.delete(key);
      if (it.status !== "confirmed" || it.receiptStatus !== "success") {
        this.log.warn("liquidation did not go through", { key, account: f.account, status: it.status });
        continue;
      }
      const receipt = await this.o.client.getTransactionReceipt({ hash: it.minedHash! });
      const block = await this.o.client.getBlock({ blockNumber: receipt.blockNumber });
      for (const l of parseEventLogs({ abi: exchangeAbi, logs: receipt.logs, eventName: "Liquidated" })) {
        if (l.address.toLowerCase() !== this.o.exchange.toLowerCase()) continue;
        const a = l.args as unknown as Record<string, unknown> & { amounts: Record<string, bigint> };
        const msg = liquidationMessage(
          {
            log_index: l.logIndex,
            account: a.account,
            liquidator: a.liquidator,
            market: a.market,
            size_delta: String(a.sizeDelta),
            mark: String(a.mark),
            penalty: String(a.amounts.penalty),
          },
          l.transactionHash as Hex,
          Number(block.timestamp) * 1000,
        );
        await this.o.bus.publish(LIQUIDATIONS, msg);
        this.o.onLiquidation?.(msg);
        this.log.info("liquidated", { account: msg.account, market: msg.market, size: msg.size, price: msg.price });
      }
    }
  }

  start(): void {
    this.loop.start(async () => {
      // liquidations of a previous run still open are reported when they are final
      const r = await this.o.db
        .query<{ key: string }>(
          "SELECT key FROM tx_intents WHERE sender = $1 AND status IN ('pending', 'mined') AND key LIKE 'liquidate:%'",
          [this.address.toLowerCase()],
        )
        .catch(() => ({ rows: [] as { key: string }[] }));
      for (const x of r.rows) this.inFlight.set(x.key, { account: x.key.split(":")[1] });
    });
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
