import { expect } from "chai";
import { Redis } from "ioredis";
import { startStack, trader } from "./helpers";
import { MemoryRateLimiter } from "../../../matcher/gateway/ratelimit/memory";
import { RedisRateLimiter } from "../../../matcher/gateway/ratelimit/redis";
import type { RateLimiter } from "../../../matcher/gateway/ratelimit/types";
import { MemoryNonceStore, RedisNonceStore } from "../../../matcher/gateway/auth/nonce";
import { ApiError } from "../../../sdk/client";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const P = { weightPerMinute: 10, ordersPerMinute: 3, banAfter429: 2, banSeconds: 120 };

describe("gateway/rate limits", () => {
  const redis = new Redis(REDIS);
  after(() => redis.disconnect());

  const kinds: [string, () => RateLimiter][] = [
    ["memory", () => new MemoryRateLimiter(P)],
    ["redis", () => new RedisRateLimiter(redis, P)],
  ];
  for (const [name, make] of kinds) {
    it(`${name}: weight per IP per minute, 429, then a 418 ban that doubles`, async () => {
      const rl = make();
      const ip = `10.0.0.${Math.floor(Math.random() * 1e9)}`;
      const t0 = 60_000 * 1000 + 5_000;
      for (let i = 1; i <= 5; i++) expect(await rl.hitWeight(ip, 2, t0)).to.deep.equal({ kind: "ok", used: 2 * i });
      const v = await rl.hitWeight(ip, 1, t0);
      expect(v).to.deep.include({ kind: "limited", used: 11 });
      expect((v as { retryAfterSec: number }).retryAfterSec).to.equal(55);
      expect((await rl.hitWeight(ip, 1, t0)).kind).to.equal("limited");
      const ban = await rl.hitWeight(ip, 1, t0);
      expect(ban.kind).to.equal("banned");
      expect((ban as { retryAfterSec: number }).retryAfterSec).to.equal(120);
      // another IP is unaffected
      expect((await rl.hitWeight(ip + "x", 1, t0)).kind).to.equal("ok");
      // orders per account
      const acct = `acct-${ip}`;
      for (let i = 1; i <= 3; i++) expect((await rl.hitOrders(acct, 1, t0)).ok).to.equal(true);
      const o = await rl.hitOrders(acct, 1, t0);
      expect(o).to.deep.include({ ok: false, count: 4 });
      expect((await rl.hitOrders(acct, 1, t0 + 60_000)).ok).to.equal(true); // next minute
      if (name === "memory") {
        // a repeat offender after the ban: the next ban lasts twice as long
        const t1 = t0 + 121_000;
        for (let i = 0; i < 5; i++) await rl.hitWeight(ip, 2, t1);
        await rl.hitWeight(ip, 1, t1);
        await rl.hitWeight(ip, 1, t1);
        const again = await rl.hitWeight(ip, 1, t1);
        expect(again).to.deep.equal({ kind: "banned", retryAfterSec: 240 });
      }
    });
  }

  it("nonce stores accept a (signer, nonce) once and forget nonces outside the window", async () => {
    const now = Date.now();
    const m = new MemoryNonceStore(5000);
    const n = BigInt(now) * 1000n;
    expect(await m.claim("a", n, now)).to.equal(true);
    expect(await m.claim("a", n, now)).to.equal(false);
    expect(await m.claim("b", n, now)).to.equal(true);
    expect(m.size()).to.equal(2);
    expect(await m.claim("c", n + 1n, now + 20_000)).to.equal(true);
    expect(m.size()).to.equal(1); // the old second was pruned: memory stays bounded
    const r = new RedisNonceStore(redis, 5000);
    const signer = `s${Math.random()}`;
    expect(await r.claim(signer, n)).to.equal(true);
    expect(await r.claim(signer, n)).to.equal(false);
    expect(await redis.pttl(`gw:nonce:${signer}:${n}`)).to.be.within(9000, 11_000);
  });

  it("HTTP: X-MBX-USED-WEIGHT-1M grows, then 429 with Retry-After, then 418", async () => {
    const s = await startStack({ weightPerMinute: 20, banAfter429: 3 });
    try {
      let last = 0;
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await fetch(`${s.url}/fapi/v1/depth?symbol=BTCUSDT&limit=5`);
        statuses.push(r.status);
        const w = r.headers.get("x-mbx-used-weight-1m");
        if (r.status === 200) {
          expect(Number(w)).to.be.greaterThan(last);
          last = Number(w);
        }
        if (r.status === 429) {
          expect(r.headers.get("retry-after")).to.match(/^\d+$/);
          expect(((await r.json()) as { code: number }).code).to.equal(-1003);
        }
        if (r.status === 418) break;
      }
      expect(statuses.filter((x) => x === 200)).to.have.length(10);
      expect(statuses.filter((x) => x === 429)).to.have.length(3);
      expect(statuses.at(-1)).to.equal(418);
      const again = await fetch(`${s.url}/fapi/v1/ping`);
      expect(again.status).to.equal(418);
    } finally {
      await s.stop();
    }
  });

  it("HTTP: orders per account per minute give -1015 with X-MBX-ORDER-COUNT-1M", async () => {
    const s = await startStack({ ordersPerMinute: 2 });
    try {
      const c = trader(s);
      const o = {
        symbol: "BTCUSDT",
        marketId: 1,
        side: "BUY" as const,
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "59000",
      };
      await c.placeOrder(o);
      await c.placeOrder(o);
      let err: ApiError | undefined;
      try {
        await c.placeOrder(o);
      } catch (e) {
        err = e as ApiError;
      }
      expect(err?.status).to.equal(429);
      expect(err?.code).to.equal(-1015);
      expect(await c.signed<unknown[]>("GET", "/openOrders")).to.have.length(2);
    } finally {
      await s.stop();
    }
  });
});
