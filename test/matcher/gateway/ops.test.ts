import { expect } from "chai";
import { startStack, trader, sleep } from "./helpers";

describe("gateway/operations", () => {
  it("/health reports markets and connections; /metrics exposes Prometheus counters", async () => {
    const s = await startStack();
    try {
      await fetch(`${s.url}/fapi/v1/ping`);
      const h = (await (await fetch(`${s.url}/health`)).json()) as Record<string, unknown>;
      expect(h).to.include({ status: "ok", recoverWorkers: 1, redis: "not configured" });
      expect((h.markets as { symbol: string }[]).map((m) => m.symbol)).to.deep.equal(["BTCUSDT", "ETHUSDT"]);
      const m = await fetch(`${s.url}/metrics`);
      expect(m.headers.get("content-type")).to.match(/text\/plain/);
      const text = await m.text();
      expect(text).to.match(/gateway_http_requests_total\{route="ping",status="200",gateway="[^"]+"\} 1/);
      expect(text).to.include("gateway_ws_connections");
      expect(text).to.include("gateway_signature_recoveries");
    } finally {
      await s.stop();
    }
  });

  it("countdownCancelAll fires on the engine clock kept by the gateway's tick", async () => {
    const s = await startStack({ tickIntervalMs: 50 });
    try {
      const c = trader(s);
      await c.placeOrder({
        symbol: "BTCUSDT",
        marketId: 1,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "59000",
      });
      await c.signed("POST", "/countdownCancelAll", { symbol: "BTCUSDT", countdownTime: 200 });
      expect(await c.signed<unknown[]>("GET", "/openOrders")).to.have.length(1);
      await sleep(600);
      expect(await c.signed<unknown[]>("GET", "/openOrders")).to.have.length(0);
      const all = await c.signed<{ status: string }[]>("GET", "/allOrders", { symbol: "BTCUSDT" });
      expect(all[0].status).to.equal("CANCELED");
    } finally {
      await s.stop();
    }
  });
});
