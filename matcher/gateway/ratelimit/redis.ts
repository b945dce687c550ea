// Rate limiter shared by every gateway on one Redis: the same rules as MemoryRateLimiter,
// each check one atomic Lua script (one round trip).
import type { Redis } from "ioredis";
import { KEY_PREFIX } from "../redis";
import {
  MAX_BAN_MS,
  MINUTE_MS,
  secondsToNextMinute,
  type RateLimitParams,
  type RateLimiter,
  type WeightVerdict,
} from "./types";

// KEYS: weight window, refused window, ban, strikes. ARGV: weight, limit, banAfter, banMs, maxBanMs
// Returns {used, 0} ok, {used, -2} limited, {-1, pttl} banned.
const WEIGHT_LUA = `
local ban = redis.call('PTTL', KEYS[3])
if ban > 0 then return {-1, ban} end
local w = tonumber(ARGV[1])
local used = redis.call('INCRBY', KEYS[1], w)
if used == w then redis.call('PEXPIRE', KEYS[1], 61000) end
if used <= tonumber(ARGV[2]) then return {used, 0} end
local r = redis.call('INCR', KEYS[2])
if r == 1 then redis.call('PEXPIRE', KEYS[2], 61000) end
if r > tonumber(ARGV[3]) then
  local s = redis.call('INCR', KEYS[4])
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[5]))
  local dur = math.min(tonumber(ARGV[4]) * (2 ^ (s - 1)), tonumber(ARGV[5]))
  redis.call('SET', KEYS[3], '1', 'PX', math.floor(dur))
  redis.call('DEL', KEYS[2])
  return {-1, math.floor(dur)}
end
return {used, -2}
`;

const ORDERS_LUA = `
local n = redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], 61000) end
return n
`;

type RedisWithScripts = Redis & {
  gwWeight(k1: string, k2: string, k3: string, k4: string, ...args: (string | number)[]): Promise<[number, number]>;
  gwOrders(k1: string, n: number): Promise<number>;
};

export class RedisRateLimiter implements RateLimiter {
  private readonly r: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly p: RateLimitParams,
  ) {
    redis.defineCommand("gwWeight", { numberOfKeys: 4, lua: WEIGHT_LUA });
    redis.defineCommand("gwOrders", { numberOfKeys: 1, lua: ORDERS_LUA });
    this.r = redis as RedisWithScripts;
  }

  async hitWeight(ip: string, weight: number, nowMs: number): Promise<WeightVerdict> {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const k = `${KEY_PREFIX}rl:`;
    const [used, flag] = await this.r.gwWeight(
      `${k}w:${ip}:${minute}`,
      `${k}r:${ip}:${minute}`,
      `${k}ban:${ip}`,
      `${k}strikes:${ip}`,
      weight,
      this.p.weightPerMinute,
      this.p.banAfter429,
      this.p.banSeconds * 1000,
      MAX_BAN_MS,
    );
    if (used === -1) return { kind: "banned", retryAfterSec: Math.ceil(flag / 1000) };
    if (flag === -2) return { kind: "limited", used, retryAfterSec: secondsToNextMinute(nowMs) };
    return { kind: "ok", used };
  }

  async hitOrders(account: string, n: number, nowMs: number) {
    const minute = Math.floor(nowMs / MINUTE_MS);
    const count = await this.r.gwOrders(`${KEY_PREFIX}rl:o:${account}:${minute}`, n);
    return { count, ok: count <= this.p.ordersPerMinute, retryAfterSec: secondsToNextMinute(nowMs) };
  }

  async close(): Promise<void> {}
}
