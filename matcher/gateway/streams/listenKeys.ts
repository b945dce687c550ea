// listenKeys for user data streams: one active key per user (creating again returns it and
// extends it), valid for the TTL unless kept alive. In Redis when shared by several gateways.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { KEY_PREFIX } from "../redis";

export interface ListenKeyStore {
  create(user: string, now: number): Promise<string>;
  keepAlive(user: string, now: number): Promise<string | null>;
  close(user: string): Promise<string | null>;
  /** The user of a live key, or null. */
  userOf(key: string, now: number): Promise<string | null>;
  /** Keys that expired since the last call (memory store) — for listenKeyExpired events. */
  expired(now: number): Promise<{ key: string; user: string }[]>;
}

function newKey(): string {
  return (
    randomBytes(32)
      .toString("base64")
      .replace(/[^A-Za-z0-9]/g, "")
      .slice(0, 40)
      .padEnd(40, "x") + Date.now().toString(36)
  );
}

export class MemoryListenKeys implements ListenKeyStore {
  private readonly byKey = new Map<string, { user: string; expires: number }>();
  private readonly byUser = new Map<string, string>();

  constructor(private readonly ttlMs: number) {}

  async create(user: string, now: number): Promise<string> {
    const k = this.byUser.get(user);
    if (k && this.byKey.has(k)) {
      this.byKey.get(k)!.expires = now + this.ttlMs;
      return k;
    }
    const key = newKey();
    this.byKey.set(key, { user, expires: now + this.ttlMs });
    this.byUser.set(user, key);
    return key;
  }

  async keepAlive(user: string, now: number): Promise<string | null> {
    const k = this.byUser.get(user);
    const e = k ? this.byKey.get(k) : undefined;
    if (!k || !e) return null;
    e.expires = now + this.ttlMs;
    return k;
  }

  async close(user: string): Promise<string | null> {
    const k = this.byUser.get(user);
    if (!k) return null;
    this.byUser.delete(user);
    this.byKey.delete(k);
    return k;
  }

  async userOf(key: string, now: number): Promise<string | null> {
    const e = this.byKey.get(key);
    return e && e.expires > now ? e.user : null;
  }

  async expired(now: number): Promise<{ key: string; user: string }[]> {
    const out: { key: string; user: string }[] = [];
    for (const [key, e] of this.byKey) {
      if (e.expires <= now) {
        out.push({ key, user: e.user });
        this.byKey.delete(key);
        if (this.byUser.get(e.user) === key) this.byUser.delete(e.user);
      }
    }
    return out;
  }
}

export class RedisListenKeys implements ListenKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {}

  private k(key: string): string {
    return `${KEY_PREFIX}lk:${key}`;
  }

  private u(user: string): string {
    return `${KEY_PREFIX}lku:${user}`;
  }

  async create(user: string): Promise<string> {
    const existing = await this.redis.get(this.u(user));
    if (existing && (await this.redis.pexpire(this.k(existing), this.ttlMs)) === 1) {
      await this.redis.pexpire(this.u(user), this.ttlMs);
      return existing;
    }
    const key = newKey();
    await this.redis.multi().set(this.k(key), user, "PX", this.ttlMs).set(this.u(user), key, "PX", this.ttlMs).exec();
    return key;
  }

  async keepAlive(user: string): Promise<string | null> {
    const key = await this.redis.get(this.u(user));
    if (!key || (await this.redis.pexpire(this.k(key), this.ttlMs)) !== 1) return null;
    await this.redis.pexpire(this.u(user), this.ttlMs);
    return key;
  }

  async close(user: string): Promise<string | null> {
    const key = await this.redis.get(this.u(user));
    if (!key) return null;
    await this.redis.del(this.k(key), this.u(user));
    return key;
  }

  async userOf(key: string): Promise<string | null> {
    return this.redis.get(this.k(key));
  }

  /** Redis expires keys itself; the router checks its live user streams against it. */
  async expired(): Promise<{ key: string; user: string }[]> {
    return [];
  }
}
