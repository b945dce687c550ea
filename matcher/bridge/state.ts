// Durable state of the bridge: the signed orders (by EIP-712 hash) the settler needs, and the
// positions of both directions (last trade appended to FILLS, last command read from
// MATCHER_COMMANDS, and the keys of the commands applied). Redis when a URL is given (keys under
// `prefix`), else files under `dir` (JSON lines for orders, one JSON document for positions).
import fs from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import type { SignedOrderJson } from "../../keeper/settler/types";

export interface Cursors {
  /** Highest tradeId appended to FILLS, and the stream id of that entry. */
  tradeId: number;
  fillsId: string;
  /** Last MATCHER_COMMANDS entry applied (or skipped as a duplicate). */
  commandsId: string;
  /** Journal inSeq of the last command submitted (journal records after it are read on start). */
  commandsInSeq: number;
  /** Dedupe keys of recently applied commands (bounded, newest last). */
  keys: string[];
}

export const EMPTY_CURSORS: Cursors = { tradeId: 0, fillsId: "0", commandsId: "0", commandsInSeq: 0, keys: [] };

export interface BridgeState {
  putOrder(hash: string, o: SignedOrderJson): Promise<void>;
  getOrder(hash: string): Promise<SignedOrderJson | undefined>;
  loadCursors(): Promise<Cursors>;
  saveCursors(c: Cursors): Promise<void>;
  close(): Promise<void>;
}

export class RedisBridgeState implements BridgeState {
  private readonly r: Redis;
  private readonly cache = new Map<string, SignedOrderJson>();

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.r = new Redis(url, { connectionName: "matcher-bridge", maxRetriesPerRequest: null });
  }

  async putOrder(hash: string, o: SignedOrderJson): Promise<void> {
    this.cache.set(hash, o);
    await this.r.hset(`${this.prefix}bridge:orders`, hash, JSON.stringify(o));
  }

  async getOrder(hash: string): Promise<SignedOrderJson | undefined> {
    const c = this.cache.get(hash);
    if (c) return c;
    const v = await this.r.hget(`${this.prefix}bridge:orders`, hash);
    return v ? (JSON.parse(v) as SignedOrderJson) : undefined;
  }

  async loadCursors(): Promise<Cursors> {
    const v = await this.r.get(`${this.prefix}bridge:cursors`);
    return v ? { ...EMPTY_CURSORS, ...(JSON.parse(v) as Cursors) } : { ...EMPTY_CURSORS };
  }

  async saveCursors(c: Cursors): Promise<void> {
    await this.r.set(`${this.prefix}bridge:cursors`, JSON.stringify(c));
  }

  async close(): Promise<void> {
    this.r.disconnect();
  }
}

export class FileBridgeState implements BridgeState {
  private readonly orders = new Map<string, SignedOrderJson>();
  private readonly ordersFile: string;
  private readonly cursorsFile: string;
  private readonly fd: number;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.ordersFile = path.join(dir, "orders.jsonl");
    this.cursorsFile = path.join(dir, "cursors.json");
    if (fs.existsSync(this.ordersFile)) {
      for (const line of fs.readFileSync(this.ordersFile, "utf8").split("\n")) {
        if (!line) continue;
        try {
          const { h, o } = JSON.parse(line) as { h: string; o: SignedOrderJson };
          this.orders.set(h, o);
        } catch {
          // a torn last line after a crash: the order was never acknowledged
        }
      }
    }
    this.fd = fs.openSync(this.ordersFile, "a");
  }

  async putOrder(hash: string, o: SignedOrderJson): Promise<void> {
    this.orders.set(hash, o);
    fs.writeSync(this.fd, JSON.stringify({ h: hash, o }) + "\n");
  }

  async getOrder(hash: string): Promise<SignedOrderJson | undefined> {
    return this.orders.get(hash);
  }

  async loadCursors(): Promise<Cursors> {
    if (!fs.existsSync(this.cursorsFile)) return { ...EMPTY_CURSORS };
    return { ...EMPTY_CURSORS, ...(JSON.parse(fs.readFileSync(this.cursorsFile, "utf8")) as Cursors) };
  }

  async saveCursors(c: Cursors): Promise<void> {
    const tmp = `${this.cursorsFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(c));
    fs.renameSync(tmp, this.cursorsFile);
  }

  async close(): Promise<void> {
    fs.closeSync(this.fd);
  }
}
