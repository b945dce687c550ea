// Mark prices from the oracle: every few seconds read Exchange.markPrice(market) and submit a
// `mark` command when it changed. On a local chain the mock Chainlink feeds go stale after
// maxStaleness (3600 s): with a `refresher` key the feeder re-stamps each feed's answer
// (MockAggregator.setAnswer, permissionless) well before that.
import { createWalletClient, http, type Address, type PublicClient, type LocalAccount } from "viem";
import { exchangeAbi, mockAggregatorAbi } from "../../sdk/abi";
import type { Deployment } from "../../sdk/deployments";
import type { Venue } from "../gateway/venue/types";
import type { BridgeLogger } from "./bridge";

export interface MarkFeederOptions {
  venue: Venue;
  client: PublicClient;
  deployment: Deployment;
  intervalMs?: number;
  /** Local chains only: re-stamp mock feeds older than refreshAfterSec with this account. */
  refresher?: LocalAccount | Address;
  rpcUrl?: string;
  refreshAfterSec?: number;
  log?: BridgeLogger;
}

export class MarkFeeder {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly last = new Map<number, number>();

  constructor(private readonly o: MarkFeederOptions) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs ?? 3000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round: refresh stale mock feeds (local), then push changed marks. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.o.refresher) await this.refreshFeeds();
      for (const m of this.o.deployment.markets) {
        try {
          const p = await this.o.client.readContract({
            address: this.o.deployment.exchange,
            abi: exchangeAbi,
            functionName: "markPrice",
            args: [m.id],
          });
          const price = Number(p);
          if (!Number.isSafeInteger(price) || price <= 0 || this.last.get(m.id) === price) continue;
          const ack = await this.o.venue.submit({ type: "mark", ts: Date.now(), market: m.id, price });
          if (ack.ok) this.last.set(m.id, price);
        } catch (err) {
          this.o.log?.warn("mark price read failed", { market: m.symbol, err: String(err).slice(0, 200) });
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async refreshFeeds(): Promise<void> {
    const c = this.o.client;
    const block = await c.getBlock();
    const wallet = createWalletClient({ account: this.o.refresher!, transport: http(this.o.rpcUrl) });
    for (const m of this.o.deployment.markets) {
      const feed = m.oracle as Address;
      try {
        const [, answer, , updatedAt] = await c.readContract({
          address: feed,
          abi: mockAggregatorAbi,
          functionName: "latestRoundData",
        });
        const age = Number(block.timestamp - updatedAt);
        if (age < (this.o.refreshAfterSec ?? Math.min(600, m.params.maxStaleness / 4))) continue;
        const hash = await wallet.writeContract({
          address: feed,
          abi: mockAggregatorAbi,
          functionName: "setAnswer",
          args: [answer],
          chain: null,
        });
        await c.waitForTransactionReceipt({ hash });
        this.o.log?.info("refreshed mock feed", { market: m.symbol, ageSec: age });
      } catch (err) {
        this.o.log?.warn("feed refresh failed", { market: m.symbol, err: String(err).slice(0, 200) });
      }
    }
  }
}
