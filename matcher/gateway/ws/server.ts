// The WebSocket endpoint: /ws/<stream>[/<stream>…] (raw events), /stream?streams=a/b
// (combined envelopes), and in-band SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS /
// SET_PROPERTY / GET_PROPERTY with ids. Server pings; connections without a pong in time,
// older than the lifetime limit, or sending too many control messages are closed.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { Hub, type Conn } from "./hub";
import type { Logger } from "../log";

export interface WsOptions {
  maxStreams: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxLifetimeMs: number;
  maxIncomingPerSec: number;
  maxConnections: number;
}

/** Validates a stream name: returns the canonical name or null. May be async (listenKeys). */
export type StreamResolver = (name: string) => Promise<string | null> | string | null;

export class WsServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly conns = new Set<Conn>();
  private nextId = 1;
  /** Upgrades whose stream names are still being resolved: they count against maxConnections. */
  private pending = 0;
  private readonly timer: NodeJS.Timeout;
  private lastPing = Date.now();

  constructor(
    readonly hub: Hub,
    private readonly opts: WsOptions,
    private readonly resolve: StreamResolver,
    private readonly log: Logger,
  ) {
    const tick = Math.max(50, Math.min(1000, opts.pingIntervalMs, opts.maxLifetimeMs / 4));
    this.timer = setInterval(() => this.sweep(), tick);
    this.timer.unref();
  }

  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", "http://x");
      const isWs = url.pathname === "/ws" || url.pathname.startsWith("/ws/");
      const isStream = url.pathname === "/stream";
      if (!isWs && !isStream) {
        socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
        return;
      }
      if (this.conns.size + this.pending >= this.opts.maxConnections) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        return;
      }
      const names = isStream
        ? (url.searchParams.get("streams") ?? "").split("/").filter(Boolean)
        : url.pathname.slice(4).split("/").filter(Boolean);
      // Resolve the names (a listenKey is a Redis lookup) before the handshake completes: a
      // client that sees "open" is subscribed, so no event can slip between the two.
      this.pending++;
      // too many names are not looked up: onOpen refuses them
      const resolving = names.length > this.opts.maxStreams ? Promise.resolve([]) : this.resolveNames(names, true);
      void resolving
        .then((canon) => {
          this.pending--;
          this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, req, isStream, names, canon));
        })
        .catch((err: unknown) => {
          this.log.warn("websocket upgrade failed", { err: String(err) });
          socket.destroy();
        });
    });
  }

  /**
   * Canonical names, the index of the first invalid one, or null when a lookup failed (the
   * listenKey store is down). URL path names are %-decoded first (a malformed escape is invalid).
   */
  private async resolveNames(names: readonly string[], uriEncoded: boolean): Promise<string[] | number | null> {
    const canon: string[] = [];
    for (let i = 0; i < names.length; i++) {
      let name = names[i];
      if (uriEncoded) {
        try {
          name = decodeURIComponent(name);
        } catch {
          return i;
        }
      }
      let c: string | null;
      try {
        c = await this.resolve(name);
      } catch {
        return null;
      }
      if (!c) return i;
      canon.push(c);
    }
    return canon;
  }

  private onOpen(
    ws: WebSocket,
    req: IncomingMessage,
    combined: boolean,
    names: string[],
    canon: string[] | number | null,
  ): void {
    const now = Date.now();
    const c: Conn = {
      ws,
      id: this.nextId++,
      combined,
      streams: new Set(),
      ip: req.socket.remoteAddress ?? "",
      openedAt: now,
      lastPong: now,
      msgWindowStart: now,
      msgCount: 0,
      closed: false,
    };
    this.conns.add(c);
    ws.on("pong", () => (c.lastPong = Date.now()));
    ws.on("close", () => this.onClose(c));
    ws.on("error", () => this.onClose(c));
    ws.on("message", (data, isBinary) => void this.onMessage(c, data as Buffer, isBinary));
    if (names.length > this.opts.maxStreams) {
      this.close(c, 1008, `too many streams: at most ${this.opts.maxStreams} per connection`);
      return;
    }
    if (canon === null) {
      this.close(c, 1011, "could not check the stream names: try again");
      return;
    }
    if (typeof canon === "number") {
      this.close(c, 1008, `invalid stream name: ${names[canon]}`);
      return;
    }
    for (const s of canon) this.hub.subscribe(c, s);
  }

  private onClose(c: Conn): void {
    if (!this.conns.delete(c)) return;
    c.closed = true;
    this.hub.drop(c);
  }

  close(c: Conn, code: number, reason: string): void {
    c.closed = true;
    this.hub.drop(c);
    try {
      c.ws.close(code, reason.slice(0, 120));
    } catch {
      /* already closing */
    }
    setTimeout(() => c.ws.terminate(), 5000).unref();
  }

  private reply(c: Conn, obj: unknown): void {
    if (!c.closed) c.ws.send(JSON.stringify(obj));
  }

  private async onMessage(c: Conn, data: Buffer, isBinary: boolean): Promise<void> {
    const now = Date.now();
    if (now - c.msgWindowStart >= 1000) {
      c.msgWindowStart = now;
      c.msgCount = 0;
    }
    if (++c.msgCount > this.opts.maxIncomingPerSec) {
      this.close(c, 1008, `too many messages: at most ${this.opts.maxIncomingPerSec} per second`);
      return;
    }
    if (isBinary) return this.reply(c, { code: 3, msg: "Invalid JSON: binary frames are not accepted", id: null });
    let req: { method?: unknown; params?: unknown; id?: unknown };
    try {
      req = JSON.parse(data.toString("utf8"));
    } catch (err) {
      return this.reply(c, { code: 3, msg: `Invalid JSON: ${(err as Error).message}`, id: null });
    }
    if (req === null || typeof req !== "object")
      return this.reply(c, { code: 3, msg: "Invalid JSON: not an object", id: null });
    const id = req.id;
    if (
      id !== undefined &&
      id !== null &&
      !(typeof id === "number" && Number.isSafeInteger(id)) &&
      typeof id !== "string"
    ) {
      return this.reply(c, { code: 1, msg: "Invalid value type: id must be an integer or a string", id: null });
    }
    const rid = id ?? null;
    switch (req.method) {
      case "SUBSCRIBE":
      case "UNSUBSCRIBE": {
        if (!Array.isArray(req.params) || req.params.some((p) => typeof p !== "string")) {
          return this.reply(c, { code: 2, msg: "Invalid request: params must be an array of stream names", id: rid });
        }
        const names = req.params as string[];
        if (req.method === "SUBSCRIBE") {
          const fresh = names.filter((n) => !c.streams.has(n)).length;
          if (c.streams.size + fresh > this.opts.maxStreams) {
            return this.reply(c, {
              code: 2,
              msg: `Invalid request: too many streams, at most ${this.opts.maxStreams} per connection`,
              id: rid,
            });
          }
          const canon = await this.resolveNames(names, false);
          if (canon === null)
            return this.reply(c, { code: 2, msg: "Could not check the stream names: try again", id: rid });
          if (typeof canon === "number")
            return this.reply(c, { code: 2, msg: `Invalid request: invalid stream name ${names[canon]}`, id: rid });
          if (c.closed) return;
          for (const s of canon) this.hub.subscribe(c, s);
        } else {
          for (const n of names) this.hub.unsubscribe(c, n);
        }
        return this.reply(c, { result: null, id: rid });
      }
      case "LIST_SUBSCRIPTIONS":
        return this.reply(c, { result: [...c.streams], id: rid });
      case "SET_PROPERTY": {
        const p = req.params;
        if (!Array.isArray(p) || p[0] !== "combined" || typeof p[1] !== "boolean") {
          return this.reply(c, { code: 2, msg: 'Invalid request: SET_PROPERTY takes ["combined", boolean]', id: rid });
        }
        c.combined = p[1];
        return this.reply(c, { result: null, id: rid });
      }
      case "GET_PROPERTY": {
        const p = req.params;
        if (!Array.isArray(p) || p[0] !== "combined") {
          return this.reply(c, { code: 2, msg: "Invalid request: unknown property", id: rid });
        }
        return this.reply(c, { result: c.combined, id: rid });
      }
      default:
        return this.reply(c, { code: 2, msg: `Invalid request: unknown method ${String(req.method)}`, id: rid });
    }
  }

  private sweep(): void {
    const now = Date.now();
    const doPing = now - this.lastPing >= this.opts.pingIntervalMs;
    if (doPing) this.lastPing = now;
    for (const c of this.conns) {
      if (c.closed) continue;
      if (now - c.openedAt >= this.opts.maxLifetimeMs) {
        this.close(c, 1000, "connection lifetime limit reached (24h): please reconnect");
      } else if (now - c.lastPong > this.opts.pongTimeoutMs) {
        this.log.info("ws pong timeout", { conn: c.id });
        this.close(c, 1008, "no pong received in time");
      } else if (doPing) {
        try {
          c.ws.ping();
        } catch {
          /* closing */
        }
      }
    }
  }

  /** Unsubscribe everyone from `stream` (e.g. an expired listenKey, after its last event). */
  endStream(stream: string): void {
    for (const c of this.conns) if (c.streams.has(stream)) this.hub.unsubscribe(c, stream);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
