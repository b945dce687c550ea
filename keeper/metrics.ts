// Prometheus metrics of the keeper (prom-client), served at /metrics.
import http from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class KeeperMetrics {
  readonly registry = new Registry();
  readonly settlementLag = new Histogram({
    name: "keeper_settlement_lag_seconds",
    help: "Matcher trade time to confirmed settlement, per fill",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly batchGas = new Histogram({
    name: "keeper_batch_gas",
    help: "Gas used per settled batch",
    buckets: [1e5, 5e5, 1e6, 3e6, 6e6, 1e7, 1.5e7, 2e7, 3e7],
    registers: [this.registry],
  });
  readonly batchGasPerFill = new Gauge({
    name: "keeper_batch_gas_per_fill",
    help: "Gas per fill of the last batch",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "keeper_settlement_queue_depth",
    help: "Fills waiting for a batch",
    registers: [this.registry],
  });
  readonly fills = new Counter({
    name: "keeper_fills_total",
    help: "Fills final, by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly batches = new Counter({ name: "keeper_batches_total", help: "Batches settled", registers: [this.registry] });
  readonly txAttempts = new Counter({
    name: "keeper_tx_attempts_total",
    help: "Transactions broadcast, by kind (first or replacement)",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly listenerLag = new Gauge({
    name: "keeper_listener_lag_blocks",
    help: "Chain head minus the listener checkpoint",
    registers: [this.registry],
  });
  readonly listenerHead = new Gauge({
    name: "keeper_listener_head_block",
    help: "Chain head seen by the listener",
    registers: [this.registry],
  });
  readonly reorgs = new Counter({
    name: "keeper_reorgs_total",
    help: "Reorgs detected by the listener",
    registers: [this.registry],
  });
  readonly reorgDepth = new Histogram({
    name: "keeper_reorg_depth_blocks",
    help: "Depth of detected reorgs",
    buckets: [1, 2, 3, 5, 10, 20, 64],
    registers: [this.registry],
  });
  readonly liquidations = new Counter({
    name: "keeper_liquidations_total",
    help: "Liquidations sent by the liquidator bot and mined",
    registers: [this.registry],
  });
  readonly fundingUpdates = new Counter({
    name: "keeper_funding_updates_total",
    help: "updateFunding transactions sent by the funding bot",
    registers: [this.registry],
  });
  readonly fundingRate = new Gauge({
    name: "keeper_funding_rate",
    help: "Last funding rate pushed per market (fraction per interval)",
    labelNames: ["market"],
    registers: [this.registry],
  });
  readonly forcedExitsServed = new Counter({
    name: "keeper_forced_exits_served_total",
    help: "serveForcedExit / clearForcedExit transactions of the forced-exit bot, mined with success",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly forcedExitFailures = new Counter({
    name: "keeper_forced_exit_failures_total",
    help: "Forced-exit requests the bot could not serve in a round (alert), by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly forcedExitsOpen = new Gauge({
    name: "keeper_forced_exits_open",
    help: "Forced-exit requests open on chain (seen by the bot's last round)",
    registers: [this.registry],
  });
  readonly forcedExitTimeLeft = new Gauge({
    name: "keeper_forced_exit_min_time_left_seconds",
    help: "Least time before an open forced-exit request makes the Exchange freezable (-1: none open)",
    registers: [this.registry],
  });
  readonly chainToBus = new Histogram({
    name: "keeper_block_to_bus_seconds",
    help: "Block timestamp to its events on the bus (whole-second block time resolution)",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: "keeper_" });
  }

  /** Serves /metrics on `port`; returns a close function. */
  serve(port: number, host = "0.0.0.0"): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer(async (req, res) => {
      if (req.url?.split("?")[0] === "/metrics") {
        res.setHeader("Content-Type", this.registry.contentType);
        res.end(await this.registry.metrics());
      } else if (req.url === "/healthz") {
        res.end("ok");
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    return new Promise((resolve) =>
      server.listen(port, host, () =>
        resolve({
          port: (server.address() as { port: number }).port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        }),
      ),
    );
  }
}
