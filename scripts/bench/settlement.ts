// `npm run bench:settlement`: the settler and the listener against a local chain: the Hardhat node
// (JavaScript EVM) and anvil (Rust EVM, npm package @foundry-rs/anvil), the same workload on each in one run.
//
// Measures, with fresh signed orders for every fill (as the contract's gas benchmark "fresh" case):
// - sustained settlement: fills/s from the first fill appended to the last one confirmed (burst load),
// - fill to confirmed: p50 and p99 per fill (append to the durable log -> result on the bus),
// - chain event to bus push: from the moment a block is first visible over RPC to its events on the
//   bus channel the gateway's WebSocket layer subscribes to (p50/p99; a block whose push arrives before the
//   5 ms watcher has seen it is counted in chain_event_pushed_before_seen instead),
// - the same under a steady load: BENCH_PACED_FILLS (default 5000) more fresh fills appended at
//   BENCH_PACED_RATE (default 1000/s, the sustained target) on a 10 ms schedule after the burst: paced_*
//   figures (achieved fills/s, fill to confirmed, chain event to bus push; BENCH_PACED_FILLS=0 skips it),
// - gas per fill,
// - where a batch's time goes (median over the batches, ms), with up to BENCH_IN_FLIGHT (default 4) batches
//   in flight: build (the settler's queue read, batch number, latest block, hashing, operator signature,
//   encoding), simulate (its eth_call; none for a batch chained on others in flight), record (batch and
//   fill rows in the store), submit (the tx manager: fees, transaction signing, intent and attempt rows,
//   broadcast), send (eth_sendRawTransaction), receipt (send to the tx manager's receipt: the node mines
//   it), result (receipt to the settler's results: store, outbox), cycle (between two batches' results:
//   the sustained time per batch) and the listener's push after the send returned.
// The listener runs with its default reorg window (12: blocks followed one by one, parent hashes checked).
// Chains: BENCH_CHAIN=hardhat|anvil|both (default both). Both run automine with the Hardhat network's
// settings (chain id 31337, 60M block gas limit, Osaka, the test mnemonic's accounts, default code size limit).
// Figures carry the chain in their names (fills_per_s_hardhat, fills_per_s_anvil, ...).
// Store and bus: DATABASE_URL / REDIS_URL when set, else PGlite in memory and the in-process bus.
// Listener: BENCH_LISTENER=process runs it in its own process (scripts/bench/listenerProcess.ts, as
// `npm run keeper` with SETTLER_ENABLED=false beside a settler-only keeper) against the same Postgres and
// Redis; it needs DATABASE_URL and REDIS_URL and is the default when both are set. BENCH_LISTENER=inline
// runs it in the settler's process (one event loop for both: the default without a real store and bus).
// Writes bench-results/settlement.json. BENCH_FILLS (default 2400) and BENCH_MAX_FILLS (batch, 400).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import {
  createPublicClient,
  createWalletClient,
  http,
  maxUint256,
  type EIP1193RequestFn,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockUSDAbi } from "../../sdk/abi";
import { exchangeDomain, signOrder, type Order } from "../../sdk/eip712";
import { feeCap } from "../../sdk/margin";
import { deployExchange } from "../lib/deployExchange";
import { openBus } from "../../keeper/bus";
import { migrate, openDb, dropSchema } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import { createLogger, silentLogger } from "../../keeper/log";
import { Settler, orderToJson, type FillMessage, type SettlementResult } from "../../keeper/settler";
import { CHAIN_EVENTS, FILLS, SETTLEMENT_RESULTS } from "../../keeper/topics";
import { TxManager } from "../../keeper/tx";

const ROOT = path.resolve(__dirname, "../..");
const N = Number(process.env.BENCH_FILLS ?? 2400);
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 1000);
const PACED_FILLS = Number(process.env.BENCH_PACED_FILLS ?? 5000);
const MAX_FILLS = Number(process.env.BENCH_MAX_FILLS ?? 400);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const LISTENER_MODE = (process.env.BENCH_LISTENER ??
  (process.env.DATABASE_URL && process.env.REDIS_URL ? "process" : "inline")) as "process" | "inline";
if (LISTENER_MODE !== "process" && LISTENER_MODE !== "inline")
  throw new Error(`BENCH_LISTENER: ${String(LISTENER_MODE)}? (process or inline)`);
if (LISTENER_MODE === "process" && !(process.env.DATABASE_URL && process.env.REDIS_URL))
  throw new Error("BENCH_LISTENER=process needs DATABASE_URL and REDIS_URL (the listener process shares them)");
const OPERATOR = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" as Hex;
const MNEMONIC = "test test test test test test test test test test test junk";
const GAS_LIMIT = 60_000_000;

type ChainKind = "hardhat" | "anvil";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** The anvil binary of the platform package (spawned directly: the npm wrapper would outlive a SIGKILL). */
function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  try {
    return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`);
  } catch {
    return path.join(ROOT, "node_modules/.bin/anvil");
  }
}

async function startNode(kind: ChainKind, port: number): Promise<ChildProcess> {
  const node =
    kind === "hardhat"
      ? spawn(
          path.join(ROOT, "node_modules/.bin/hardhat"),
          ["node", "--hostname", "127.0.0.1", "--port", String(port)],
          {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
          },
        )
      : spawn(
          anvilBinary(),
          [
            ...["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337"],
            ...["--gas-limit", String(GAS_LIMIT), "--hardfork", "osaka", "--mnemonic", MNEMONIC],
            ...["--accounts", "20", "--balance", "10000"],
          ],
          { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
        );
  process.on("exit", () => node.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    node.once("exit", (code) => reject(new Error(`${kind} node exited (${code}) before listening`)));
    node.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Started HTTP") || out.includes("Listening on")) resolve();
    });
  });
  node.removeAllListeners("exit");
  node.stdout!.resume();
  return node;
}

/** Timeline of the batches, from RPC calls and callbacks: the k-th mark of each kind belongs to batch k. */
interface Mark {
  what: "sendStart" | "sendEnd" | "receipt" | "result" | "push";
  t: number;
}

interface Built {
  buildMs: number;
  simulateMs: number;
  recordMs: number;
  submitMs: number;
}

/** The HTTP transport with a hook around every request (method, params, duration, result). */
function timedHttp(
  url: string,
  on: (method: string, params: unknown, t0: number, t1: number, result: unknown) => void,
): Transport {
  const base = http(url);
  return ((opts: Parameters<Transport>[0]) => {
    const t = base(opts);
    const request = (async (args: { method: string; params?: unknown }) => {
      const t0 = performance.now();
      const result = await t.request(args as never);
      on(args.method, args.params, t0, performance.now(), result);
      return result;
    }) as EIP1193RequestFn;
    return { ...t, request };
  }) as Transport;
}

async function runChain(kind: ChainKind) {
  const port = await freePort();
  const node = await startNode(kind, port);
  const url = `http://127.0.0.1:${port}`;
  const chain = {
    id: 31337,
    name: kind,
    nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  };
  const marks: Mark[] = [];
  const receiptSeen = new Set<string>();
  const rpcMs = new Map<string, { n: number; ms: number }>();
  const rpcStat = (who: string, method: string, ms: number) => {
    const k = `${who}:${method}`;
    const s = rpcMs.get(k) ?? { n: 0, ms: 0 };
    s.n++;
    s.ms += ms;
    rpcMs.set(k, s);
  };
  const settlerClient = createPublicClient({
    chain,
    cacheTime: 0,
    pollingInterval: 20,
    transport: timedHttp(url, (method, params, t0, t1) => {
      const big = method === "eth_call" && ((params as [{ data?: string }])[0]?.data?.length ?? 0) > 10_000;
      rpcStat("settler", big ? "eth_call(settle)" : method, t1 - t0);
    }),
  }) as PublicClient;
  const txClient = createPublicClient({
    chain,
    cacheTime: 0,
    pollingInterval: 20,
    transport: timedHttp(url, (method, params, t0, t1, result) => {
      rpcStat("tx", method, t1 - t0);
      if (method === "eth_sendRawTransaction") marks.push({ what: "sendStart", t: t0 }, { what: "sendEnd", t: t1 });
      const hash = (params as string[] | undefined)?.[0];
      if (method === "eth_getTransactionReceipt" && result && !receiptSeen.has(hash!)) {
        receiptSeen.add(hash!);
        marks.push({ what: "receipt", t: t1 });
      }
    }),
  }) as PublicClient;
  const listenerClient = createPublicClient({
    chain,
    cacheTime: 0,
    pollingInterval: 20,
    transport: timedHttp(url, (method, _params, t0, t1) => rpcStat("listener", method, t1 - t0)),
  }) as PublicClient;
  const client = createPublicClient({ chain, transport: http(url), cacheTime: 0, pollingInterval: 20 }) as PublicClient;
  const deployer = createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(OPERATOR) });
  const d = await deployExchange({ publicClient: client, walletClient: deployer });
  const wait = (h: Hex) => client.waitForTransactionReceipt({ hash: h });
  await wait(
    await deployer.writeContract({
      address: d.collateral,
      abi: mockUSDAbi,
      functionName: "mint",
      args: [deployer.account.address, 10n ** 18n],
    }),
  );
  await wait(
    await deployer.writeContract({
      address: d.collateral,
      abi: mockUSDAbi,
      functionName: "approve",
      args: [d.exchange, maxUint256],
    }),
  );

  // traders and fresh signed orders: fill i between trader i%T (maker) and (i+1)%T (taker)
  const T = 40;
  const traders = Array.from({ length: T }, () => privateKeyToAccount(generatePrivateKey()));
  for (const t of traders)
    await wait(
      await deployer.writeContract({
        address: d.exchange,
        abi: exchangeAbi,
        functionName: "depositFor",
        args: [t.address, 1_000_000n * 10n ** 6n],
      }),
    );
  const domain = exchangeDomain(31337, d.exchange);
  const nonces = new Map<string, bigint>();
  const take = (a: string) => {
    const n = nonces.get(a) ?? 0n;
    nonces.set(a, n + 1n);
    return n;
  };
  const size = 10_000n;
  const px = 60_000_000_000n;
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 86_400);
  process.stderr.write(`[${kind}] signing ${2 * (N + PACED_FILLS)} orders...\n`);
  const fills: FillMessage[] = [];
  for (let i = 0; i < N + PACED_FILLS; i++) {
    const m = traders[i % T];
    const t = traders[((i % T) + 1 + (Math.floor(i / T) % (T - 1))) % T]; // never the maker
    const makerIsBuy = i % 2 === 0;
    const mo: Order = {
      account: m.address,
      market: 0,
      isBuy: makerIsBuy,
      reduceOnly: false,
      price: px,
      size,
      nonce: take(m.address),
      expiry,
    };
    const to: Order = {
      account: t.address,
      market: 0,
      isBuy: !makerIsBuy,
      reduceOnly: false,
      price: px,
      size,
      nonce: take(t.address),
      expiry,
    };
    fills.push({
      tradeId: i + 1,
      maker: { order: orderToJson(mo), signature: await signOrder(m, domain, mo) },
      taker: { order: orderToJson(to), signature: await signOrder(t, domain, to) },
      size: size.toString(),
      price: px.toString(),
      makerFee: feeCap(size, px, -100n).toString(),
      takerFee: feeCap(size, px, 500n).toString(),
    });
  }

  const schema = `bench_settle_${kind}_${process.pid}`;
  const db = await openDb({ url: process.env.DATABASE_URL, schema: process.env.DATABASE_URL ? schema : undefined });
  await migrate(db);
  const busPrefix = `bench:${kind}:${process.pid}:`;
  const bus = openBus({ url: process.env.REDIS_URL, prefix: busPrefix });
  const gasKey = generatePrivateKey();
  await client.request({
    method: (kind === "hardhat" ? "hardhat_setBalance" : "anvil_setBalance") as never,
    params: [privateKeyToAccount(gasKey).address, "0x56BC75E2D63100000"] as never,
  });
  const tx = new TxManager({
    db,
    client: txClient,
    account: privateKeyToAccount(gasKey),
    chainId: 31337,
    pollMs: 10,
    feeCacheMs: 1000,
    log: silentLogger,
  });
  const built: Built[] = [];
  await tx.init();
  tx.start();
  const gasPerBatch: { fills: number; gas: bigint }[] = [];
  const settler = new Settler({
    db,
    bus,
    client: settlerClient,
    exchange: d.exchange,
    chainId: 31337,
    operator: privateKeyToAccount(OPERATOR),
    tx,
    maxFills: MAX_FILLS,
    maxInFlight: IN_FLIGHT,
    maxWaitMs: 100,
    pollMs: 5,
    log: process.env.BENCH_LOG ? createLogger("bench.settler", "info") : silentLogger,
    onSubmitted: (b) => built.push(b),
    onBatch: (b) => {
      gasPerBatch.push({ fills: b.fills, gas: b.gasUsed });
      marks.push({ what: "result", t: performance.now() });
    },
  });
  const fromBlock = (await client.getBlockNumber()) + 1n;
  const listener =
    LISTENER_MODE === "inline"
      ? new Listener({
          db,
          bus,
          client: listenerClient,
          exchange: d.exchange,
          fromBlock,
          pollMs: 5,
          log: silentLogger,
        })
      : undefined;

  // block first seen over RPC (5 ms poll) vs its events on the bus channel
  const firstSeen = new Map<string, number>();
  let watching = true;
  const watcher = (async () => {
    let last = fromBlock - 1n;
    while (watching) {
      const h = await client.getBlockNumber({ cacheTime: 0 });
      const now = performance.now();
      for (let b = last + 1n; b <= h; b++) firstSeen.set(b.toString(), now);
      last = h;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const pushLat: number[] = [];
  const pacedPushLat: number[] = [];
  let pushSink = pushLat; // the phase the samples belong to
  let pushedBeforeSeen = 0;
  const seenBlocks = new Set<string>();
  await bus.subscribe(CHAIN_EVENTS, (m) => {
    const e = m as { type: string; blockNumber: string };
    if (e.type !== "event" || seenBlocks.has(e.blockNumber)) return;
    seenBlocks.add(e.blockNumber);
    const now = performance.now();
    marks.push({ what: "push", t: now });
    const t0 = firstSeen.get(e.blockNumber);
    if (t0 !== undefined) pushSink.push(now - t0);
    else pushedBeforeSeen++; // the listener's push came before the watcher saw the block: no sample
  });
  const appendedAt = new Map<number, number>();
  const latencies: number[] = [];
  const pacedLatencies: number[] = [];
  let latSink = latencies;
  let done = 0;
  let lastAt = 0;
  let ok = 0;
  await bus.subscribe(SETTLEMENT_RESULTS, (m) => {
    const r = m as SettlementResult;
    const t0 = appendedAt.get(r.tradeId);
    if (t0 === undefined) return;
    appendedAt.delete(r.tradeId);
    latSink.push(performance.now() - t0);
    if (r.status === "settled") ok++;
    done++;
    lastAt = performance.now();
  });
  const listenerChild =
    LISTENER_MODE === "process"
      ? await startListenerProcess({
          RPC_URL: url,
          EXCHANGE: d.exchange,
          FROM_BLOCK: fromBlock.toString(),
          DATABASE_URL: process.env.DATABASE_URL!,
          DB_SCHEMA: schema,
          REDIS_URL: process.env.REDIS_URL!,
          BUS_PREFIX: busPrefix,
        })
      : undefined;
  listener?.start();
  settler.start();

  process.stderr.write(`[${kind}] settling ${N} fills, batches of up to ${MAX_FILLS}...\n`);
  const start = performance.now();
  for (let i = 0; i < N; i += 200) {
    const chunk = fills.slice(i, Math.min(i + 200, N));
    const now = performance.now();
    for (const f of chunk) appendedAt.set(f.tradeId, now);
    await bus.appendMany(FILLS, chunk);
  }
  while (done < N) {
    await new Promise((r) => setTimeout(r, 20));
    if (performance.now() - start > 600_000) throw new Error(`${kind}: timeout: ${done}/${N} final`);
  }
  const seconds = (lastAt - start) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const burstMarks = marks.length;
  const okBurst = ok;
  const burstBatches = gasPerBatch.length;
  const burstBuilt = built.length;

  // paced: PACED_RATE fills/s appended every 10 ms on schedule (the sustained target as a steady load,
  // batches formed by time), the chain-to-push latency and fill-to-confirmed measured under it
  const paced = fills.slice(N);
  let pacedSeconds = 0;
  if (paced.length > 0) {
    process.stderr.write(`[${kind}] paced: ${paced.length} fills at ${PACED_RATE}/s...\n`);
    pushSink = pacedPushLat;
    latSink = pacedLatencies;
    const pStart = performance.now();
    let sent = 0;
    while (sent < paced.length) {
      const due = Math.min(paced.length, Math.floor(((performance.now() - pStart) / 1000) * PACED_RATE));
      if (due > sent) {
        const chunk = paced.slice(sent, due);
        const now = performance.now();
        for (const f of chunk) appendedAt.set(f.tradeId, now);
        await bus.appendMany(FILLS, chunk);
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    while (done < N + paced.length) {
      await new Promise((r) => setTimeout(r, 20));
      if (performance.now() - pStart > 600_000) throw new Error(`${kind}: paced timeout: ${done}/${N + paced.length}`);
    }
    pacedSeconds = (lastAt - pStart) / 1000;
    await new Promise((r) => setTimeout(r, 300));
  }
  watching = false;
  await watcher;
  await settler.stop();
  await tx.stop();
  await listener?.stop();
  if (listenerChild) await stopProcess(listenerChild);

  const totalGas = gasPerBatch.reduce((s, b) => s + b.gas, 0n);
  const totalFills = gasPerBatch.reduce((s, b) => s + b.fills, 0);
  const result = {
    fills: N,
    settled: okBurst,
    batch_max_fills: MAX_FILLS,
    max_in_flight: IN_FLIGHT,
    listener_own_process: LISTENER_MODE === "process" ? 1 : 0,
    batches: burstBatches,
    fills_per_s: r2(N / seconds),
    fill_to_confirmed_p50_ms: r2(pct(latencies, 50)),
    fill_to_confirmed_p99_ms: r2(pct(latencies, 99)),
    chain_event_to_bus_push_p50_ms: r2(pct(pushLat, 50)),
    chain_event_to_bus_push_p99_ms: r2(pct(pushLat, 99)),
    chain_event_samples: pushLat.length,
    chain_event_pushed_before_seen: pushedBeforeSeen,
    paced_target_fills_per_s: PACED_RATE,
    paced_fills: paced.length,
    paced_settled: ok - okBurst,
    paced_batches: gasPerBatch.length - burstBatches,
    paced_fills_per_s: pacedSeconds ? r2(paced.length / pacedSeconds) : 0,
    paced_fill_to_confirmed_p50_ms: r2(pct(pacedLatencies, 50)),
    paced_fill_to_confirmed_p99_ms: r2(pct(pacedLatencies, 99)),
    paced_chain_event_to_bus_push_p50_ms: r2(pct(pacedPushLat, 50)),
    paced_chain_event_to_bus_push_p99_ms: r2(pct(pacedPushLat, 99)),
    paced_chain_event_samples: pacedPushLat.length,
    gas_per_fill: totalFills ? Number(totalGas / BigInt(totalFills)) : 0,
    gas_per_batch_max: Number(gasPerBatch.reduce((m, b) => (b.gas > m ? b.gas : m), 0n)),
  };
  const storeBus = `store ${db.kind}, bus ${bus.kind}, listener ${LISTENER_MODE === "process" ? "in its own process" : "in the settler's process"}`;
  await bus.close();
  await db.close();
  if (process.env.DATABASE_URL) await dropSchema(process.env.DATABASE_URL, schema);
  node.kill("SIGKILL");
  return {
    result,
    breakdown: breakdown(marks.slice(0, burstMarks), built.slice(0, burstBuilt)),
    rpc: rpcMs,
    storeBus,
  };
}

/** Starts scripts/bench/listenerProcess.ts and waits for its "ready". */
async function startListenerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "listenerProcess.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`listener process exited (${code}) before it was ready`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

/**
 * Median per phase over the batches. The settler reports its own phases (build, simulate, record, submit);
 * the rest pairs the k-th send, receipt, result and event push with batch k (batches settle in order).
 */
function breakdown(marks: Mark[], built: Built[]) {
  const ms = [...marks].sort((a, b) => a.t - b.t);
  const of = (w: Mark["what"]) => ms.filter((m) => m.what === w).map((m) => m.t);
  const [sendStart, sendEnd, receipt, result, push] = [
    of("sendStart"),
    of("sendEnd"),
    of("receipt"),
    of("result"),
    of("push"),
  ];
  const phases: Record<string, number[]> = {
    build: built.map((b) => b.buildMs),
    simulate: built.map((b) => b.simulateMs),
    record: built.map((b) => b.recordMs),
    submit: built.map((b) => b.submitMs),
    send: [],
    receipt: [],
    result: [],
    cycle: [],
    listener_push: [],
  };
  for (let k = 0; k < result.length; k++) {
    if (sendEnd[k] !== undefined) phases.send.push(sendEnd[k] - sendStart[k]);
    if (receipt[k] !== undefined && sendEnd[k] !== undefined) phases.receipt.push(receipt[k] - sendEnd[k]);
    if (receipt[k] !== undefined) phases.result.push(result[k] - receipt[k]);
    if (k > 0) phases.cycle.push(result[k] - result[k - 1]);
    if (push[k] !== undefined && sendEnd[k] !== undefined) phases.listener_push.push(push[k] - sendEnd[k]);
  }
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, r2(pct(v, 50))]));
}

async function main() {
  const which = (process.env.BENCH_CHAIN ?? "both").toLowerCase();
  const kinds: ChainKind[] = which === "both" ? ["hardhat", "anvil"] : [which as ChainKind];
  for (const k of kinds) if (k !== "hardhat" && k !== "anvil") throw new Error(`BENCH_CHAIN: ${which}?`);
  const runs: Partial<Record<ChainKind, Awaited<ReturnType<typeof runChain>>>> = {};
  for (const k of kinds) runs[k] = await runChain(k);

  const flat: Record<string, number> = {};
  for (const k of kinds) {
    for (const [f, v] of Object.entries(runs[k]!.result)) flat[`${f}_${k}`] = v;
    for (const [f, v] of Object.entries(runs[k]!.breakdown)) flat[`batch_${f}_p50_ms_${k}`] = v;
  }
  flat.load_avg_1m = r2(os.loadavg()[0]);
  fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench-results/settlement.json"), JSON.stringify(flat, null, 2) + "\n");

  console.log(
    `settlement bench: ${runs[kinds[0]]!.storeBus}, automine (one batch per block), burst load, fresh orders per ` +
      "fill; chain-to-push is measured to the bus channel the gateway subscribes to",
  );
  const figures = Object.keys(runs[kinds[0]]!.result);
  console.table(
    figures.map((figure) => ({
      figure,
      ...Object.fromEntries(kinds.map((k) => [k, (runs[k]!.result as Record<string, number>)[figure]])),
    })),
  );
  console.log("one batch cycle, median ms (see the header of scripts/bench/settlement.ts):");
  console.table(
    Object.keys(runs[kinds[0]]!.breakdown).map((phase) => ({
      phase,
      ...Object.fromEntries(kinds.map((k) => [k, (runs[k]!.breakdown as Record<string, number>)[phase]])),
    })),
  );
  console.log("RPC time by caller and method (calls, total ms):");
  const keys = [...new Set(kinds.flatMap((k) => [...runs[k]!.rpc.keys()]))].sort();
  console.table(
    keys.map((key) => ({
      call: key,
      ...Object.fromEntries(
        kinds.map((k) => {
          const s = runs[k]!.rpc.get(key);
          return [k, s ? `${s.n} / ${Math.round(s.ms)}` : "-"];
        }),
      ),
    })),
  );
  console.log(`load_avg_1m ${flat.load_avg_1m}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
