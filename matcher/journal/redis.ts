// Redis Streams journal: one XADD per group (field `r` holds the group's records, same line
// format as the file journal; field `l` its last inSeq). A group is durable when Redis has
// acknowledged the XADD (with Redis persistence as configured: appendonly yes + appendfsync
// always for fsync-per-write durability). Snapshot under `<key>:snapshot`. Replay reads ~4 MB pages,
// each requested before the previous one is decoded; long replays decode on a worker thread.
import Redis from "ioredis";
import type { Command } from "../engine/types";
import type { Journal } from "./journal";
import { RecordWriter } from "./codec";
import { decoderTo, type RecordDecoder } from "./decode";
import { readInWorker } from "./replayThread";

export class RedisJournal implements Journal {
  /** records appended since the last group started (see RecordWriter: one XADD in flight at a time) */
  private readonly buf = new RecordWriter();
  private bufLast = 0;
  private inFlight = false;
  private durable = 0;
  onDurable: (upTo: number) => void = () => {};
  onError: (err: Error) => void = (err) => {
    throw err;
  };

  private constructor(
    readonly redis: Redis,
    readonly url: string,
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
    return new RedisJournal(redis, url, key, last);
  }

  append(inSeq: number, line: string): void {
    this.buf.line(inSeq, line);
    this.bufLast = inSeq;
  }

  appendCommand(inSeq: number, cmd: Command): void {
    this.buf.command(inSeq, cmd);
    this.bufLast = inSeq;
  }

  durableInSeq(): number {
    return this.durable;
  }

  flush(): void {
    if (this.inFlight || this.buf.length === 0) return;
    this.inFlight = true;
    // the taken buffer is not written to again before the next take(), after this XADD is answered
    const data = this.buf.take();
    const upTo = this.bufLast;
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

  /**
   * Replays of at least this many commands read and decode on a worker thread (replayThread.ts),
   * as the file journal does from 16 MB (~170k commands); a thread takes ~0.2 s to start.
   */
  static workerMinCommands = 150_000;
  /** Bytes of records to ask for per XRANGE (the entry count follows the entries' size so far). */
  static pageBytes = 4 << 20;

  async read(from: number, fn: (inSeq: number, cmd: Command) => void): Promise<number> {
    if (this.durable - from >= RedisJournal.workerMinCommands)
      return readInWorker({ kind: "redis", url: this.url, key: this.key, pageBytes: RedisJournal.pageBytes }, from, fn);
    return readRedisStream(this.redis, this.key, from, decoderTo(fn), RedisJournal.pageBytes);
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

type Entries = [Buffer, Buffer[]][];

/** The value of field `name` (one ASCII letter) of an entry's fields [name, value, ...], or undefined. */
function field(f: Buffer[], name: number): Buffer | undefined {
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i].length === 1 && f[i][0] === name) return f[i + 1];
  return undefined;
}
const L = 108; // "l"
const R = 114; // "r"

/**
 * Decodes the records of a journal stream above `from`, in order (a gap throws), into `decoder`, and
 * hands them all over (flush) before returning the last inSeq. Entries come as bytes (no UTF-8 decoding of whole entries). Pages hold
 * about `pageBytes` of records (an entry is one group: one record when idle, thousands under load),
 * and the next page is requested before this one is decoded, so Redis and the socket work
 * meanwhile. `between`, if given, is awaited after each page (flow control).
 */
export async function readRedisStream(
  redis: Redis,
  key: string,
  from: number,
  decoder: RecordDecoder,
  pageBytes: number,
  between?: () => Promise<void>,
): Promise<number> {
  let count = 16;
  const page = (start: string) => {
    const p = redis.xrangeBuffer(key, start, "+", "COUNT", count) as unknown as Promise<Entries>;
    p.catch(() => {}); // a prefetch left behind by a decode error must not be an unhandled rejection
    return p;
  };
  let last = from;
  let next = page("-");
  for (;;) {
    const entries = await next;
    if (entries.length === 0) break;
    let bytes = 0;
    for (const [, f] of entries) bytes += field(f, R)?.length ?? 0;
    count = Math.max(1, Math.min(1000, Math.round((pageBytes * entries.length) / Math.max(1, bytes))));
    next = page("(" + entries[entries.length - 1][0].toString("latin1"));
    for (const [id, f] of entries) {
      const l = field(f, L);
      const r = field(f, R);
      if (l === undefined || r === undefined)
        throw new Error(`journal: stream entry ${id.toString("latin1")} has no records`);
      // l: the entry's last inSeq; an entry wholly at or below `from` is not decoded
      const upTo = parseInt(l.toString("latin1"), 10);
      if (upTo <= from) continue;
      last = decoder.decode(r, 0, r.length, from, last);
      // an entry is written whole (one XADD): records missing from it are damage, not a torn tail
      if (last !== upTo)
        throw new Error(`journal: stream entry ${id.toString("latin1")} ends at inSeq ${last}, its l says ${upTo}`);
    }
    if (between) await between();
  }
  decoder.flush();
  return last;
}
