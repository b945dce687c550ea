// Rate limits in Binance's shape: request weight per IP per minute (429 when exceeded, 418
// ban for IPs that keep going after 429s) and new orders per account per minute.
export type WeightVerdict =
  | { kind: "ok"; used: number }
  | { kind: "limited"; used: number; retryAfterSec: number }
  | { kind: "banned"; retryAfterSec: number };

export interface RateLimitParams {
  weightPerMinute: number;
  ordersPerMinute: number;
  banAfter429: number;
  banSeconds: number;
}

export interface RateLimiter {
  /** Charge `weight` to `ip`; the verdict decides whether the request runs. */
  hitWeight(ip: string, weight: number, nowMs: number): Promise<WeightVerdict>;
  /** Count `n` new orders for `account`; returns the count in this minute, or -1 when over the limit. */
  hitOrders(account: string, n: number, nowMs: number): Promise<{ count: number; ok: boolean; retryAfterSec: number }>;
  close(): Promise<void>;
}

export const MINUTE_MS = 60_000;
export const MAX_BAN_MS = 3 * 86_400_000;

export function secondsToNextMinute(nowMs: number): number {
  return Math.max(1, Math.ceil((MINUTE_MS - (nowMs % MINUTE_MS)) / 1000));
}
