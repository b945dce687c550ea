// The engine in this process behind its durable journal (matcher/journal): a command's ack
// resolves, and its events reach the gateway, only once the journal group holding it is
// durable (group commit), so an acknowledged order survives a crash.
import { JournaledEngine, type Journal, type MarketConfig } from "../../index";
import type { Ack, BookSnapshot, Command, MarketSpec, Venue, VenueEvent } from "./types";
import { settlingTrade, specOf } from "./local";

export class JournaledVenue implements Venue {
  private je!: JournaledEngine;
  private readonly listeners: ((e: readonly VenueEvent[]) => void)[] = [];
  private readonly waiting = new Map<number, (a: Ack) => void>();
  private readonly notices = new Map<number, VenueEvent>();
  private readonly specs: MarketSpec[];

  private constructor(markets: MarketConfig[]) {
    this.specs = markets.map(specOf);
  }

  /**
   * Recover (snapshot + replay) from `journal`, then accept commands. `onReplay` receives the
   * events of every replayed command (e.g. trades a crash kept from reaching the bridge).
   */
  static async open(
    markets: MarketConfig[],
    journal: Journal,
    snapshotEvery = 100_000,
    onReplay?: (events: readonly VenueEvent[]) => void,
    /** replay a journal tail written under other matching rules (JournaledEngineOptions.acceptRulesChange) */
    acceptRulesChange = false,
  ): Promise<JournaledVenue> {
    const v = new JournaledVenue(markets);
    v.je = await JournaledEngine.open({
      markets,
      journal,
      snapshotEvery,
      acceptRulesChange,
      onReplay:
        onReplay &&
        ((_ack, evs) => {
          if (evs.length > 0) onReplay(evs.toEvents());
        }),
      onOutput: (acks, evs) => v.onOutput(acks.toAcks(), evs.toEvents()),
    });
    return v;
  }

  get engine() {
    return this.je.engine;
  }

  private onOutput(acks: Ack[], events: VenueEvent[]): void {
    let out = events;
    if (this.notices.size > 0) {
      out = [...events];
      for (const a of acks) {
        const n = this.notices.get(a.inSeq);
        if (n) {
          this.notices.delete(a.inSeq);
          if (a.ok) out.push(n);
        }
      }
    }
    if (out.length > 0) for (const l of this.listeners) l(out);
    for (const a of acks) {
      const w = this.waiting.get(a.inSeq);
      if (w) {
        this.waiting.delete(a.inSeq);
        w(a);
      }
    }
  }

  markets(): MarketSpec[] {
    return this.specs;
  }

  submit(cmd: Command): Promise<Ack> {
    const notice = settlingTrade(this.je.engine, cmd);
    return new Promise((resolve) => {
      const inSeq = this.je.submit(cmd);
      if (notice) this.notices.set(inSeq, notice);
      this.waiting.set(inSeq, resolve);
    });
  }

  onEvents(fn: (events: readonly VenueEvent[]) => void): void {
    this.listeners.push(fn);
  }

  book(market: number): BookSnapshot {
    const d = this.je.engine.depth(market, 1_000_000);
    const st = this.je.engine.marketState(market);
    return {
      market,
      lastUpdateId: d.lastUpdateId,
      bids: d.bids,
      asks: d.asks,
      mark: st.mark,
      status: st.status === "HALT" ? "HALT" : "TRADING",
    };
  }

  /**
   * Waits for what was submitted to be durable and released, writes a snapshot (a graceful stop leaves
   * nothing to replay, so the next start may be another release), then closes the journal.
   */
  async close(): Promise<void> {
    await this.je.close({ snapshot: true });
  }
}
