// Engine events to the gateways. In-process: delivered synchronously to this gateway's
// router. With REDIS_URL on the gateway that hosts the engine: also published on the Redis
// channel that follower gateways (venue/remote.ts) subscribe to, in engine order, and the
// host answers the followers' commands from a Redis list (one command at a time, in order).
import type { Redis } from "ioredis";
import type { GatewayConfig } from "./config";
import type { Logger } from "./log";
import type { VenueEvent, Venue } from "./venue/types";
import { connectRedis, KEY_PREFIX } from "./redis";

export const EVENTS_CHANNEL = `${KEY_PREFIX}events`;
export const COMMAND_LIST = `${KEY_PREFIX}commands`;

export interface RemoteRequest {
  id: number;
  reply: string;
  op: "cmd" | "snapshot";
  cmd?: unknown;
}

export class EventBus {
  private pub?: Redis;
  private cmdConn?: Redis;
  private running = false;
  host?: Venue;

  constructor(
    private readonly cfg: GatewayConfig,
    private readonly log: Logger,
    private readonly deliver: (evs: readonly VenueEvent[]) => void,
  ) {}

  /** Serve remote gateways: publish events and answer commands (call on the engine host). */
  serve(venue: Venue): void {
    this.host = venue;
  }

  async start(): Promise<void> {
    if (!this.cfg.redisUrl || !this.host) return;
    this.pub = connectRedis(this.cfg.redisUrl, `${this.cfg.id}-pub`);
    this.cmdConn = connectRedis(this.cfg.redisUrl, `${this.cfg.id}-cmdq`);
    this.running = true;
    void this.loop();
  }

  publish(evs: readonly VenueEvent[]): void {
    this.deliver(evs);
    if (this.pub) void this.pub.publish(EVENTS_CHANNEL, JSON.stringify(evs));
  }

  private async loop(): Promise<void> {
    const venue = this.host!;
    while (this.running) {
      let item: [string, string] | null;
      try {
        item = await this.cmdConn!.blpop(COMMAND_LIST, 1);
      } catch (err) {
        if (this.running) this.log.warn("command queue read failed", { err: String(err) });
        continue;
      }
      if (!item) continue;
      let req: RemoteRequest;
      try {
        req = JSON.parse(item[1]);
      } catch {
        continue;
      }
      let out: unknown;
      try {
        if (req.op === "snapshot") out = { books: venue.markets().map((m) => venue.book(m.id)) };
        else out = { ack: await venue.submit(req.cmd as never) };
      } catch (err) {
        out = { error: String(err) };
      }
      await this.pub!.publish(req.reply, JSON.stringify({ id: req.id, ...(out as object) }));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pub?.disconnect();
    this.cmdConn?.disconnect();
  }
}
