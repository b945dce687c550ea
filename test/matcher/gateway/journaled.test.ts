import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { FileJournal } from "../../../matcher/index";
import { JournaledVenue } from "../../../matcher/gateway/venue/journaled";
import { defaultMarkets } from "../../../matcher/gateway/venue/local";
import { Gateway } from "../../../matcher/gateway/gateway";
import { createLogger } from "../../../matcher/gateway/log";
import { Client } from "../../../sdk/client";
import { generatePrivateKey } from "viem/accounts";
import { EXCHANGE, MARK, nextMessage, opened } from "./helpers";

describe("gateway/journaled engine", () => {
  it("acks after the journal is durable; a restarted gateway shows the same book; settlement notices reach the user stream", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-journal-"));
    const open = async () => {
      const venue = await JournaledVenue.open(defaultMarkets(), await FileJournal.open(dir, "engine"));
      const gw = new Gateway({ venue, exchange: EXCHANGE, config: { port: 0 }, logger: createLogger("error") });
      const url = `http://127.0.0.1:${await gw.start()}`;
      return { venue, gw, url };
    };
    const a = await open();
    const maker = new Client({ baseUrl: a.url, privateKey: generatePrivateKey(), exchange: EXCHANGE });
    const taker = new Client({ baseUrl: a.url, privateKey: generatePrivateKey(), exchange: EXCHANGE });
    await a.venue.submit({ type: "mark", ts: Date.now(), market: 1, price: MARK });
    for (const c of [maker, taker])
      await a.venue.submit({ type: "balance", ts: Date.now(), account: c.user, delta: 1e12 });
    const BTC = { symbol: "BTCUSDT", marketId: 1 };
    const key = await maker.listenKey();
    const ws = new WebSocket(a.url.replace("http", "ws") + `/ws/${key}`);
    await opened(ws);
    await maker.placeOrder({
      ...BTC,
      side: "SELL",
      type: "LIMIT",
      timeInForce: "GTC",
      quantity: "0.005",
      price: "60200",
    });
    await taker.placeOrder({
      ...BTC,
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      quantity: "0.002",
      price: "60200",
    });
    const trades = await maker.signed<{ id: number }[]>("GET", "/userTrades", { symbol: "BTCUSDT" });
    expect(trades).to.have.length(1);
    const settled = nextMessage(ws, (m) => m.e === "TRADE_SETTLEMENT");
    expect((await a.venue.submit({ type: "settlement", ts: Date.now(), tradeId: trades[0].id, ok: true })).ok).to.equal(
      true,
    );
    expect(await settled).to.include({ X: "SETTLED", t: String(trades[0].id) });
    ws.close();
    const before = await (await fetch(`${a.url}/fapi/v1/depth?symbol=BTCUSDT`)).json();
    await a.gw.stop();
    await a.venue.close();

    const b = await open();
    try {
      const after = await (await fetch(`${b.url}/fapi/v1/depth?symbol=BTCUSDT`)).json();
      expect({ ...(after as object), E: 0, T: 0 }).to.deep.equal({ ...(before as object), E: 0, T: 0 });
      expect((after as { asks: string[][] }).asks[0]).to.deep.equal(["60200.0", "0.003"]);
    } finally {
      await b.gw.stop();
      await b.venue.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
