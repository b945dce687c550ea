// Every setting of the keeper, read from the environment in this one place, with its default.
//
// | variable                     | default                          | meaning
// |------------------------------|----------------------------------|-------------------------------------------
// | RPC_URL                      | http://127.0.0.1:8545            | JSON-RPC endpoint
// | DEPLOYMENT_FILE              | deployments/localhost.json       | exchange address and deployment block
// | EXCHANGE_ADDRESS             | (from DEPLOYMENT_FILE)           | overrides the file
// | LISTENER_FROM_BLOCK          | (deploymentBlock of the file, 0) | first block the listener reads
// | DATABASE_URL                 | (none: PGlite)                   | Postgres; without it PGlite in PGLITE_DIR
// | DB_SCHEMA                    | (none: server default)           | Postgres schema for the keeper's tables
// | PGLITE_DIR                   | .data/keeper/pglite              | embedded store ("memory" = in memory)
// | REDIS_URL                    | (none: in-process bus)           | Redis Streams + pub/sub
// | REDIS_PREFIX                 | keeper:                          | key and channel prefix
// | BUS_FILE                     | .data/keeper/bus.log             | in-process bus append-only file ("" = none)
// | OPERATOR_PRIVATE_KEY         | (none)                           | batch signer (OPERATOR_ROLE) ...
// | OPERATOR_KEYSTORE            | (none)                           | ... or a V3 keystore file with
// | OPERATOR_KEYSTORE_PASSWORD   | (none)                           | its password, or
// | OPERATOR_KEYSTORE_PASSWORD_FILE | (none)                        | a file holding it
// | GAS_PRIVATE_KEY / GAS_KEYSTORE / GAS_KEYSTORE_PASSWORD(_FILE) | | the key that pays gas (no trading power)
// | SETTLER_ENABLED              | 1                                | run the settler (needs both keys)
// | LISTENER_ENABLED             | 1                                | run the listener
// | BATCH_MAX_FILLS              | 400                              | fills per batch (about 60k gas each)
// | BATCH_MAX_WAIT_MS            | 1000                             | batch at the latest this long after the oldest fill (seed plan: 5-30 s in production)
// | BATCH_DEADLINE_SEC           | 600                              | batch deadline after chain time
// | BATCH_MAX_IN_FLIGHT          | 4                                | batches sent before the first of them is final (1: one at a time)
// | TX_CONFIRMATIONS             | 1                                | confirmations before a batch is final
// | TX_REPLACE_AFTER_BLOCKS      | 3                                | fee-bump replacement after this many blocks
// | TX_FEE_BUMP_PCT              | 12.5                             | bump per replacement (>= 10)
// | TX_MAX_FEE_GWEI              | (none)                           | cap on maxFeePerGas
// | TX_POLL_MS                   | 250                              | tx manager poll interval
// | TX_FEE_CACHE_MS              | 1000                             | fees for new transactions reused this long (replacements look again)
// | LISTENER_REORG_WINDOW        | 12                               | blocks followed one by one below the head
// | LISTENER_MAX_RANGE           | 2000                             | largest getLogs range
// | LISTENER_POLL_MS             | 50                               | new-block poll interval (push p99 goal: 100 ms after the block)
// | LIQUIDATOR_PRIVATE_KEY / LIQUIDATOR_KEYSTORE / ..._PASSWORD(_FILE) | | liquidator bot key: an Exchange account
// |                              |                                  | with collateral (it takes positions over)
// | LIQUIDATOR_ENABLED           | 1 when a liquidator key is given | run the liquidator bot
// | LIQUIDATOR_POLL_MS           | 500                              | liquidator round interval (one check per new block)
// | FUNDING_PRIVATE_KEY / FUNDING_KEYSTORE / ..._PASSWORD(_FILE) | | funding bot key (FUNDING_ROLE)
// | FUNDING_ENABLED              | 1 when a funding key is given    | run the funding bot
// | FUNDING_POLL_MS              | 1000                             | funding round interval (oracle sample, due check)
// | FORCED_EXIT_PRIVATE_KEY / FORCED_EXIT_KEYSTORE / ..._PASSWORD(_FILE) | (the liquidator key) | forced-exit
// |                              |                                  | server key: an Exchange account with collateral
// | FORCED_EXIT_ENABLED          | 1 when either key is given       | run the forced-exit server bot
// | FORCED_EXIT_POLL_MS          | 1000                             | forced-exit round interval
// | FORCED_EXIT_WAIT_SEC         | 0                                | wait after filing before serving (capped at
// |                              |                                  | half the grace period; 0 = serve at once)
// | METRICS_PORT                 | 9464                             | Prometheus /metrics (0 = off)
// | LOG_LEVEL                    | info                             | debug, info, warn, error
import fs from "node:fs";
import path from "node:path";
import type { Address } from "viem";
import type { Level } from "./log";
import type { KeySource } from "./keys";

export interface KeeperConfig {
  rpcUrl: string;
  exchange: Address;
  fromBlock: bigint;
  databaseUrl?: string;
  dbSchema?: string;
  pgliteDir?: string;
  redisUrl?: string;
  redisPrefix: string;
  busFile?: string;
  operatorKey: KeySource;
  gasKey: KeySource;
  settlerEnabled: boolean;
  listenerEnabled: boolean;
  batchMaxFills: number;
  batchMaxWaitMs: number;
  batchDeadlineSec: number;
  batchMaxInFlight: number;
  txConfirmations: number;
  txReplaceAfterBlocks: number;
  txFeeBumpPct: number;
  txMaxFeePerGas?: bigint;
  txPollMs: number;
  txFeeCacheMs: number;
  listenerReorgWindow: number;
  listenerMaxRange: number;
  listenerPollMs: number;
  liquidatorKey: KeySource;
  liquidatorEnabled: boolean;
  liquidatorPollMs: number;
  fundingKey: KeySource;
  fundingEnabled: boolean;
  fundingPollMs: number;
  /** The forced-exit server's key: FORCED_EXIT_*, else the liquidator's. */
  forcedExitKey: KeySource;
  forcedExitEnabled: boolean;
  forcedExitPollMs: number;
  forcedExitWaitSec: number;
  metricsPort: number;
  logLevel: Level;
}

const ROOT = path.resolve(__dirname, "..");

function int(env: NodeJS.ProcessEnv, name: string, def: number, min = 0): number {
  const v = env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new Error(`config: ${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const bool = (env: NodeJS.ProcessEnv, name: string, def: boolean) =>
  env[name] === undefined || env[name] === "" ? def : !/^(0|false|no|off)$/i.test(env[name]!);

const keySource = (env: NodeJS.ProcessEnv, prefix: string): KeySource => ({
  privateKey: env[`${prefix}_PRIVATE_KEY`] || undefined,
  keystoreFile: env[`${prefix}_KEYSTORE`] || undefined,
  password: env[`${prefix}_KEYSTORE_PASSWORD`],
  passwordFile: env[`${prefix}_KEYSTORE_PASSWORD_FILE`] || undefined,
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KeeperConfig {
  const deploymentFile = path.resolve(ROOT, env.DEPLOYMENT_FILE ?? "deployments/localhost.json");
  let dep: { exchange?: string; deploymentBlock?: number } = {};
  if (fs.existsSync(deploymentFile)) dep = JSON.parse(fs.readFileSync(deploymentFile, "utf8"));
  const exchange = (env.EXCHANGE_ADDRESS || dep.exchange) as Address | undefined;
  if (!exchange || !/^0x[0-9a-fA-F]{40}$/.test(exchange))
    throw new Error(`config: no exchange address (EXCHANGE_ADDRESS, or ${deploymentFile})`);
  const level = (env.LOG_LEVEL ?? "info") as Level;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new Error("config: LOG_LEVEL must be debug, info, warn or error");
  const pglite = env.PGLITE_DIR ?? ".data/keeper/pglite";
  const bump = Number(env.TX_FEE_BUMP_PCT ?? "12.5");
  const liquidatorKey = keySource(env, "LIQUIDATOR");
  const fundingKey = keySource(env, "FUNDING");
  const hasKey = (k: KeySource) => Boolean(k.privateKey || k.keystoreFile);
  const ownForcedExitKey = keySource(env, "FORCED_EXIT");
  const forcedExitKey = hasKey(ownForcedExitKey) ? ownForcedExitKey : liquidatorKey;
  if (!(bump >= 10)) throw new Error("config: TX_FEE_BUMP_PCT must be at least 10");
  return {
    rpcUrl: env.RPC_URL || "http://127.0.0.1:8545",
    exchange,
    fromBlock: BigInt(env.LISTENER_FROM_BLOCK || dep.deploymentBlock || 0),
    databaseUrl: env.DATABASE_URL || undefined,
    dbSchema: env.DB_SCHEMA || undefined,
    pgliteDir: pglite === "memory" ? undefined : path.resolve(ROOT, pglite),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX ?? "keeper:",
    busFile: env.BUS_FILE === "" ? undefined : path.resolve(ROOT, env.BUS_FILE ?? ".data/keeper/bus.log"),
    operatorKey: keySource(env, "OPERATOR"),
    gasKey: keySource(env, "GAS"),
    settlerEnabled: bool(env, "SETTLER_ENABLED", true),
    listenerEnabled: bool(env, "LISTENER_ENABLED", true),
    batchMaxFills: int(env, "BATCH_MAX_FILLS", 400, 1),
    batchMaxWaitMs: int(env, "BATCH_MAX_WAIT_MS", 1000),
    batchMaxInFlight: int(env, "BATCH_MAX_IN_FLIGHT", 4, 1),
    batchDeadlineSec: int(env, "BATCH_DEADLINE_SEC", 600, 30),
    txConfirmations: int(env, "TX_CONFIRMATIONS", 1, 1),
    txReplaceAfterBlocks: int(env, "TX_REPLACE_AFTER_BLOCKS", 3, 1),
    txFeeBumpPct: bump,
    txMaxFeePerGas: env.TX_MAX_FEE_GWEI ? BigInt(Math.round(Number(env.TX_MAX_FEE_GWEI) * 1e9)) : undefined,
    txPollMs: int(env, "TX_POLL_MS", 250, 10),
    txFeeCacheMs: int(env, "TX_FEE_CACHE_MS", 1000),
    listenerReorgWindow: int(env, "LISTENER_REORG_WINDOW", 12),
    listenerMaxRange: int(env, "LISTENER_MAX_RANGE", 2000, 1),
    listenerPollMs: int(env, "LISTENER_POLL_MS", 50, 10),
    liquidatorKey,
    liquidatorEnabled: bool(env, "LIQUIDATOR_ENABLED", hasKey(liquidatorKey)),
    liquidatorPollMs: int(env, "LIQUIDATOR_POLL_MS", 500, 10),
    fundingKey,
    fundingEnabled: bool(env, "FUNDING_ENABLED", hasKey(fundingKey)),
    fundingPollMs: int(env, "FUNDING_POLL_MS", 1000, 10),
    forcedExitKey,
    forcedExitEnabled: bool(env, "FORCED_EXIT_ENABLED", hasKey(forcedExitKey)),
    forcedExitPollMs: int(env, "FORCED_EXIT_POLL_MS", 1000, 10),
    forcedExitWaitSec: int(env, "FORCED_EXIT_WAIT_SEC", 0),
    metricsPort: int(env, "METRICS_PORT", 9464),
    logLevel: level,
  };
}
