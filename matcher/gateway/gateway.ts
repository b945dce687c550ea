// One gateway instance: HTTP (express) and WebSocket (ws) on one port, in front of a Venue.
// Market and account state are mirrored from the engine's events; everything that needs a
// signature goes through the worker pool; rate limits, nonces, agents and listenKeys live in
// Redis when REDIS_URL is set, so several gateways can serve the same markets.
import express from "express";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { loadConfig, type GatewayConfig } from "./config";
import { createLogger, type Logger } from "./log";
import { RecoverPool } from "./recover/pool";
import { Authenticator } from "./auth/authenticator";
import { OrderVerifier } from "./auth/order";
import { MemoryNonceStore, RedisNonceStore, type NonceStore } from "./auth/nonce";
import { MemoryAgentRegistry, RedisAgentRegistry, type AgentRegistry } from "./auth/agents";
import { MemoryRateLimiter } from "./ratelimit/memory";
import { RedisRateLimiter } from "./ratelimit/redis";
import type { RateLimiter } from "./ratelimit/types";
import { Hub } from "./ws/hub";
import { WsServer } from "./ws/server";
import { Router } from "./streams/router";
import { isListenKey, parseStream } from "./streams/names";
import { MemoryListenKeys, RedisListenKeys, type ListenKeyStore } from "./streams/listenKeys";
import { rawBody, sendError, type GwRequest, type HttpContext } from "./rest/http";
import { mountMarket } from "./rest/market";
import { mountTrade, type TradeHandlers } from "./rest/trade";
import { E } from "./errors";
import { Metrics } from "./metrics";
import { connectRedis } from "./redis";
import type { Venue, VenueEvent } from "./venue/types";
import { EventBus } from "./bus";

const FAST_ORDER = /^\/fapi\/v[123]\/order(?:\?|$)/;

export interface GatewayOptions {
  config?: Partial<GatewayConfig>;
  venue: Venue;
  /** Exchange domain of the EIP-712 Order (sdk/eip712.ts). */
  exchange?: { chainId: number; address: string };
  logger?: Logger;
  /** Collect process-wide default metrics (off when several gateways share a process). */
  defaultMetrics?: boolean;
}

export class Gateway {
  readonly cfg: GatewayConfig;
  readonly log: Logger;
  readonly pool: RecoverPool;
  readonly hub: Hub;
  readonly router: Router;
  readonly ws: WsServer;
  readonly metrics: Metrics;
  readonly agents: AgentRegistry;
  readonly limiter: RateLimiter;
  readonly listenKeys: ListenKeyStore;
  readonly nonces: NonceStore;
  readonly bus: EventBus;
  private readonly server: Server;
  private readonly redis: Redis[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private startedAt = Date.now();

  constructor(readonly opts: GatewayOptions) {
    this.cfg = loadConfig(process.env, opts.config ?? {});
    const cfg = this.cfg;
    this.log = opts.logger ?? createLogger(cfg.logLevel, { svc: "gateway", gw: cfg.id });
    this.metrics = new Metrics({ gateway: cfg.id }, opts.defaultMetrics ?? false);
    this.pool = new RecoverPool({ workers: cfg.recoverWorkers, backend: cfg.recoverBackend });
    const r = cfg.redisUrl ? connectRedis(cfg.redisUrl, `${cfg.id}-cmd`) : undefined;
    if (r) this.redis.push(r);
    const rl = {
      weightPerMinute: cfg.weightPerMinute,
      ordersPerMinute: cfg.ordersPerMinute,
      banAfter429: cfg.banAfter429,
      banSeconds: cfg.banSeconds,
    };
    this.limiter = r ? new RedisRateLimiter(r, rl) : new MemoryRateLimiter(rl);
    this.nonces = r ? new RedisNonceStore(r, cfg.nonceWindowMs) : new MemoryNonceStore(cfg.nonceWindowMs);
    this.agents = r ? new RedisAgentRegistry(r) : new MemoryAgentRegistry();
    this.listenKeys = r ? new RedisListenKeys(r, cfg.listenKeyTtlMs) : new MemoryListenKeys(cfg.listenKeyTtlMs);
    const auth = new Authenticator(cfg.authDomain, this.pool, this.nonces, this.agents, cfg.nonceWindowMs);
    const ex = opts.exchange ?? { chainId: 31337, address: "0x0000000000000000000000000000000000000000" };
    const orders = new OrderVerifier(ex.chainId, ex.address, this.pool, this.agents);

    this.hub = new Hub(cfg.wsMaxBufferedBytes);
    this.router = new Router(opts.venue.markets(), this.hub);
    // A listenKey leaves the user routing when its last socket goes (resolveStream added it).
    this.hub.onLast = (stream) => {
      if (isListenKey(stream)) this.router.dropUserKey(stream);
    };
    for (const md of this.router.markets.values()) md.load(opts.venue.book(md.spec.id));
    this.bus = new EventBus(cfg, this.log, (evs) => this.router.onEvents(evs));
    if (cfg.redisUrl && !opts.venue.remote) this.bus.serve(opts.venue);
    opts.venue.onEvents((evs: readonly VenueEvent[]) => this.bus.publish(evs));

    this.ws = new WsServer(
      this.hub,
      {
        maxStreams: cfg.wsMaxStreams,
        pingIntervalMs: cfg.wsPingIntervalMs,
        pongTimeoutMs: cfg.wsPongTimeoutMs,
        maxLifetimeMs: cfg.wsMaxLifetimeMs,
        maxIncomingPerSec: cfg.wsMaxIncomingPerSec,
        maxConnections: cfg.wsMaxConnections,
      },
      (name) => this.resolveStream(name),
      this.log,
    );

    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    // Labelled metric children, resolved once per (route, status) instead of per request.
    const reqCounters = new Map<string, { inc(): void }>();
    const latencies = new Map<string, { observe(v: number): void }>();
    const ctx: HttpContext = {
      limiter: this.limiter,
      log: this.log,
      now: Date.now,
      onRequest: (route, status, ms) => {
        const key = route + " " + status;
        let c = reqCounters.get(key);
        if (!c) reqCounters.set(key, (c = this.metrics.requests.labels({ route, status: String(status) })));
        c.inc();
        let h = latencies.get(route);
        if (!h) latencies.set(route, (h = this.metrics.latency.labels({ route })));
        h.observe(ms / 1000);
      },
    };
    app.get("/health", (_req, res) => {
      res.json({
        status: "ok",
        gateway: cfg.id,
        uptimeMs: Date.now() - this.startedAt,
        markets: [...this.router.markets.values()].map((m) => ({
          symbol: m.spec.symbol,
          lastUpdateId: m.lastUpdateId,
          status: m.status,
        })),
        wsConnections: this.ws.conns.size,
        recoverWorkers: this.pool.size,
        redis: cfg.redisUrl ? this.redis.every((c) => c.status === "ready") : "not configured",
      });
    });
    app.get("/metrics", async (_req, res) => {
      this.metrics.wsConnections.set(this.ws.conns.size);
      this.metrics.wsDelivered.set(this.hub.stats.delivered);
      this.metrics.wsSlowCut.set(this.hub.stats.slowCut);
      this.metrics.recoveries.set(this.pool.recovered);
      this.metrics.recoveryBatches.set(this.pool.batchesSent);
      this.metrics.engineEvents.set(this.router.eventsIn);
      this.metrics.depthGaps.set(this.router.gaps);
      res.setHeader("Content-Type", this.metrics.registry.contentType);
      res.end(await this.metrics.registry.metrics());
    });
    const body = rawBody(cfg.maxBodyBytes);
    app.use(body);
    let trade: TradeHandlers | undefined;
    for (const prefix of ["/fapi/v1", "/fapi/v2", "/fapi/v3"]) {
      const r2 = express.Router();
      mountMarket(r2, ctx, this.router, cfg);
      trade = mountTrade(r2, ctx, {
        auth,
        orders,
        venue: opts.venue,
        router: this.router,
        limiter: this.limiter,
        listenKeys: this.listenKeys,
        onOrder: (ok) => this.metrics.orders.inc({ result: ok ? "accepted" : "rejected" }),
      });
      app.use(prefix, r2);
    }
    app.use((req, res) => sendError(res, E.notFound(req.path)));
    // Hot path: POST /fapi/v{1,2,3}/order (exact path) skips express's middleware chain and
    // route walk; the handler, body limit, weights, headers and error codes are the same
    // ones express runs for it. Anything else (other spellings, other routes) goes to express.
    const order = trade!.order;
    const noop = () => {};
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      if (req.method === "POST" && FAST_ORDER.test(req.url ?? "")) {
        const gr = req as GwRequest;
        gr.originalUrl = req.url!;
        body(gr, res as never, () => void order(gr, res as never, noop));
        return;
      }
      app(req, res);
    });
    this.ws.attach(this.server);
    this.sweeper = setInterval(() => void this.sweepListenKeys(), 1000);
    this.sweeper.unref();
    if (!opts.venue.remote && cfg.tickIntervalMs > 0) {
      // The engine's clock is an input: advance it so countdowns fire without other traffic.
      this.ticker = setInterval(() => {
        opts.venue
          .submit({ type: "tick", ts: Date.now() })
          .catch((err) => this.log.warn("tick failed", { err: String(err) }));
      }, cfg.tickIntervalMs);
      this.ticker.unref();
    }
  }

  private async resolveStream(name: string): Promise<string | null> {
    if (parseStream(name)) {
      const s = parseStream(name)!;
      if (s.symbol !== "" && !this.router.bySymbol.has(s.symbol)) return null;
      return name;
    }
    if (isListenKey(name)) {
      const user = await this.listenKeys.userOf(name, Date.now());
      if (!user) return null;
      this.router.addUserKey(user, name);
      return name;
    }
    return null;
  }

  private async sweepListenKeys(): Promise<void> {
    const now = Date.now();
    const expired = await this.listenKeys.expired(now);
    // With Redis the store expires keys itself: check the keys this gateway serves. (Keys
    // without sockets left through hub.onLast; one resolved for a socket still opening stays.)
    if (this.cfg.redisUrl) {
      for (const [user, keys] of [...this.router.userKeys]) {
        for (const k of [...keys]) if ((await this.listenKeys.userOf(k, now)) === null) expired.push({ key: k, user });
      }
    }
    for (const { key } of expired) {
      this.hub.publish(key, JSON.stringify({ e: "listenKeyExpired", E: now, listenKey: key }));
      this.ws.endStream(key);
      this.router.dropUserKey(key);
    }
  }

  async start(): Promise<number> {
    await this.bus.start();
    await new Promise<void>((res) => this.server.listen(this.cfg.port, this.cfg.host, () => res()));
    const port = (this.server.address() as AddressInfo).port;
    this.log.info("gateway listening", {
      host: this.cfg.host,
      port,
      redis: Boolean(this.cfg.redisUrl),
      workers: this.pool.size,
    });
    return port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.ticker);
    this.router.stop();
    await this.ws.shutdown();
    await new Promise<void>((res) => {
      this.server.close(() => res());
      this.server.closeAllConnections();
    });
    await this.bus.stop();
    await this.pool.close();
    await this.limiter.close();
    for (const r of this.redis) r.disconnect();
  }
}
