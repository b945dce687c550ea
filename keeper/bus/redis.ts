// Redis adapter: Streams (XADD / XREAD, the reader keeps its position) and pub/sub. Every key and
// channel carries `prefix`, so tests and deployments can share one server. Connections reconnect by
// themselves (ioredis); subscriptions are restored after a reconnect; a blocking read uses its own
// connection per stream so it never stalls other commands.
import { Redis, type RedisOptions } from "ioredis";
import { encode, type Bus, type ReadOptions, type StreamEntry, type Unsubscribe } from "./types";

export interface RedisBusOptions {
  url: string;
  /** Key and channel prefix, e.g. "keeper:". */
  prefix?: string;
  /** Client name prefix (CLIENT LIST shows `<name>-cmd`, `<name>-sub`, `<name>-rd-<stream>`). */
  name?: string;
  /** Approximate cap on stream length (XADD MAXLEN ~); default none. */
  maxLen?: number;
}

export class RedisBus implements Bus {
  readonly kind = "redis" as const;
  readonly prefix: string;
  private readonly name: string;
  private readonly cmd: Redis;
  private sub?: Redis;
  private readonly readers = new Map<string, Redis>();
  private readonly handlers = new Map<string, Set<(msg: unknown) => void>>();

  constructor(private readonly opts: RedisBusOptions) {
    this.prefix = opts.prefix ?? "keeper:";
    this.name = opts.name ?? "keeper";
    this.cmd = this.connect("cmd");
  }

  private connect(role: string, extra: RedisOptions = {}): Redis {
    const r = new Redis(this.opts.url, {
      connectionName: `${this.name}-${role}`,
      // Keep commands queued across a reconnect instead of failing them after a few retries.
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      ...extra,
    });
    r.on("error", () => {}); // reconnects on its own; callers see failures through their commands
    return r;
  }

  private key(stream: string): string {
    return `${this.prefix}${stream}`;
  }

  async publish(channel: string, msg: unknown): Promise<void> {
    await this.cmd.publish(this.key(channel), encode(msg));
  }

  async subscribe(channel: string, handler: (msg: unknown) => void): Promise<Unsubscribe> {
    if (!this.sub) {
      this.sub = this.connect("sub");
      this.sub.on("message", (ch: string, text: string) => {
        const hs = this.handlers.get(ch);
        if (!hs) return;
        let msg: unknown;
        try {
          msg = JSON.parse(text);
        } catch {
          return;
        }
        for (const h of hs) h(msg);
      });
    }
    const ch = this.key(channel);
    let hs = this.handlers.get(ch);
    if (!hs) {
      this.handlers.set(ch, (hs = new Set()));
      await this.sub.subscribe(ch);
    }
    hs.add(handler);
    return async () => {
      hs!.delete(handler);
      if (hs!.size === 0) {
        this.handlers.delete(ch);
        await this.sub?.unsubscribe(ch).catch(() => {});
      }
    };
  }

  async append(stream: string, msg: unknown): Promise<string> {
    const args = this.opts.maxLen ? ["MAXLEN", "~", String(this.opts.maxLen)] : [];
    return (await this.cmd.xadd(this.key(stream), ...(args as []), "*", "d", encode(msg))) as string;
  }

  async appendMany(stream: string, msgs: readonly unknown[]): Promise<string[]> {
    if (msgs.length === 0) return [];
    const p = this.cmd.multi();
    const key = this.key(stream);
    for (const m of msgs) {
      if (this.opts.maxLen) p.xadd(key, "MAXLEN", "~", String(this.opts.maxLen), "*", "d", encode(m));
      else p.xadd(key, "*", "d", encode(m));
    }
    const res = await p.exec();
    if (!res) throw new Error("redis bus: append transaction aborted");
    return res.map(([err, id]) => {
      if (err) throw err;
      return id as string;
    });
  }

  async read<T = unknown>(stream: string, after: string, opts: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    const count = opts.count ?? 100;
    const key = this.key(stream);
    let res: [string, [string, string[]][]][] | null;
    if (opts.blockMs) {
      let conn = this.readers.get(stream);
      if (!conn) this.readers.set(stream, (conn = this.connect(`rd-${stream}`)));
      res = (await conn.xread("COUNT", count, "BLOCK", opts.blockMs, "STREAMS", key, after)) as typeof res;
    } else {
      res = (await this.cmd.xread("COUNT", count, "STREAMS", key, after)) as typeof res;
    }
    if (!res) return [];
    const out: StreamEntry<T>[] = [];
    for (const [, entries] of res) {
      for (const [id, fields] of entries) {
        const i = fields.indexOf("d");
        if (i < 0) continue;
        out.push({ id, data: JSON.parse(fields[i + 1]) as T });
      }
    }
    return out;
  }

  async length(stream: string): Promise<number> {
    return this.cmd.xlen(this.key(stream));
  }

  /** Deletes every key under the prefix (tests). */
  async deleteAll(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = await this.cmd.scan(cursor, "MATCH", `${this.prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await this.cmd.del(...keys);
    } while (cursor !== "0");
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) r.disconnect();
    this.readers.clear();
    this.sub?.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }
}
