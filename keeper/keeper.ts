// Wires the keeper from a KeeperConfig: store (migrated), bus, chain client, listener, settler with its
// transaction manager, the liquidator, funding and forced-exit bots (each with a transaction manager of its
// own key; bots sharing a key share its manager), metrics. Used by keeper/main.ts, matcher/main.ts (WITH_KEEPER) and the settlement benchmark.
import { createPublicClient, http, type PublicClient } from "viem";
import { openBus, type Bus } from "./bus";
import type { KeeperConfig } from "./config";
import { migrate, openDb, type Db } from "./db";
import { loadAccount } from "./keys";
import { Listener } from "./listener";
import { createLogger, type Logger } from "./log";
import { KeeperMetrics } from "./metrics";
import { Settler } from "./settler";
import { TxManager } from "./tx";
import { ForcedExitBot, FundingBot, Liquidator } from "./bots";

export interface Keeper {
  db: Db;
  bus: Bus;
  client: PublicClient;
  chainId: number;
  listener?: Listener;
  settler?: Settler;
  tx?: TxManager;
  liquidator?: Liquidator;
  funding?: FundingBot;
  forcedExit?: ForcedExitBot;
  /** Transaction managers of the bots' keys. */
  botTx: TxManager[];
  metrics: KeeperMetrics;
  log: Logger;
  stop(): Promise<void>;
}

export async function startKeeper(
  cfg: KeeperConfig,
  opts: { log?: Logger; metrics?: KeeperMetrics; bus?: Bus } = {},
): Promise<Keeper> {
  const log = opts.log ?? createLogger("keeper", cfg.logLevel);
  const metrics = opts.metrics ?? new KeeperMetrics();
  const db = await openDb({ url: cfg.databaseUrl, schema: cfg.dbSchema, dataDir: cfg.pgliteDir });
  const applied = await migrate(db);
  log.info("store ready", { kind: db.kind, schema: cfg.dbSchema, migrationsApplied: applied });
  // A bus given by the caller (the matcher in the same process, npm start without Redis) is shared,
  // and closed by its owner.
  const bus = opts.bus ?? openBus({ url: cfg.redisUrl, prefix: cfg.redisPrefix, name: "keeper", file: cfg.busFile });
  log.info("bus ready", { kind: bus.kind });
  const client = createPublicClient({
    transport: http(cfg.rpcUrl, { retryCount: 2 }),
    cacheTime: 0,
    pollingInterval: 250,
  }) as PublicClient;
  const chainId = await client.getChainId();
  log.info("chain", { rpc: cfg.rpcUrl.replace(/\/\/[^@/]*@/, "//***@"), chainId, exchange: cfg.exchange });

  let listener: Listener | undefined;
  if (cfg.listenerEnabled) {
    listener = new Listener({
      db,
      bus,
      client,
      exchange: cfg.exchange,
      fromBlock: cfg.fromBlock,
      reorgWindow: cfg.listenerReorgWindow,
      maxRange: cfg.listenerMaxRange,
      pollMs: cfg.listenerPollMs,
      log: log.child("listener"),
      onReorg: (depth) => {
        metrics.reorgs.inc();
        metrics.reorgDepth.observe(depth);
      },
      onProgress: (head, cp) => {
        metrics.listenerHead.set(Number(head));
        metrics.listenerLag.set(Number(head - cp));
      },
      onBlock: (_n, ts, events) => {
        if (events > 0) metrics.chainToBus.observe(Math.max(0, Date.now() / 1000 - Number(ts)));
      },
    });
    listener.start();
  }

  let tx: TxManager | undefined;
  let settler: Settler | undefined;
  let queueTimer: NodeJS.Timeout | undefined;
  if (cfg.settlerEnabled) {
    const operator = loadAccount("operator", cfg.operatorKey);
    const gas = loadAccount("gas", cfg.gasKey);
    if (operator.address === gas.address) log.warn("operator and gas keys are the same account; use separate keys");
    log.info("keys loaded", { operator: operator.address, gas: gas.address });
    tx = new TxManager({
      db,
      client,
      account: gas,
      chainId,
      confirmations: cfg.txConfirmations,
      replaceAfterBlocks: cfg.txReplaceAfterBlocks,
      feeBumpPct: cfg.txFeeBumpPct,
      maxFeeCap: cfg.txMaxFeePerGas,
      pollMs: cfg.txPollMs,
      feeCacheMs: cfg.txFeeCacheMs,
      log: log.child("tx"),
      onAttempt: (_a, replacement) => metrics.txAttempts.inc({ kind: replacement ? "replacement" : "first" }),
    });
    await tx.init();
    tx.start();
    settler = new Settler({
      db,
      bus,
      client,
      exchange: cfg.exchange,
      chainId,
      operator,
      tx,
      maxFills: cfg.batchMaxFills,
      maxInFlight: cfg.batchMaxInFlight,
      maxWaitMs: cfg.batchMaxWaitMs,
      deadlineSec: cfg.batchDeadlineSec,
      log: log.child("settler"),
      onBatch: (b) => {
        metrics.batches.inc();
        metrics.batchGas.observe(Number(b.gasUsed));
        if (b.fills) metrics.batchGasPerFill.set(Number(b.gasUsed) / b.fills);
      },
      onFillFinal: (lag, ok) => {
        metrics.fills.inc({ result: ok ? "settled" : "failed" });
        if (ok && lag !== undefined) metrics.settlementLag.observe(lag / 1000);
      },
    });
    settler.start();
    const s = settler;
    queueTimer = setInterval(() => {
      s.queueDepth().then(
        (n) => metrics.queueDepth.set(n),
        () => {},
      );
    }, 1000);
  }

  const botTx: TxManager[] = [];
  const botManager = async (name: string, key: KeeperConfig["gasKey"]) => {
    const account = loadAccount(name, key);
    // one manager per key: two managers of one sender would race for its nonces
    const same = botTx.find((t) => t.address.toLowerCase() === account.address.toLowerCase());
    if (same) {
      log.info("bot key shared", { bot: name, address: account.address });
      return same;
    }
    const t = new TxManager({
      db,
      client,
      account,
      chainId,
      confirmations: cfg.txConfirmations,
      replaceAfterBlocks: cfg.txReplaceAfterBlocks,
      feeBumpPct: cfg.txFeeBumpPct,
      maxFeeCap: cfg.txMaxFeePerGas,
      pollMs: cfg.txPollMs,
      log: log.child(`tx.${name}`),
      onAttempt: (_a, replacement) => metrics.txAttempts.inc({ kind: replacement ? "replacement" : "first" }),
    });
    await t.init();
    t.start();
    botTx.push(t);
    log.info("bot key loaded", { bot: name, address: account.address });
    return t;
  };
  let liquidator: Liquidator | undefined;
  if (cfg.liquidatorEnabled) {
    liquidator = new Liquidator({
      db,
      bus,
      client,
      exchange: cfg.exchange,
      tx: await botManager("liquidator", cfg.liquidatorKey),
      pollMs: cfg.liquidatorPollMs,
      log: log.child("liquidator"),
      onLiquidation: () => metrics.liquidations.inc(),
    });
    liquidator.start();
  }
  let funding: FundingBot | undefined;
  if (cfg.fundingEnabled) {
    funding = new FundingBot({
      db,
      client,
      exchange: cfg.exchange,
      tx: await botManager("funding", cfg.fundingKey),
      pollMs: cfg.fundingPollMs,
      log: log.child("funding"),
      onUpdate: (d) => {
        metrics.fundingUpdates.inc();
        metrics.fundingRate.set({ market: String(d.market) }, Number(d.rate) / 1e9);
      },
    });
    funding.start();
  }

  let forcedExit: ForcedExitBot | undefined;
  if (cfg.forcedExitEnabled) {
    if (!cfg.listenerEnabled)
      log.warn("forced-exit bot without the listener: it finds requests in the listener's tables");
    forcedExit = new ForcedExitBot({
      db,
      client,
      exchange: cfg.exchange,
      tx: await botManager("forcedExit", cfg.forcedExitKey),
      pollMs: cfg.forcedExitPollMs,
      waitSec: cfg.forcedExitWaitSec,
      log: log.child("forcedExit"),
      onServed: (x) => metrics.forcedExitsServed.inc({ kind: x.market === "clear" ? "clear" : "serve" }),
      onFailure: (f) => metrics.forcedExitFailures.inc({ reason: f.reason.slice(0, 60) }),
      onRound: (open, minLeft) => {
        metrics.forcedExitsOpen.set(open);
        metrics.forcedExitTimeLeft.set(minLeft ?? -1);
      },
    });
    forcedExit.start();
  }

  return {
    db,
    bus,
    client,
    chainId,
    listener,
    settler,
    tx,
    liquidator,
    funding,
    forcedExit,
    botTx,
    metrics,
    log,
    async stop() {
      if (queueTimer) clearInterval(queueTimer);
      await liquidator?.stop();
      await funding?.stop();
      await forcedExit?.stop();
      for (const t of botTx) await t.stop();
      await settler?.stop();
      await tx?.stop();
      await listener?.stop();
      if (!opts.bus) await bus.close();
      await db.close();
    },
  };
}
