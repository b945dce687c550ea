// The WebSocket handshake completes only after the stream names are resolved (a listenKey is
// a Redis lookup on a gateway that did not make it), so a client that sees "open" is already
// subscribed: an event published right after cannot be lost.
import { expect } from "chai";
import WebSocket from "ws";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hub } from "../../../matcher/gateway/ws/hub";
import { WsServer } from "../../../matcher/gateway/ws/server";
import { createLogger } from "../../../matcher/gateway/log";
import { opened, closed, nextMessage, sleep } from "./helpers";

describe("gateway/WebSocket handshake", () => {
  let http: Server;
  let ws: WsServer;
  let url: string;
  before(async () => {
    const hub = new Hub(1 << 20);
    // "slow…" names resolve after 150 ms, "broken" throws (store down), "bad" is unknown
    const resolve = async (name: string) => {
      if (name.startsWith("slow")) await sleep(150);
      if (name === "broken") throw new Error("store down");
      return name === "bad" ? null : name;
    };
    const opts = {
      maxStreams: 3,
      pingIntervalMs: 10_000,
      pongTimeoutMs: 10_000,
      maxLifetimeMs: 60_000,
      maxIncomingPerSec: 10,
      maxConnections: 2,
    };
    ws = new WsServer(hub, opts, resolve, createLogger("error"));
    http = createServer();
    ws.attach(http);
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await ws.shutdown();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  it("a stream resolved slowly is subscribed by the time the client sees open", async () => {
    const c = new WebSocket(`${url}/ws/slowkey1/fast`);
    await opened(c);
    const got = nextMessage(c, () => true, 1000);
    ws.hub.publish("slowkey1", JSON.stringify({ e: "ACCOUNT_UPDATE" }));
    expect(await got).to.deep.equal({ e: "ACCOUNT_UPDATE" });
    expect(ws.hub.subscribers("fast")).to.equal(1);
    c.close();
    await closed(c);
  });

  it("an unknown or malformed name closes with 1008 naming it; a failed lookup with 1011", async () => {
    const bad = new WebSocket(`${url}/ws/fast/bad`);
    expect(await closed(bad)).to.deep.equal({ code: 1008, reason: "invalid stream name: bad" });
    const malformed = new WebSocket(`${url}/ws/%E0%A4%A`);
    expect((await closed(malformed)).code).to.equal(1008);
    const broken = new WebSocket(`${url}/ws/broken`);
    expect(await closed(broken)).to.deep.equal({ code: 1011, reason: "could not check the stream names: try again" });
    expect(ws.hub.streamCount()).to.equal(0);
  });

  it("SUBSCRIBE answers a failed lookup and an unknown name with an error, subscribing nothing", async () => {
    const c = new WebSocket(`${url}/ws`);
    await opened(c);
    const ask = (params: string[], id: number) => {
      const p = nextMessage(c, (m) => m.id === id);
      c.send(JSON.stringify({ method: "SUBSCRIBE", params, id }));
      return p;
    };
    expect(await ask(["fast", "broken"], 1)).to.deep.equal({
      code: 2,
      msg: "Could not check the stream names: try again",
      id: 1,
    });
    expect(await ask(["fast", "bad"], 2)).to.deep.equal({
      code: 2,
      msg: "Invalid request: invalid stream name bad",
      id: 2,
    });
    expect(ws.hub.streamCount()).to.equal(0);
    expect(await ask(["fast"], 3)).to.deep.equal({ result: null, id: 3 });
    c.close();
    await closed(c);
  });

  it("sockets still resolving count against the connection limit", async () => {
    const a = new WebSocket(`${url}/ws/slowa`);
    const b = new WebSocket(`${url}/ws/slowb`);
    await sleep(50); // both upgrades are in, neither resolved
    const c = new WebSocket(`${url}/ws/fast`);
    const refused = await new Promise<number | undefined>((r) =>
      c.once("error", (e) => r(Number(/Unexpected server response: (\d+)/.exec(String(e))?.[1]))),
    );
    expect(refused).to.equal(503);
    await Promise.all([opened(a), opened(b)]);
    a.close();
    b.close();
    await Promise.all([closed(a), closed(b)]);
  });
});
