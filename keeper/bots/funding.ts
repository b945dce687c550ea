// The funding bot: once per funding interval per market, `updateFunding(market, rate)`.
//
// Rate per interval (1e-9, positive: longs pay shorts) = (markTWAP - indexTWAP) / indexTWAP, where
//   - index = the oracle price (Exchange.markPrice), sampled every round and time-averaged over the interval
//     since the market's last update (the current price when the bot has no sample, e.g. after a restart);
//   - mark = the exchange's own price: the last settled trade price (the keeper's 1m candles), carried
//     forward minute by minute and averaged over the same interval; minutes before the first trade count at
//     the index (no premium);
// then clamped exactly like the contract (sdk/funding.ts clampFundingRate: within maxRateChange scaled by the
// elapsed part of the interval of the last rate, then |rate| <= maxRate), so what is asked is what applies.
//
// Due when a whole interval has passed since the market's last update (chain time), or at once when the
// market never had one (the first update starts the clock and accrues nothing). Each push goes through the
// bot's TxManager under the key `funding:<market>:<lastUpdateTime>`: a restart, or a second bot, never pushes
// one interval twice (the key is unique; its nonce and payload are fixed).
import { encodeFunctionData, type Address, type PublicClient } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { clampFundingRate, maxRateStep } from "../../sdk/funding";
import type { Db } from "../db";
import { silentLogger, type Logger } from "../log";
import type { TxManager } from "../tx";
import { decodeRevert } from "../settler/settler";
import type { Service } from "./index";
import { PollLoop } from "../pollLoop";
import { readExchange } from "./readExchange";

export interface FundingBotOptions {
  db: Db;
  client: PublicClient;
  exchange: Address;
  /** Sends from a FUNDING_ROLE key. */
  tx: TxManager;
  /** Markets to fund; default every listed market. */
  markets?: number[];
  pollMs?: number;
  log?: Logger;
  onUpdate?: (d: FundingDecision) => void;
}

export interface FundingDecision {
  market: number;
  /** Interval averaged over, chain seconds. */
  from: number;
  to: number;
  /** Oracle TWAP and the exchange's price TWAP, price units. */
  index: bigint;
  mark: bigint;
  /** (mark - index) / index in 1e-9. */
  premium: bigint;
  /** What is pushed: the premium clamped as the contract clamps. */
  rate: bigint;
  lastRate: bigint;
  key: string;
}

const E9 = 1_000_000_000n;

export class FundingBot implements Service {
  readonly name = "funding";
  private readonly o: Required<Pick<FundingBotOptions, "pollMs">> & FundingBotOptions;
  private readonly log: Logger;
  /** Oracle samples per market: [chain seconds, price]. */
  private readonly samples = new Map<number, [number, bigint][]>();
  private readonly loop: PollLoop;

  constructor(opts: FundingBotOptions) {
    this.o = { pollMs: 1000, ...opts };
    this.log = opts.log ?? silentLogger;
    this.loop = new PollLoop("funding", this.o.pollMs, this.log, () => this.round());
  }

  private read<T>(functionName: string, args: unknown[] = []): Promise<T> {
    return readExchange<T>(this.o.client, this.o.exchange, functionName, args);
  }

  /** Oracle sample of every market now (also done by each round). */
  async sample(): Promise<void> {
    const now = Number((await this.o.client.getBlock({ blockTag: "latest" })).timestamp);
    for (const m of await this.marketIds()) {
      try {
        const p = await this.read<bigint>("markPrice", [m]);
        const list = this.samples.get(m) ?? [];
        if (list.length === 0 || list[list.length - 1][0] < now) list.push([now, p]);
        if (list.length > 100_000) list.splice(0, list.length - 50_000);
        this.samples.set(m, list);
      } catch {
        // stale or insane oracle: no sample (updateFunding would revert too)
      }
    }
  }

  private async marketIds(): Promise<number[]> {
    if (this.o.markets) return this.o.markets;
    const n = Number(await this.read<bigint>("marketCount"));
    return [...Array(n).keys()];
  }

  /** The exchange's price averaged minute by minute over [from, to) from the 1m candles (see the header). */
  async markTwap(market: number, from: number, to: number, index: bigint): Promise<bigint> {
    const fromMs = from * 1000;
    const toMs = Math.max(to * 1000, fromMs + 60_000);
    const r = await this.o.db.query<{ open_time: string; close: string }>(
      `(SELECT open_time, close FROM candles WHERE market = $1 AND interval = '1m' AND open_time < $2
        ORDER BY open_time DESC LIMIT 1)
       UNION ALL
       (SELECT open_time, close FROM candles WHERE market = $1 AND interval = '1m' AND open_time >= $2 AND open_time < $3)
       ORDER BY open_time`,
      [market, fromMs - (fromMs % 60_000), toMs],
    );
    const closes = r.rows.map((x) => [Number(x.open_time), BigInt(x.close)] as const);
    let i = 0;
    let price: bigint | undefined;
    let sum = 0n;
    let n = 0n;
    for (let t = fromMs - (fromMs % 60_000); t < toMs; t += 60_000) {
      while (i < closes.length && closes[i][0] <= t) price = closes[i++][1];
      sum += price ?? index;
      n++;
    }
    return n === 0n ? index : sum / n;
  }

  /** The oracle averaged over [from, to] from the samples (the current price when there is none). */
  private indexTwap(market: number, from: number, current: bigint): bigint {
    const list = (this.samples.get(market) ?? []).filter(([t]) => t >= from);
    if (list.length === 0) return current;
    let sum = 0n;
    for (const [, p] of list) sum += p;
    return sum / BigInt(list.length);
  }

  /** One round (public for tests): sample the oracles; push every market whose interval is over. */
  async round(): Promise<FundingDecision[]> {
    await this.sample();
    const now = Number((await this.o.client.getBlock({ blockTag: "latest" })).timestamp);
    const [interval, maxRate, maxRateChange] = await this.read<[bigint, bigint, bigint]>("fundingParams");
    const out: FundingDecision[] = [];
    for (const m of await this.marketIds()) {
      const [, , lastRate, lastTimeB] = await this.read<[bigint, bigint, bigint, bigint]>("fundingState", [m]);
      const lastTime = Number(lastTimeB);
      const first = lastTime === 0;
      if (!first && now < lastTime + Number(interval)) continue;
      const key = `funding:${m}:${lastTime}`;
      if (await this.o.tx.byKey(key)) continue; // this interval is pushed (maybe not mined yet)
      let current: bigint;
      try {
        current = await this.read<bigint>("markPrice", [m]);
      } catch (err) {
        this.log.warn("no usable oracle; funding waits", { market: m, why: decodeRevert(err)?.name });
        continue;
      }
      const from = first ? now - Number(interval) : lastTime;
      const index = this.indexTwap(m, from, current);
      const mark = await this.markTwap(m, from, now, index);
      const premium = ((mark - index) * E9) / index;
      let dt = BigInt(first ? Number(interval) : now - lastTime);
      if (dt > interval) dt = interval;
      const rate = clampFundingRate(premium, lastRate, maxRate, maxRateStep(maxRateChange, dt, interval));
      const d: FundingDecision = { market: m, from, to: now, index, mark, premium, rate, lastRate, key };
      const data = encodeFunctionData({ abi: exchangeAbi, functionName: "updateFunding", args: [m, rate] });
      let gas: bigint;
      try {
        gas = await this.o.client.estimateGas({ account: this.o.tx.address, to: this.o.exchange, data });
      } catch (err) {
        this.log.warn("updateFunding would revert; not sent", { market: m, why: decodeRevert(err)?.name });
        continue;
      }
      await this.o.tx.submit({ key, to: this.o.exchange, data, gas: (gas * 130n) / 100n });
      this.samples.set(
        m,
        (this.samples.get(m) ?? []).filter(([t]) => t >= now),
      );
      this.log.info("funding pushed", { market: m, rate, premium, mark, index });
      this.o.onUpdate?.(d);
      out.push(d);
    }
    return out;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
