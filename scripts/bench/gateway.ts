// npm run bench:gateway — the gateway under load from this (separate) process on loopback.
//   1. signature recoveries/s on one thread: native libsecp256k1, pure JS, viem
//   2. signed orders/s over HTTP keep-alive (every order: request signature + Order signature),
//      with p50/p99 acknowledgement latency
//   3. p99 latency from sending an order to receiving its WebSocket depth delta at 1k orders/s
//   4. fan-out: delivery latency to 1,000 and 5,000 subscribers of one stream
// Bounded by counts and time (BENCH_SECONDS per throughput phase), each timed phase after a
// warm-up. The load generator is this process: pre-signed requests written on raw keep-alive
// sockets with HTTP/1.1 pipelining (BENCH_CONNS connections x BENCH_PIPELINE requests in
// flight each), so the client's own cost per request stays small. The machine is shared:
// the run records the load average at start and end, and CPU-time figures (gateway CPU per
// order, recoveries per CPU-second) that do not depend on how much of the CPU the run got.
// Prints a table; writes flat {"name_unit": number} to bench-results/gateway.json.
// Knobs: BENCH_ORDERS (40000), BENCH_SECONDS (15), BENCH_CONNS (16), BENCH_PIPELINE (8), BENCH_NODE_FLAGS,
// BENCH_WORKERS (gateway RECOVER_WORKERS, 2), BENCH_PARTS (recover,orders,delta,fanout),
// BENCH_PROF=<dir> (CPU profile of the gateway).
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import WebSocket from "ws";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { recoverTypedDataAddress } from "viem";
import { Signer, DEFAULT_AUTH_DOMAIN } from "../../sdk/client";
import { nativeRecoverer, jsRecoverer } from "../../matcher/gateway/recover/secp256k1";
import { TypedDataHasher } from "../../matcher/gateway/recover/eip712";
import { MESSAGE_TYPE } from "../../matcher/gateway/auth/authenticator";
import { RecoverPool } from "../../matcher/gateway/recover/pool";

const ROOT = path.join(__dirname, "..", "..");
const EXCHANGE = { chainId: 31337, address: "0x00000000000000000000000000000000000000e1" };
const ORDERS = Number(process.env.BENCH_ORDERS ?? 40_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNS = Number(process.env.BENCH_CONNS ?? 16);
const PIPELINE = Number(process.env.BENCH_PIPELINE ?? process.env.BENCH_CONCURRENCY ?? 8);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
// extra node/V8 flags for the gateway process, e.g. BENCH_NODE_FLAGS="--trace-gc"
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const PARTS = new Set((process.env.BENCH_PARTS ?? "recover,orders,delta,fanout").split(","));
const results: Record<string, number> = {};
const rows: [string, string][] = [];

function record(name: string, v: number, shown = v.toFixed(v < 100 ? 2 : 0)) {
  results[name] = Math.round(v * 100) / 100;
  rows.push([name, shown]);
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- native signing for the load generator (fast; the sdk Signer uses noble) --------------
const secp = require("secp256k1") as {
  ecdsaSign(m: Uint8Array, k: Uint8Array): { signature: Uint8Array; recid: number };
};
function fastSign(digest: Uint8Array, pk: Uint8Array): string {
  const s = secp.ecdsaSign(digest, pk);
  return "0x" + Buffer.from(s.signature).toString("hex") + (27 + s.recid).toString(16);
}

interface Trader {
  pk: Uint8Array;
  signer: Signer;
  address: string;
  orderNonce: bigint;
  lastNonce: bigint;
}

function makeTrader(): Trader {
  const pkHex = generatePrivateKey();
  const signer = new Signer(pkHex, DEFAULT_AUTH_DOMAIN, EXCHANGE);
  return { pk: Buffer.from(pkHex.slice(2), "hex"), signer, address: signer.address, orderNonce: 0n, lastNonce: 0n };
}

/** A signed POST /order body for a BTCUSDT limit order. */
function orderBody(t: Trader, side: "BUY" | "SELL", priceTicks: number, lots: number, tif = "GTC"): string {
  const price = BigInt(priceTicks) * 100_000n;
  const size = BigInt(lots) * 100_000n;
  const orderNonce = t.orderNonce++;
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const od = t.signer.orderDigest({
    account: t.address,
    market: 1,
    isBuy: side === "BUY",
    reduceOnly: false,
    price,
    size,
    nonce: orderNonce,
    expiry,
  });
  const fmt = (v: bigint, d: number) => {
    const s = v.toString().padStart(d + 1, "0");
    return `${s.slice(0, -d)}.${s.slice(-d)}`;
  };
  const n = BigInt(Date.now()) * 1000n;
  t.lastNonce = n > t.lastNonce ? n : t.lastNonce + 1n;
  const payload =
    `symbol=BTCUSDT&side=${side}&type=LIMIT&timeInForce=${tif}&quantity=${fmt(size, 8)}&price=${fmt(price, 6)}` +
    `&orderNonce=${orderNonce}&expiry=${expiry}&orderSignature=${fastSign(od, t.pk)}` +
    `&user=${t.address}&signer=${t.address}&nonce=${t.lastNonce}`;
  return `${payload}&signature=${fastSign(t.signer.messageDigest(payload), t.pk)}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function post(port: number, p: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: p,
        method: "POST",
        agent,
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// ---- pipelined HTTP/1.1 client on raw keep-alive sockets ----------------------------------
interface Reply {
  status: number;
  body: string;
}

/** One keep-alive connection; requests are written back to back, replies come in order. */
class PipeConn {
  private readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private readonly waiting: ((r: Reply) => void)[] = [];
  private readonly ready: Promise<void>;

  constructor(port: number) {
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.setNoDelay(true);
    this.ready = new Promise((res, rej) => {
      this.sock.once("connect", () => res());
      this.sock.once("error", rej);
    });
    this.sock.on("data", (d: Buffer) => this.onData(d));
  }

  open(): Promise<void> {
    return this.ready;
  }

  get inflight(): number {
    return this.waiting.length;
  }

  post(p: string, body: string): Promise<Reply> {
    const req =
      `POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.sock.write(req);
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.buf.toString("latin1", 0, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!m) throw new Error(`bench client: reply without content-length: ${head}`);
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.toString("utf8", end + 4, end + 4 + len);
      const status = Number(head.slice(9, 12));
      this.buf = this.buf.subarray(end + 4 + len);
      this.waiting.shift()!({ status, body });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

async function openConns(port: number, n: number): Promise<PipeConn[]> {
  const conns = Array.from({ length: n }, () => new PipeConn(port));
  await Promise.all(conns.map((c) => c.open()));
  return conns;
}

/** CPU time (ms, user + system, all threads) of process `pid` so far, from /proc. */
function procCpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
    const tick = 100; // USER_HZ on Linux
    return ((Number(parts[11]) + Number(parts[12])) * 1000) / tick;
  } catch {
    return NaN;
  }
}

/** A gauge from the gateway's /metrics. */
async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

let gatewayPid = 0;

async function startGateway(port: number, accounts: string[]): Promise<ChildProcess> {
  const prof = process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const child = spawn(
    process.execPath,
    [...prof, ...NODE_FLAGS, "--require", "tsx/cjs", path.join(ROOT, "matcher", "gateway", "main.ts")],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL: "",
        GATEWAY_ID: "bench",
        JOURNAL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "gw-bench-")),
        LOG_LEVEL: "warn",
        SEED_MARK: "60000000000",
        EXCHANGE_CHAIN_ID: String(EXCHANGE.chainId),
        EXCHANGE_ADDRESS: EXCHANGE.address,
        SEED_ACCOUNTS: accounts.join(","),
        SEED_BALANCE: String(1e15),
        RECOVER_WORKERS: String(WORKERS),
        NONCE_WINDOW_MS: "120000",
        RATE_WEIGHT_PER_MIN: "100000000",
        RATE_ORDERS_PER_MIN: "100000000",
        WS_MAX_CONNECTIONS: "20000",
        WS_MAX_INCOMING_PER_SEC: "1000",
      },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  gatewayPid = child.pid ?? 0;
  for (let i = 0; i < 100; i++) {
    await sleep(200);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.ok) return child;
    } catch {
      /* not yet */
    }
  }
  child.kill();
  throw new Error("gateway did not start");
}

async function benchRecover(): Promise<void> {
  const h = new TypedDataHasher("Message", MESSAGE_TYPE, DEFAULT_AUTH_DOMAIN);
  const acct = privateKeyToAccount(generatePrivateKey());
  const jobs: { msg: string; digest: Uint8Array; sig: Uint8Array; hex: `0x${string}` }[] = [];
  for (let i = 0; i < 256; i++) {
    const msg = `symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=60000&nonce=${i}`;
    const hex = await acct.signTypedData({
      domain: DEFAULT_AUTH_DOMAIN as never,
      types: { Message: MESSAGE_TYPE },
      primaryType: "Message",
      message: { msg },
    });
    jobs.push({ msg, digest: h.digest({ msg }), sig: Buffer.from(hex.slice(2), "hex"), hex });
  }
  const run = (name: string, ms: number, fn: (i: number) => void, perCpu?: string) => {
    for (let i = 0; i < 2000; i++) fn(i); // warm-up
    let n = 0;
    const t0 = performance.now();
    const c0 = selfCpuMs();
    while (performance.now() - t0 < ms) for (let k = 0; k < 16; k++) fn(n++);
    record(name, n / ((performance.now() - t0) / 1000));
    // one thread busy: this process's CPU time is that thread's (what "per core" means)
    if (perCpu) record(perCpu, n / ((selfCpuMs() - c0) / 1000));
  };
  // digest included: what the gateway does per request (hash the message, recover)
  run(
    "recover_native_per_s",
    2000,
    (i) => nativeRecoverer!.recover(h.digest({ msg: jobs[i & 255].msg }), jobs[i & 255].sig),
    "recover_native_per_cpu_s",
  );
  run("recover_js_per_s", 1500, (i) => jsRecoverer.recover(h.digest({ msg: jobs[i & 255].msg }), jobs[i & 255].sig));
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) {
    const j = jobs[n++ & 255];
    await recoverTypedDataAddress({
      domain: DEFAULT_AUTH_DOMAIN as never,
      types: { Message: MESSAGE_TYPE },
      primaryType: "Message",
      message: { msg: j.msg },
      signature: j.hex,
    });
  }
  record("recover_viem_per_s", n / ((performance.now() - t0) / 1000));
  record("recover_native_vs_viem_x", results.recover_native_per_s / results.recover_viem_per_s);
  // through the worker pool (what the gateway uses), all workers busy
  const pool = new RecoverPool({ workers: WORKERS, backend: "native" });
  await Promise.all(jobs.map((j) => pool.recover(j.digest, j.sig))); // warm-up
  const N = 30_000;
  const tp = performance.now();
  const cp = selfCpuMs();
  const all: Promise<string | null>[] = [];
  for (let i = 0; i < N; i++) all.push(pool.recover(jobs[i & 255].digest, jobs[i & 255].sig));
  await Promise.all(all);
  record(`recover_pool_${WORKERS}_workers_per_s`, N / ((performance.now() - tp) / 1000));
  // all threads of this process (main + workers): recoveries per CPU-second spent
  record(`recover_pool_${WORKERS}_workers_per_cpu_s`, N / ((selfCpuMs() - cp) / 1000));
  await pool.close();
}

async function benchOrders(port: number, traders: Trader[]): Promise<void> {
  // pre-sign (not timed): resting orders on both sides that never cross
  const WARM = 2000;
  const bodies: string[] = [];
  for (let i = 0; i < ORDERS + WARM; i++) {
    const t = traders[i % traders.length];
    const buy = i % 2 === 0;
    bodies.push(orderBody(t, buy ? "BUY" : "SELL", buy ? 590_000 - (i % 5000) : 610_000 + (i % 5000), 1 + (i % 5)));
  }
  const conns = await openConns(port, CONNS);
  const lat: number[] = [];
  let ok = 0;
  let bad = 0;
  let next = 0;
  let firstErr = "";
  // every connection keeps PIPELINE requests in flight until `last` is sent or time is up
  const drive = (last: number, deadline: number, timed: boolean) =>
    Promise.all(
      conns.map(async (c) => {
        const lane = async () => {
          while (next < last && performance.now() < deadline) {
            const b = bodies[next++];
            const s = performance.now();
            const r = await c.post("/fapi/v3/order", b);
            if (!timed) continue;
            lat.push(performance.now() - s);
            if (r.status === 200) ok++;
            else {
              bad++;
              firstErr ||= r.body;
            }
          }
        };
        await Promise.all(Array.from({ length: PIPELINE }, lane));
      }),
    );
  await drive(WARM, performance.now() + 30_000, false); // warm-up: JIT, pools, journal
  const load0 = os.loadavg()[0];
  const r0 = await gauge(port, "gateway_signature_recoveries");
  const b0 = await gauge(port, "gateway_signature_batches");
  const g0 = procCpuMs(gatewayPid);
  const c0 = selfCpuMs();
  const t0 = performance.now();
  await drive(bodies.length, t0 + SECONDS * 1000, true);
  const secs = (performance.now() - t0) / 1000;
  const gCpu = procCpuMs(gatewayPid) - g0;
  const cCpu = selfCpuMs() - c0;
  for (const c of conns) c.close();
  const recovered = (await gauge(port, "gateway_signature_recoveries")) - r0;
  const batches = (await gauge(port, "gateway_signature_batches")) - b0;
  if (bad) console.error(`orders refused: ${bad} (first: ${firstErr})`);
  const n = ok + bad;
  record("orders_signed_http_per_s", ok / secs);
  record("order_ack_p50_ms", pct(lat, 50));
  record("order_ack_p99_ms", pct(lat, 99));
  record("orders_refused", bad);
  record("orders_in_flight", CONNS * PIPELINE);
  record("orders_phase_s", secs);
  record("orders_load_avg_1m", (load0 + os.loadavg()[0]) / 2);
  // CPU actually spent per order (all gateway threads: HTTP + engine + 2 recoveries + journal),
  // and what one fully available core would sustain at that cost
  record("orders_gateway_cpu_us_per_order", (1000 * gCpu) / n);
  record("orders_per_gateway_cpu_s", (1000 * n) / gCpu);
  record("orders_loadgen_cpu_us_per_order", (1000 * cCpu) / n);
  // signatures per message to the recovery workers
  record("orders_recover_batch_mean", recovered / batches);
}

function openWs(url: string): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => res(ws));
    ws.once("error", rej);
  });
}

async function benchOrderToDelta(port: number, t: Trader, rate: number, N: number, base: number): Promise<void> {
  const ws = await openWs(`ws://127.0.0.1:${port}/ws/btcusdt@depth`);
  const sent = new Map<string, number>();
  const lat: number[] = [];
  ws.on("message", (d: Buffer) => {
    const now = performance.now();
    const m = JSON.parse(d.toString()) as { b: [string, string][] };
    for (const [p] of m.b) {
      const s = sent.get(p);
      if (s !== undefined) {
        lat.push(now - s);
        sent.delete(p);
      }
    }
  });
  const bodies = Array.from({ length: N }, (_, i) => {
    const ticks = base - i;
    return { body: orderBody(t, "BUY", ticks, 1), price: `${(ticks - (ticks % 10)) / 10}.${ticks % 10}` };
  });
  const conns = await openConns(port, 8);
  const warm = Math.floor(N / 10); // the first tenth warms up and is not counted
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (i >= warm) sent.set(bodies[i].price, performance.now());
    inflight.push(conns[i % conns.length].post("/fapi/v3/order", bodies[i].body));
  }
  await Promise.all(inflight);
  await sleep(300);
  ws.close();
  for (const c of conns) c.close();
  record(`order_to_ws_delta_p50_ms_at_${rate}_per_s`, pct(lat, 50));
  record(`order_to_ws_delta_p99_ms_at_${rate}_per_s`, pct(lat, 99));
  record(`order_to_ws_delta_received_at_${rate}_per_s`, lat.length);
  record(`order_to_ws_delta_load_avg_1m_at_${rate}_per_s`, os.loadavg()[0]);
}

/**
 * A lean WebSocket subscriber for the fan-out phase: the upgrade by hand, then server frames
 * (unmasked) cut from the socket's bytes. Thousands of these share this process with the
 * rest of the load generator, so each delivery costs the client as little as possible; what
 * is timed is the frame reaching the subscriber's socket.
 */
class RawSub {
  private readonly sock: net.Socket;
  private buf: Buffer | null = null;
  private upgraded = false;
  readonly ready: Promise<void>;
  private onReady!: () => void;

  constructor(
    port: number,
    p: string,
    private readonly onText: (payload: Buffer) => void,
  ) {
    this.sock = net.connect(port, "127.0.0.1", () =>
      this.sock.write(
        `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    this.ready = new Promise((res, rej) => {
      this.onReady = res;
      this.sock.once("error", rej);
    });
    this.sock.on("data", (d: Buffer) => this.onData(d));
  }

  private onData(d: Buffer): void {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = null;
    if (!this.upgraded) {
      const end = b.indexOf("\r\n\r\n");
      if (end < 0) {
        this.buf = b;
        return;
      }
      if (b.toString("latin1", 9, 12) !== "101") throw new Error(`ws upgrade refused: ${b.toString("latin1", 0, end)}`);
      this.upgraded = true;
      this.onReady();
      b = b.subarray(end + 4);
    }
    let off = 0;
    while (b.length - off >= 2) {
      const op = b[off] & 0x0f;
      let len = b[off + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (b.length - off < 4) break;
        len = b.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (b.length - off < 10) break;
        len = Number(b.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      if (b.length - off < hdr + len) break;
      if (op === 1) this.onText(b.subarray(off + hdr, off + hdr + len));
      off += hdr + len;
    }
    if (off < b.length) this.buf = b.subarray(off);
  }

  close(): void {
    this.sock.destroy();
  }
}

async function benchFanout(port: number, t: Trader, subs: number): Promise<void> {
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let delivered = 0;
  const BID = Buffer.from('"b":[["');
  const onText = (d: Buffer) => {
    const now = performance.now();
    delivered++;
    // the bid price is at a fixed place in this bench's messages; no full parse per message
    const i = d.indexOf(BID);
    if (i < 0) return;
    const from = i + BID.length;
    const p = d.toString("latin1", from, d.indexOf(34, from));
    const t0 = sent.get(p);
    if (t0 !== undefined) lat.push(now - t0);
  };
  const conns: RawSub[] = [];
  for (let i = 0; i < subs; i += 200) {
    const batch = Array.from({ length: Math.min(200, subs - i) }, () => new RawSub(port, "/ws/btcusdt@depth", onText));
    await Promise.all(batch.map((c) => c.ready));
    conns.push(...batch);
  }
  await sleep(200);
  const load0 = os.loadavg()[0];
  // 10 events/s, the pace of a @depth@100ms stream
  const EVENTS = 50;
  for (let i = 0; i < EVENTS; i++) {
    const ticks = 560_000 - subs - i;
    const price = `${Math.floor(ticks / 10)}.${ticks % 10}`;
    const body = orderBody(t, "BUY", ticks, 1);
    if (i >= 3) sent.set(price, performance.now()); // the first three warm up
    await post(port, "/fapi/v3/order", body);
    await sleep(100);
  }
  for (let k = 0; k < 100 && delivered < EVENTS * subs; k++) await sleep(50);
  record(`fanout_${subs}_subs_delivery_p50_ms`, pct(lat, 50));
  record(`fanout_${subs}_subs_delivery_p99_ms`, pct(lat, 99));
  record(`fanout_${subs}_subs_delivered_pct`, (100 * delivered) / (EVENTS * subs));
  record(`fanout_${subs}_subs_load_avg_1m`, (load0 + os.loadavg()[0]) / 2);
  for (const c of conns) c.close();
  await sleep(500);
}

async function main(): Promise<void> {
  // this machine is shared: the 1-minute load average shows how contended the run was
  record("load_avg_1m_at_start", os.loadavg()[0]);
  record("cpus", os.cpus().length);
  if (PARTS.has("recover")) await benchRecover();
  const traders = Array.from({ length: 32 }, makeTrader);
  const port = 18000 + Math.floor(Math.random() * 1000);
  const needGateway = ["orders", "delta", "fanout"].some((x) => PARTS.has(x));
  const gw = needGateway
    ? await startGateway(
        port,
        traders.map((t) => t.address),
      )
    : undefined;
  try {
    if (PARTS.has("orders")) await benchOrders(port, traders);
    if (PARTS.has("delta")) await benchOrderToDelta(port, traders[1], 1000, 5000, 570_000);
    if (PARTS.has("delta")) await benchOrderToDelta(port, traders[4], 200, 1000, 564_000);
    if (PARTS.has("fanout")) await benchFanout(port, traders[2], 1000);
    if (PARTS.has("fanout")) await benchFanout(port, traders[3], 5000);
  } finally {
    gw?.kill("SIGTERM");
  }
  record("load_avg_1m_at_end", os.loadavg()[0]);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\ngateway bench (loopback, gateway in a separate process, ${WORKERS} recover workers)\n`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench-results", "gateway.json"), JSON.stringify(results, null, 2) + "\n");
  agent.destroy();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
