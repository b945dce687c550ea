// Every setting of the gateway, read from the environment in this one place. Defaults are
// the documented values (see README.md); tests and the bench pass overrides directly.
import * as os from "node:os";

export interface GatewayConfig {
  /** HOST / PORT: listen address; port 0 picks a free one. */
  host: string;
  port: number;
  /** GATEWAY_ID: names this instance in logs, metrics and the Redis bus. */
  id: string;
  /** REDIS_URL: shared rate limits, nonces, agents and cross-gateway fan-out; unset = in-process. */
  redisUrl: string | undefined;
  /** RECOVER_WORKERS: signature worker threads (0 = inline, tests only). */
  recoverWorkers: number;
  /** RECOVER_BACKEND: native (libsecp256k1) or js (@noble/curves). */
  recoverBackend: "native" | "js";
  /** AUTH_DOMAIN_NAME / AUTH_DOMAIN_VERSION / AUTH_CHAIN_ID / AUTH_VERIFYING_CONTRACT: request-signing domain. */
  authDomain: { name: string; version: string; chainId: number; verifyingContract: string };
  /** NONCE_WINDOW_MS: a nonce (µs) must be within this distance of server time. */
  nonceWindowMs: number;
  /** MAX_BODY_BYTES: larger request bodies are refused with HTTP 413. */
  maxBodyBytes: number;
  /** RATE_WEIGHT_PER_MIN: request weight per IP per minute. */
  weightPerMinute: number;
  /** RATE_ORDERS_PER_MIN: new orders per account per minute. */
  ordersPerMinute: number;
  /** RATE_BAN_AFTER: requests refused with 429 in one minute before the IP is banned (418). */
  banAfter429: number;
  /** RATE_BAN_SECONDS: first ban length; doubles per repeat, capped at 3 days. */
  banSeconds: number;
  /** WS_MAX_STREAMS: streams per connection. */
  wsMaxStreams: number;
  /** WS_MAX_BUFFERED_BYTES: a connection with more unsent bytes is cut off as a slow consumer. */
  wsMaxBufferedBytes: number;
  /** WS_PING_INTERVAL_MS / WS_PONG_TIMEOUT_MS: server pings; no pong in time closes. */
  wsPingIntervalMs: number;
  wsPongTimeoutMs: number;
  /** WS_MAX_LIFETIME_MS: connections are closed after 24 hours. */
  wsMaxLifetimeMs: number;
  /** WS_MAX_INCOMING_PER_SEC: control messages per second per connection. */
  wsMaxIncomingPerSec: number;
  /** WS_MAX_CONNECTIONS: per gateway. */
  wsMaxConnections: number;
  /** LISTEN_KEY_TTL_MS: a listenKey expires unless kept alive. */
  listenKeyTtlMs: number;
  /** DEPTH_PARTIAL_INTERVAL_MS / DEPTH_DIFF_INTERVAL_MS: @depthN and @depth@100ms pacing. */
  partialDepthIntervalMs: number;
  batchedDepthIntervalMs: number;
  /** TICK_INTERVAL_MS: time commands to an engine in this process (countdowns, reopen); 0 = off. */
  tickIntervalMs: number;
  /** LOG_LEVEL: debug | info | warn | error. */
  logLevel: "debug" | "info" | "warn" | "error";
}

function num(env: NodeJS.ProcessEnv, key: string, def: number): number {
  const v = env[key];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`config: ${key}="${v}" is not a non-negative number`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, over: Partial<GatewayConfig> = {}): GatewayConfig {
  const backend = env.RECOVER_BACKEND === "js" ? "js" : "native";
  const level = env.LOG_LEVEL;
  const cfg: GatewayConfig = {
    host: env.HOST ?? "127.0.0.1",
    port: num(env, "PORT", 8080),
    id: env.GATEWAY_ID ?? `gw-${process.pid}`,
    redisUrl: env.REDIS_URL || undefined,
    // one per core: recovery is the costliest step of an order, and the engine thread waits on
    // I/O often enough that the workers can use every core (2 on the reference 2-core box)
    recoverWorkers: num(env, "RECOVER_WORKERS", Math.max(1, Math.min(4, os.availableParallelism()))),
    recoverBackend: backend,
    authDomain: {
      name: env.AUTH_DOMAIN_NAME ?? "AsterSignTransaction",
      version: env.AUTH_DOMAIN_VERSION ?? "1",
      chainId: num(env, "AUTH_CHAIN_ID", 1666),
      verifyingContract: env.AUTH_VERIFYING_CONTRACT ?? "0x0000000000000000000000000000000000000000",
    },
    nonceWindowMs: num(env, "NONCE_WINDOW_MS", 5000),
    maxBodyBytes: num(env, "MAX_BODY_BYTES", 64 * 1024),
    weightPerMinute: num(env, "RATE_WEIGHT_PER_MIN", 2400),
    ordersPerMinute: num(env, "RATE_ORDERS_PER_MIN", 1200),
    banAfter429: num(env, "RATE_BAN_AFTER", 100),
    banSeconds: num(env, "RATE_BAN_SECONDS", 120),
    wsMaxStreams: num(env, "WS_MAX_STREAMS", 1024),
    wsMaxBufferedBytes: num(env, "WS_MAX_BUFFERED_BYTES", 4 * 1024 * 1024),
    wsPingIntervalMs: num(env, "WS_PING_INTERVAL_MS", 180_000),
    wsPongTimeoutMs: num(env, "WS_PONG_TIMEOUT_MS", 600_000),
    wsMaxLifetimeMs: num(env, "WS_MAX_LIFETIME_MS", 24 * 3600_000),
    wsMaxIncomingPerSec: num(env, "WS_MAX_INCOMING_PER_SEC", 10),
    wsMaxConnections: num(env, "WS_MAX_CONNECTIONS", 20_000),
    listenKeyTtlMs: num(env, "LISTEN_KEY_TTL_MS", 60 * 60_000),
    partialDepthIntervalMs: num(env, "DEPTH_PARTIAL_INTERVAL_MS", 250),
    batchedDepthIntervalMs: num(env, "DEPTH_DIFF_INTERVAL_MS", 100),
    tickIntervalMs: num(env, "TICK_INTERVAL_MS", 500),
    logLevel: level === "debug" || level === "warn" || level === "error" ? level : "info",
  };
  return { ...cfg, ...over };
}
