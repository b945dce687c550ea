// Redis Streams journal: one XADD per group (field `r` holds the group's records, same line
// format as the file journal; field `l` its last inSeq). A group is durable when Redis has
// acknowledged the XADD (with Redis persistence as configured: appendonly yes + appendfsync
// always for fsync-per-write durability). Snapshot under `<key>:snapshot`.
import Redis from "ioredis";
import type { Command } from "../engine/types";
import type { Journal } from "./journal";
import { decodeAt, parseSeq } from "./codec";

export class RedisJournal implements Journal {
  private buf: string[] = [];
  private bufLast = 0;
  private inFlight = false;
  private durable = 0;
  onDurable: (upTo: number) => void = () => {};
  onError: (err: Error) => void = (err) => {
    throw err;
  };

  private constructor(
    readonly redis: Redis,
    readonly key: string,
    last: number,
  ) {
    this.durable = last;
    this.bufLast = last;
  }

  static async open(url: string, key: string): Promise<RedisJournal> {
    const redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
    const lastEntry = (await redis.xrevrange(key, "+", "-", "COUNT", 1)) as [string, string[]][];
    let last = 0;
    if (lastEntry.length > 0) {
      const f = lastEntry[0][1];
      last = parseInt(f[f.indexOf("l") + 1], 10);
    }
    return new RedisJournal(redis, key, last);
  }

  append(inSeq: number, line: string): void {
    this.buf.push(inSeq + "\t" + line + "\n");
    this.bufLast = inSeq;
  }

  durableInSeq(): number {
    return this.durable;
  }

  flush(): void {
    if (this.inFlight || this.buf.length === 0) return;
    this.inFlight = true;
    const data = this.buf.join("");
    const upTo = this.bufLast;
    this.buf = [];
    this.redis.xadd(this.key, "*", "l", String(upTo), "r", data).then(
      () => {
        this.durable = upTo;
        this.inFlight = false;
        this.onDurable(upTo);
        if (this.buf.length > 0) this.flush();
      },
      (err: Error) => this.onError(err),
    );
  }

  async read(from: number, fn: (inSeq: number, cmd: Command) => void): Promise<number> {
    let last = from;
    let start = "-";
    for (;;) {
      const entries = (await this.redis.xrange(this.key, start, "+", "COUNT", 500)) as [string, string[]][];
      if (entries.length === 0) break;
      for (const [, f] of entries) {
        const text = f[f.indexOf("r") + 1];
        let pos = 0;
        for (;;) {
          const nl = text.indexOf("\n", pos);
          if (nl < 0) break;
          const tab = text.indexOf("\t", pos);
          const inSeq = parseSeq(text, pos, tab);
          if (inSeq > from) {
            if (inSeq !== last + 1) throw new Error(`journal gap: ${last} -> ${inSeq}`);
            fn(inSeq, decodeAt(text, tab + 1, nl));
            last = inSeq;
          }
          pos = nl + 1;
        }
      }
      start = "(" + entries[entries.length - 1][0];
    }
    return last;
  }

  async saveSnapshot(inSeq: number, data: string): Promise<void> {
    await this.redis.set(this.key + ":snapshot", data);
    void inSeq;
  }

  async loadSnapshot(): Promise<string | null> {
    return this.redis.get(this.key + ":snapshot");
  }

  async close(): Promise<void> {
    while (this.inFlight) await new Promise((r) => setTimeout(r, 1));
    await this.redis.quit();
  }
}
