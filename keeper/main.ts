// `npm run keeper`: the settler, the listener and the liquidator and funding bots as one service. Configuration: keeper/config.ts.
import { loadConfig } from "./config";
import { startKeeper } from "./keeper";
import { createLogger } from "./log";

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger("keeper", cfg.logLevel);
  const keeper = await startKeeper(cfg, { log });
  let metricsServer: { port: number; close: () => Promise<void> } | undefined;
  if (cfg.metricsPort > 0) {
    metricsServer = await keeper.metrics.serve(cfg.metricsPort);
    log.info("metrics", { url: `http://127.0.0.1:${metricsServer.port}/metrics` });
  }
  log.info("keeper running", {
    settler: cfg.settlerEnabled,
    listener: cfg.listenerEnabled,
    liquidator: cfg.liquidatorEnabled,
    funding: cfg.fundingEnabled,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await metricsServer?.close();
    await keeper.stop();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  createLogger("keeper").error("keeper failed to start", { err: String(err) });
  process.exit(1);
});
