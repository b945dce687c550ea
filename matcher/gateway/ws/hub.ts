// Subscription registry and fan-out. An event is serialised once per stream (raw form for
// /ws connections, {"stream","data"} form for combined ones) and the same buffer is handed to
// every subscriber. A subscriber whose unsent bytes exceed the bound is cut off as a slow
// consumer instead of growing memory.
import { WebSocket } from "ws";

/** ws internals used to send one pre-built frame to many sockets (server frames are unmasked). */
interface SenderInternals {
  _state: number;
  sendFrame(list: Buffer[]): void;
}

interface Framed {
  buf: Buffer;
  /** Header and payload in one buffer: one socket write per subscriber, no cork/writev. */
  frames: [Buffer];
}

function frame(buf: Buffer): Framed {
  const Sender = (WebSocket as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender;
  const parts = Sender.frame(buf, {
    fin: true,
    rsv1: false,
    opcode: 1,
    mask: false,
    readOnly: true,
  });
  return { buf, frames: [parts.length === 1 ? parts[0] : Buffer.concat(parts)] };
}

export interface Conn {
  ws: WebSocket;
  id: number;
  /** Combined (/stream) connections get {"stream":…,"data":…} envelopes. */
  combined: boolean;
  streams: Set<string>;
  ip: string;
  openedAt: number;
  lastPong: number;
  msgWindowStart: number;
  msgCount: number;
  closed: boolean;
}

export interface HubStats {
  delivered: number;
  slowCut: number;
}

export class Hub {
  private readonly subs = new Map<string, Set<Conn>>();
  readonly stats: HubStats = { delivered: 0, slowCut: 0 };
  /** Called when the first subscriber of a stream arrives / the last leaves. */
  onFirst: (stream: string) => void = () => {};
  onLast: (stream: string) => void = () => {};

  constructor(private readonly maxBuffered: number) {}

  subscribe(c: Conn, stream: string): void {
    if (c.streams.has(stream)) return;
    c.streams.add(stream);
    let s = this.subs.get(stream);
    if (!s) {
      s = new Set();
      this.subs.set(stream, s);
      this.onFirst(stream);
    }
    s.add(c);
  }

  unsubscribe(c: Conn, stream: string): void {
    if (!c.streams.delete(stream)) return;
    const s = this.subs.get(stream);
    if (!s) return;
    s.delete(c);
    if (s.size === 0) {
      this.subs.delete(stream);
      this.onLast(stream);
    }
  }

  drop(c: Conn): void {
    for (const st of [...c.streams]) this.unsubscribe(c, st);
  }

  has(stream: string): boolean {
    return this.subs.has(stream);
  }

  subscribers(stream: string): number {
    return this.subs.get(stream)?.size ?? 0;
  }

  streamCount(): number {
    return this.subs.size;
  }

  /** Publish `json` (already serialised event) on `stream`. */
  publish(stream: string, json: string): void {
    const s = this.subs.get(stream);
    if (!s) return;
    // Serialise and frame once per form; every subscriber gets the same bytes.
    let raw: Framed | undefined;
    let combined: Framed | undefined;
    for (const c of s) {
      if (c.closed || c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > this.maxBuffered) {
        this.cut(c);
        continue;
      }
      const f = c.combined
        ? (combined ??= frame(Buffer.from(`{"stream":${JSON.stringify(stream)},"data":${json}}`)))
        : (raw ??= frame(Buffer.from(json)));
      const sender = (c.ws as unknown as { _sender?: SenderInternals })._sender;
      if (sender && sender._state === 0 && typeof sender.sendFrame === "function") sender.sendFrame(f.frames);
      else c.ws.send(f.buf, { binary: false });
      this.stats.delivered++;
    }
  }

  /** Close a connection that does not keep up, with a reason it can read. */
  cut(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    this.stats.slowCut++;
    this.drop(c);
    try {
      // Unsent data is discarded: the close frame would queue behind it otherwise.
      c.ws.close(1008, "slow consumer: too many unsent messages");
    } catch {
      /* already closing */
    }
    setTimeout(() => c.ws.terminate(), 5000).unref();
  }
}
