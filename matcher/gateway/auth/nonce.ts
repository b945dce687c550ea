// Replay protection: a (signer, nonce) pair is accepted once. Nonces are microseconds and
// must lie within ±window of server time, so only nonces inside the window need to be
// remembered: memory is bounded by window × request rate (plus a hard cap).
import type { Redis } from "ioredis";
import { KEY_PREFIX } from "../redis";

export interface NonceStore {
  /** true if the pair was unused (and is now used), false on a replay. */
  claim(signer: string, nonceUs: bigint, nowMs: number): Promise<boolean>;
  size(): number;
}

export class MemoryNonceStore implements NonceStore {
  /** Buckets by whole second of the nonce: second -> keys seen. */
  private readonly buckets = new Map<number, Set<string>>();
  private count = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 5_000_000,
  ) {}

  async claim(signer: string, nonceUs: bigint, nowMs: number): Promise<boolean> {
    this.prune(nowMs);
    const sec = Number(nonceUs / 1_000_000n);
    let b = this.buckets.get(sec);
    if (!b) {
      b = new Set();
      this.buckets.set(sec, b);
    }
    const key = `${signer}:${nonceUs}`;
    if (b.has(key)) return false;
    if (this.count >= this.maxEntries) return false;
    b.add(key);
    this.count++;
    return true;
  }

  private prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - this.windowMs) / 1000) - 1;
    for (const [sec, b] of this.buckets) {
      if (sec < oldest) {
        this.count -= b.size;
        this.buckets.delete(sec);
      }
    }
  }

  size(): number {
    return this.count;
  }
}

/** Shared by every gateway on the same Redis: SET NX with an expiry of two windows. */
export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
  ) {}

  async claim(signer: string, nonceUs: bigint): Promise<boolean> {
    const r = await this.redis.set(
      `${KEY_PREFIX}nonce:${signer}:${nonceUs}`,
      "1",
      "PX",
      this.windowMs * 2 + 1000,
      "NX",
    );
    return r === "OK";
  }

  size(): number {
    return -1;
  }
}
