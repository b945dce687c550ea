// In-process rate limiter (one gateway, no REDIS_URL): fixed one-minute windows.
import {
  MAX_BAN_MS,
  MINUTE_MS,
  secondsToNextMinute,
  type RateLimitParams,
  type RateLimiter,
  type WeightVerdict,
} from "./types";

interface Window {
  minute: number;
  count: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly weight = new Map<string, Window>();
  private readonly refused = new Map<string, Window>();
  private readonly orders = new Map<string, Window>();
  private readonly bans = new Map<string, { until: number; strikes: number; strikeExpiry: number }>();
  private lastSweep = 0;

  constructor(private readonly p: RateLimitParams) {}

  private bump(map: Map<string, Window>, key: string, n: number, minute: number): number {
    const w = map.get(key);
    if (!w || w.minute !== minute) {
      map.set(key, { minute, count: n });
      return n;
    }
    w.count += n;
    return w.count;
  }

  private sweep(nowMs: number, minute: number): void {
    if (nowMs - this.lastSweep < MINUTE_MS) return;
    this.lastSweep = nowMs;
    for (const m of [this.weight, this.refused, this.orders])
      for (const [k, w] of m) if (w.minute < minute) m.delete(k);
    for (const [k, b] of this.bans) if (b.until < nowMs && b.strikeExpiry < nowMs) this.bans.delete(k);
  }

  async hitWeight(ip: string, weight: number, nowMs: number): Promise<WeightVerdict> {
    const minute = Math.floor(nowMs / MINUTE_MS);
    this.sweep(nowMs, minute);
    const ban = this.bans.get(ip);
    if (ban && ban.until > nowMs) return { kind: "banned", retryAfterSec: Math.ceil((ban.until - nowMs) / 1000) };
    const used = this.bump(this.weight, ip, weight, minute);
    if (used <= this.p.weightPerMinute) return { kind: "ok", used };
    const refused = this.bump(this.refused, ip, 1, minute);
    if (refused > this.p.banAfter429) {
      const strikes = ban && ban.strikeExpiry > nowMs ? ban.strikes + 1 : 1;
      const dur = Math.min(this.p.banSeconds * 1000 * 2 ** (strikes - 1), MAX_BAN_MS);
      this.bans.set(ip, { until: nowMs + dur, strikes, strikeExpiry: nowMs + MAX_BAN_MS });
      this.refused.delete(ip);
      return { kind: "banned", retryAfterSec: Math.ceil(dur / 1000) };
    }
    return { kind: "limited", used, retryAfterSec: secondsToNextMinute(nowMs) };
  }

  async hitOrders(account: string, n: number, nowMs: number) {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const count = this.bump(this.orders, account, n, minute);
    return { count, ok: count <= this.p.ordersPerMinute, retryAfterSec: secondsToNextMinute(nowMs) };
  }

  async close(): Promise<void> {}
}
