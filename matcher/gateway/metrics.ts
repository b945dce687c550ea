// Prometheus metrics (prom-client), one registry per gateway instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "status">;
  readonly latency: Histogram<"route">;
  readonly orders: Counter<"result">;
  readonly wsConnections: Gauge;
  readonly wsDelivered: Gauge;
  readonly wsSlowCut: Gauge;
  readonly recoveries: Gauge;
  readonly recoveryBatches: Gauge;
  readonly engineEvents: Gauge;
  readonly depthGaps: Gauge;

  constructor(labels: Record<string, string>, defaults = true) {
    this.registry.setDefaultLabels(labels);
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: "gateway_" });
    const registers = [this.registry];
    this.requests = new Counter({
      name: "gateway_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"],
      registers,
    });
    this.latency = new Histogram({
      name: "gateway_http_request_seconds",
      help: "HTTP request latency",
      labelNames: ["route"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers,
    });
    this.orders = new Counter({
      name: "gateway_orders_total",
      help: "Orders by result",
      labelNames: ["result"],
      registers,
    });
    this.wsConnections = new Gauge({ name: "gateway_ws_connections", help: "Open WebSocket connections", registers });
    this.wsDelivered = new Gauge({
      name: "gateway_ws_messages_delivered",
      help: "WS messages sent (total)",
      registers,
    });
    this.wsSlowCut = new Gauge({
      name: "gateway_ws_slow_consumers_cut",
      help: "Connections cut as slow consumers",
      registers,
    });
    this.recoveries = new Gauge({
      name: "gateway_signature_recoveries",
      help: "Signatures recovered (total)",
      registers,
    });
    this.recoveryBatches = new Gauge({
      name: "gateway_signature_batches",
      help: "Batches of signatures sent to recovery workers (total)",
      registers,
    });
    this.engineEvents = new Gauge({ name: "gateway_engine_events", help: "Engine events received (total)", registers });
    this.depthGaps = new Gauge({ name: "gateway_depth_gaps", help: "Depth events out of sequence (total)", registers });
  }
}
