// In-process bus: the embedded default when REDIS_URL is not set. Streams are kept in memory and,
// when `file` is given, in an append-only JSON-lines file that is replayed on open (so the durable log
// survives a restart of the process, as Redis Streams would).
import fs from "node:fs";
import path from "node:path";
import { EventEmitter } from "node:events";
import { compareIds, encode, type Bus, type ReadOptions, type StreamEntry, type Unsubscribe } from "./types";

interface Stored {
  id: string;
  n: number;
  text: string;
}

export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  private readonly streams = new Map<string, Stored[]>();
  private readonly channels = new EventEmitter();
  private readonly appended = new EventEmitter();
  private seq = 0;
  private closed = false;

  constructor(private readonly file?: string) {
    this.channels.setMaxListeners(0);
    this.appended.setMaxListeners(0);
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (fs.existsSync(file)) {
        for (const line of fs.readFileSync(file, "utf8").split("\n")) {
          if (!line) continue;
          let rec: { s: string; n: number; d: string };
          try {
            rec = JSON.parse(line);
          } catch {
            continue; // a torn last line after a crash
          }
          this.store(rec.s, rec.n, rec.d);
        }
      }
    }
  }

  private store(stream: string, n: number, text: string): string {
    const id = `${n}-0`;
    let s = this.streams.get(stream);
    if (!s) this.streams.set(stream, (s = []));
    s.push({ id, n, text });
    if (n > this.seq) this.seq = n;
    return id;
  }

  async publish(channel: string, msg: unknown): Promise<void> {
    const text = encode(msg);
    // Asynchronous like a network bus: a handler never runs inside the publisher's call.
    queueMicrotask(() => this.channels.emit(channel, text));
  }

  async subscribe(channel: string, handler: (msg: unknown) => void): Promise<Unsubscribe> {
    const fn = (text: string) => handler(JSON.parse(text));
    this.channels.on(channel, fn);
    return async () => {
      this.channels.off(channel, fn);
    };
  }

  async append(stream: string, msg: unknown): Promise<string> {
    return (await this.appendMany(stream, [msg]))[0];
  }

  async appendMany(stream: string, msgs: readonly unknown[]): Promise<string[]> {
    if (this.closed) throw new Error("bus closed");
    const ids: string[] = [];
    let lines = "";
    for (const m of msgs) {
      const n = ++this.seq;
      const text = encode(m);
      ids.push(this.store(stream, n, text));
      if (this.file) lines += JSON.stringify({ s: stream, n, d: text }) + "\n";
    }
    if (this.file && lines) fs.appendFileSync(this.file, lines);
    this.appended.emit(stream);
    return ids;
  }

  async read<T = unknown>(stream: string, after: string, opts: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    const count = opts.count ?? 100;
    const take = () => {
      const s = this.streams.get(stream) ?? [];
      // binary search for the first id > after
      let lo = 0;
      let hi = s.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareIds(s[mid].id, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return s.slice(lo, lo + count).map((e) => ({ id: e.id, data: JSON.parse(e.text) as T }));
    };
    const now = take();
    if (now.length || !opts.blockMs || this.closed) return now;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.appended.off(stream, done);
        resolve();
      };
      const timer = setTimeout(done, opts.blockMs);
      this.appended.on(stream, done);
    });
    return take();
  }

  async length(stream: string): Promise<number> {
    return this.streams.get(stream)?.length ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.appended.emit("__close__");
    this.channels.removeAllListeners();
  }
}
