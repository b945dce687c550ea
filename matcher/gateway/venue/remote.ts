// A venue whose engine runs in another gateway process: commands go over a Redis list to
// the engine host, acks and events come back on Redis pub/sub (one subscriber connection,
// so an ack never overtakes the events of its command). On start it loads book snapshots
// and drops buffered events already contained in them (Binance's snapshot + diff rule).
import type { Redis } from "ioredis";
import { connectRedis } from "../redis";
import { COMMAND_LIST, EVENTS_CHANNEL } from "../bus";
import type { Ack, BookSnapshot, Command, VenueEvent, MarketSpec, Venue } from "./types";

export class RemoteVenue implements Venue {
  readonly remote = true;
  private readonly sub: Redis;
  private readonly cmd: Redis;
  private readonly replyChannel: string;
  private nextId = 1;
  private readonly pending = new Map<number, (v: { ack?: Ack; books?: BookSnapshot[]; error?: string }) => void>();
  private readonly listeners: ((e: readonly VenueEvent[]) => void)[] = [];
  private books = new Map<number, BookSnapshot>();
  private buffered: VenueEvent[][] | null = [];

  constructor(
    url: string,
    id: string,
    private readonly specs: MarketSpec[],
  ) {
    this.sub = connectRedis(url, `${id}-sub`);
    this.cmd = connectRedis(url, `${id}-rpc`);
    this.replyChannel = `${EVENTS_CHANNEL}:reply:${id}:${process.pid}`;
  }

  async init(timeoutMs = 5000): Promise<void> {
    this.sub.on("message", (ch: string, msg: string) => this.onMessage(ch, msg));
    await this.sub.subscribe(EVENTS_CHANNEL, this.replyChannel);
    const snap = await this.request({ op: "snapshot" }, timeoutMs);
    for (const b of snap.books ?? []) this.books.set(b.market, b);
    const buf = this.buffered ?? [];
    this.buffered = null;
    for (const evs of buf) this.emit(evs);
  }

  private emit(evs: VenueEvent[]): void {
    // Depth already in the snapshot is skipped by the mirror (u <= lastUpdateId); other
    // events of those commands are dropped here by the market sequence.
    const fresh = evs.filter(
      (e) => e.market < 0 || e.seq > (this.books.get(e.market)?.lastUpdateId ?? -1) || e.kind === "depth",
    );
    if (fresh.length) for (const l of this.listeners) l(fresh);
  }

  private onMessage(ch: string, msg: string): void {
    if (ch === EVENTS_CHANNEL) {
      const evs = JSON.parse(msg) as VenueEvent[];
      if (this.buffered) this.buffered.push(evs);
      else this.emit(evs);
      return;
    }
    const r = JSON.parse(msg) as { id: number; ack?: Ack; books?: BookSnapshot[]; error?: string };
    const p = this.pending.get(r.id);
    if (p) {
      this.pending.delete(r.id);
      p(r);
    }
  }

  private request(body: { op: "cmd" | "snapshot"; cmd?: Command }, timeoutMs = 10_000) {
    const id = this.nextId++;
    return new Promise<{ ack?: Ack; books?: BookSnapshot[]; error?: string }>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("engine host did not answer"));
      }, timeoutMs);
      this.pending.set(id, (v) => {
        clearTimeout(t);
        resolve(v);
      });
      void this.cmd.rpush(COMMAND_LIST, JSON.stringify({ id, reply: this.replyChannel, ...body }));
    });
  }

  markets(): MarketSpec[] {
    return this.specs;
  }

  async submit(cmd: Command): Promise<Ack> {
    const r = await this.request({ op: "cmd", cmd });
    if (!r.ack) throw new Error(r.error ?? "no ack");
    return r.ack;
  }

  onEvents(fn: (events: readonly VenueEvent[]) => void): void {
    this.listeners.push(fn);
  }

  book(market: number): BookSnapshot {
    return this.books.get(market) ?? { market, lastUpdateId: 0, bids: [], asks: [] };
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}
