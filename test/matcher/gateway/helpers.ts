import { generatePrivateKey } from "viem/accounts";
import { Gateway } from "../../../matcher/gateway/gateway";
import { LocalVenue, defaultMarkets } from "../../../matcher/gateway/venue/local";
import type { GatewayConfig } from "../../../matcher/gateway/config";
import { createLogger } from "../../../matcher/gateway/log";
import { Client } from "../../../sdk/client";
import type WebSocket from "ws";

export const MARK = 60_000_000_000; // 60,000 USDT in price units
export const EXCHANGE = { chainId: 31337, address: "0x00000000000000000000000000000000000000e1" };

export interface TestStack {
  gw: Gateway;
  venue: LocalVenue;
  url: string;
  stop(): Promise<void>;
}

export async function startStack(config: Partial<GatewayConfig> = {}, venue?: LocalVenue): Promise<TestStack> {
  const v = venue ?? new LocalVenue(defaultMarkets());
  if (!venue) {
    v.process({ type: "mark", ts: Date.now(), market: 1, price: MARK });
    v.process({ type: "mark", ts: Date.now(), market: 2, price: 3_000_000_000 });
  }
  const gw = new Gateway({
    venue: v,
    exchange: EXCHANGE,
    config: { port: 0, recoverWorkers: 1, ...config },
    logger: createLogger("error"),
  });
  const port = await gw.start();
  return { gw, venue: v, url: `http://127.0.0.1:${port}`, stop: () => gw.stop() };
}

/** A client with a fresh key, funded with `usd` USD of collateral. */
export function trader(s: { url: string; venue?: LocalVenue }, usd = 1_000_000): Client {
  const c = new Client({ baseUrl: s.url, privateKey: generatePrivateKey(), exchange: EXCHANGE });
  s.venue?.process({ type: "balance", ts: Date.now(), account: c.user, delta: usd * 1_000_000 });
  return c;
}

export function nextMessage(ws: WebSocket, pred: (m: Record<string, unknown>) => boolean = () => true, ms = 3000) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => {
      ws.off("message", on);
      reject(new Error("timeout waiting for a WS message"));
    }, ms);
    const on = (d: Buffer) => {
      const m = JSON.parse(d.toString());
      if (pred(m)) {
        clearTimeout(t);
        ws.off("message", on);
        resolve(m);
      }
    };
    ws.on("message", on);
  });
}

export function opened(ws: WebSocket): Promise<void> {
  return new Promise((res, rej) => {
    ws.once("open", () => res());
    ws.once("error", rej);
  });
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((res) => ws.once("close", (code, reason) => res({ code, reason: reason.toString() })));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
