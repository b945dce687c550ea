// `npm run matcher`: the matching engine and its gateway for the markets of a deployment, with the
// bridge to the keeper (fills out, chain commands in) and the oracle mark-price feeder.
//   DEPLOYMENT_FILE (a .json path) or NETWORK (deployments/<NETWORK>.json, default localhost)
//   RPC_URL (default http://127.0.0.1:8545): oracle reads; on chain id 31337 the mock feeds are
//     re-stamped by an unlocked account of the node (MARK_REFRESH_ACCOUNT, default 0) so they never go
//     stale (MARK_REFRESH=0: off)
//   MARK_INTERVAL_MS (default 3000)
//   REDIS_URL: journal, bus and bridge state in Redis (REDIS_PREFIX, default "keeper:" for the bus,
//     the same as the keeper's); else a file journal (JOURNAL_DIR), the in-process bus with its
//     append-only file (BUS_FILE) and bridge state under BRIDGE_DIR (default .data/bridge).
//   WITH_KEEPER=1: also run the keeper (keeper/config.ts) in this process on the same bus; this is
//     how `npm start` runs without Redis, since the in-process bus cannot cross processes.
//   Klines: candles of settled trades from the keeper's store (the in-process keeper's, or Postgres at
//     DATABASE_URL / DB_SCHEMA); without either, klines are built in memory from the engine's trades.
//   Gateway settings: matcher/gateway/README.md (PORT, HOST, ...).
import path from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { Gateway } from "./gateway/gateway";
import { createLogger } from "./gateway/log";
import { loadConfig as loadGatewayConfig } from "./gateway/config";
import { LocalVenue } from "./gateway/venue/local";
import { JournaledVenue } from "./gateway/venue/journaled";
import type { Venue, VenueEvent } from "./gateway/venue/types";
import { openJournal, replayWholeJournal } from "./index";
import { marketsFromDeployment } from "./markets";
import { loadDeployment, type Deployment } from "../sdk/deployments";
import { openBus, type Bus } from "../keeper/bus";
import { loadConfig as loadKeeperConfig } from "../keeper/config";
import { startKeeper, type Keeper } from "../keeper/keeper";
import { createLogger as createKeeperLogger } from "../keeper/log";
import { Bridge } from "./bridge/bridge";
import { FileBridgeState, RedisBridgeState, type BridgeState } from "./bridge/state";
import { MarkFeeder } from "./bridge/marks";
import { MarketFeeds } from "./bridge/feeds";
import { migrate, openDb, type Db } from "../keeper/db";

const ROOT = path.resolve(__dirname, "..");

export interface Matcher {
  deployment: Deployment;
  gateway: Gateway;
  port: number;
  venue: Venue;
  bus: Bus;
  bridge: Bridge;
  marks: MarkFeeder;
  feeds: MarketFeeds;
  keeper?: Keeper;
  keeperMetrics?: { port: number; close: () => Promise<void> };
  stop(): Promise<void>;
}

export interface MatcherOptions {
  /** Share this bus (tests, or a keeper in the same process) instead of opening one. */
  bus?: Bus;
  /** Start the keeper in this process on the same bus (WITH_KEEPER=1). */
  withKeeper?: boolean;
}

export async function startMatcher(env: NodeJS.ProcessEnv = process.env, opts: MatcherOptions = {}): Promise<Matcher> {
  const lv = env.LOG_LEVEL;
  const log = createLogger(lv === "debug" || lv === "warn" || lv === "error" ? lv : "info", { svc: "matcher" });
  const deployment = loadDeployment(
    env.DEPLOYMENT_FILE ? path.resolve(ROOT, env.DEPLOYMENT_FILE) : (env.NETWORK ?? "localhost"),
  );
  const markets = marketsFromDeployment(deployment);
  const redisUrl = env.REDIS_URL || undefined;
  const prefix = env.REDIS_PREFIX ?? "keeper:";

  // The trades of the recovery replay go to the bridge, which appends those a crash kept from FILLS;
  // the journal tells the bridge which bus commands the engine already applied.
  const replayed: VenueEvent[] = [];
  const journal =
    env.JOURNAL === "off" ? undefined : await openJournal(env.JOURNAL_NAME ?? `engine-${deployment.network}`, env);
  const venue: Venue = journal
    ? await JournaledVenue.open(
        markets,
        journal,
        undefined,
        (evs) => {
          for (const e of evs) if (e.kind === "trade") replayed.push(e);
        },
        env.MATCHER_ACCEPT_RULES_CHANGE === "1",
      )
    : new LocalVenue(markets);
  const bus =
    opts.bus ??
    openBus({
      url: redisUrl,
      prefix,
      name: "matcher",
      file: env.BUS_FILE === "" ? undefined : path.resolve(ROOT, env.BUS_FILE ?? ".data/keeper/bus.log"),
    });
  const state: BridgeState = redisUrl
    ? new RedisBridgeState(redisUrl, prefix)
    : new FileBridgeState(path.resolve(ROOT, env.BRIDGE_DIR ?? ".data/bridge"));
  const bridge = new Bridge({
    venue,
    bus,
    state,
    journal,
    replayed,
    lastTradeId: venue instanceof JournaledVenue ? () => venue.engine.nextTradeId - 1 : undefined,
    replayAll: journal && (() => replayWholeJournal(journal, { markets })),
    log: log.child({ svc: "bridge" }),
  });
  await bridge.start();
  replayed.length = 0;

  const gateway = new Gateway({
    venue,
    config: loadGatewayConfig(env),
    exchange: { chainId: deployment.chainId, address: deployment.exchange },
    defaultMetrics: true,
  });
  const port = await gateway.start();

  const rpcUrl = env.RPC_URL || "http://127.0.0.1:8545";
  const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
  let refresher: `0x${string}` | undefined;
  if (deployment.chainId === 31337 && env.MARK_REFRESH !== "0") {
    // not #0: with `npm start` the keeper's funding bot sends from it with nonces of its own
    const accounts = (await client.request({ method: "eth_accounts" } as never)) as `0x${string}`[];
    refresher = accounts[Number(env.MARK_REFRESH_ACCOUNT ?? 0)] ?? accounts[0];
  }
  const marks = new MarkFeeder({
    venue,
    client,
    deployment,
    rpcUrl,
    refresher,
    intervalMs: Number(env.MARK_INTERVAL_MS ?? 3000),
    log,
  });
  await marks.tick();
  marks.start();

  let keeper: Keeper | undefined;
  let keeperMetrics: Matcher["keeperMetrics"];
  if (opts.withKeeper ?? /^(1|true|yes)$/i.test(env.WITH_KEEPER ?? "")) {
    const kcfg = loadKeeperConfig({ ...env, EXCHANGE_ADDRESS: env.EXCHANGE_ADDRESS || deployment.exchange });
    keeper = await startKeeper(kcfg, { bus, log: createKeeperLogger("keeper", kcfg.logLevel) });
    if (kcfg.metricsPort > 0) keeperMetrics = await keeper.metrics.serve(kcfg.metricsPort);
  }
  // Market data from the keeper: durable klines (its store), forced orders, funding.
  let ownDb: Db | undefined;
  if (!keeper && env.DATABASE_URL) {
    ownDb = await openDb({ url: env.DATABASE_URL, schema: env.DB_SCHEMA || undefined, poolSize: 4 });
    await migrate(ownDb);
  }
  const feeds = new MarketFeeds({
    bus,
    router: gateway.router,
    db: keeper?.db ?? ownDb,
    chain: { client, exchange: deployment.exchange },
    log,
  });
  await feeds.start();

  log.info("matcher running", {
    port,
    exchange: deployment.exchange,
    markets: markets.map((m) => m.symbol),
    bus: bus.kind,
    keeper: Boolean(keeper),
    klines: keeper || ownDb ? "settled trades (store)" : "engine trades (memory)",
  });

  return {
    deployment,
    gateway,
    port,
    venue,
    bus,
    bridge,
    marks,
    feeds,
    keeper,
    keeperMetrics,
    async stop() {
      marks.stop();
      await feeds.stop();
      await keeperMetrics?.close();
      await keeper?.stop();
      await bridge.stop();
      await gateway.stop();
      await venue.close();
      await state.close();
      await ownDb?.close();
      if (!opts.bus) await bus.close();
    },
  };
}

if (require.main === module) {
  // Handlers from the start: a signal during start-up (the keeper takes seconds to load) stops the
  // matcher once it is up, gracefully (journal drained, a snapshot written), instead of killing it.
  let matcher: Matcher | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    if (matcher === undefined) return; // started below, then stopped
    const m = matcher;
    matcher = undefined;
    m.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  startMatcher().then(
    (m) => {
      matcher = m;
      if (stopping) stop();
    },
    (err) => {
      process.stderr.write(`matcher failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
