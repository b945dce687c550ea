// Compiles subgraph/tests/mathHarness.ts (which re-exports subgraph/src/math.ts) with the subgraph's
// own AssemblyScript compiler and instantiates it with graph-node's BigInt host functions implemented
// on JavaScript bigints, so mocha can call the mappings' arithmetic directly.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const HARNESS = "subgraph/tests/mathHarness.ts";

/** The assemblyscript package graph-cli compiles mappings with (not whatever else is hoisted). */
function ascBin(): string {
  // node's own lookup from graph-cli's folder; assemblyscript's exports map hides package.json
  let dir = path.dirname(require.resolve("@graphprotocol/graph-cli/package.json", { paths: [ROOT] }));
  for (;;) {
    const bin = path.join(dir, "node_modules", "assemblyscript", "bin", "asc");
    if (fs.existsSync(bin)) return bin;
    const up = path.dirname(dir);
    if (up === dir) throw new Error("assemblyscript (graph-cli's compiler) is not installed: run npm install");
    dir = up;
  }
}

export interface PositionUpdate {
  size: bigint;
  cost: bigint;
  realized: bigint;
}

export interface WasmMath {
  divFloor(a: bigint, b: bigint): bigint;
  divCeil(a: bigint, b: bigint): bigint;
  positionValue(size: bigint, price: bigint): bigint;
  notionalCeil(size: bigint, price: bigint): bigint;
  buyerPays(size: bigint, price: bigint): bigint;
  sellerReceives(size: bigint, price: bigint): bigint;
  fillVolume(size: bigint, price: bigint): bigint;
  fillFeePool(size: bigint, price: bigint, makerFee: bigint, takerFee: bigint): bigint;
  tradeCashFlow(delta: bigint, price: bigint): bigint;
  openInterestDelta(oldSize: bigint, newSize: bigint): bigint;
  applyTrade(size: bigint, cost: bigint, delta: bigint, price: bigint): PositionUpdate;
  unrealizedPnl(size: bigint, cost: bigint, mark: bigint): bigint;
  entryPrice(size: bigint, cost: bigint): bigint;
  fundingPayment(size: bigint, indexDelta: bigint): bigint;
  fundingIndexDelta(price: bigint, ratePpm: bigint): bigint;
  bucketStart(timestamp: bigint, period: bigint): bigint;
}

/** Minimal little-endian two's complement bytes, as graph-node's BigInt (num-bigint) writes them. */
export function toSignedBytesLE(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(BigInt.asUintN(8, x));
    out.push(byte);
    x >>= 8n; // arithmetic shift: sign-extends
    const signBit = (byte & 0x80) !== 0;
    if ((x === 0n && !signBit) || (x === -1n && signBit)) break;
  }
  return Uint8Array.from(out);
}

export function fromSignedBytesLE(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return BigInt.asIntN(8 * b.length, x);
}

export function compileMathWasm(outDir = fs.mkdtempSync(path.join(os.tmpdir(), "subgraph-math-"))): string {
  const out = path.join(outDir, "math.wasm");
  execFileSync(
    process.execPath,
    [
      ascBin(),
      HARNESS,
      "--runtime",
      "stub",
      "--exportRuntime",
      "--lib",
      "node_modules",
      "--outFile",
      out,
      "--optimize",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  return out;
}

type Ptr = number;

export async function loadMathWasm(wasmFile: string): Promise<WasmMath> {
  type Exports = Record<string, (...a: unknown[]) => unknown> & { memory: WebAssembly.Memory };
  // the host functions need the instance's exports, which exist only after instantiation
  const inst: { exports?: Exports } = {};
  const ex = (): Exports => inst.exports as Exports;
  const view = () => new DataView(ex().memory.buffer);
  // AssemblyScript 0.19 typed array layout: buffer @0, dataStart @4, byteLength @8.
  const read = (p: Ptr): bigint => {
    const dv = view();
    const start = dv.getUint32(p + 4, true);
    const len = dv.getUint32(p + 8, true);
    return fromSignedBytesLE(new Uint8Array(ex().memory.buffer.slice(start, start + len)));
  };
  const write = (v: bigint): Ptr => {
    const bytes = toSignedBytesLE(v);
    const p = ex().allocBigInt(bytes.length) as Ptr;
    const start = view().getUint32(p + 4, true);
    new Uint8Array(ex().memory.buffer, start, bytes.length).set(bytes);
    return p;
  };
  const readString = (p: Ptr): string => {
    const len = view().getUint32(p - 4, true); // rtSize of the string, in bytes
    return Buffer.from(ex().memory.buffer.slice(p, p + len)).toString("utf16le");
  };
  // graph-node's BigInt host: num-bigint, so division and remainder truncate toward zero.
  const bin =
    (f: (x: bigint, y: bigint) => bigint) =>
    (x: Ptr, y: Ptr): Ptr =>
      write(f(read(x), read(y)));
  const nonZero = (y: bigint) => {
    if (y === 0n) throw new Error("bigInt: division by zero");
    return y;
  };
  const numbers = {
    "bigInt.plus": bin((x, y) => x + y),
    "bigInt.minus": bin((x, y) => x - y),
    "bigInt.times": bin((x, y) => x * y),
    "bigInt.dividedBy": bin((x, y) => x / nonZero(y)),
    "bigInt.mod": bin((x, y) => x % nonZero(y)),
    "bigInt.bitOr": bin((x, y) => x | y),
    "bigInt.bitAnd": bin((x, y) => x & y),
    "bigInt.pow": (x: Ptr, e: number) => write(read(x) ** BigInt(e)),
    "bigInt.leftShift": (x: Ptr, bits: number) => write(read(x) << BigInt(bits)),
    "bigInt.rightShift": (x: Ptr, bits: number) => write(read(x) >> BigInt(bits)),
  };
  const env = {
    abort: (msg: Ptr, file: Ptr, line: number, col: number) => {
      const text = msg ? readString(msg) : "abort";
      throw new Error(`wasm abort: ${text} at ${file ? readString(file) : "?"}:${line}:${col}`);
    },
  };
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), { env, numbers });
  inst.exports = instance.exports as Exports;
  const exp = ex();

  const fn =
    (name: string) =>
    (...args: bigint[]): bigint =>
      read(exp[name](...args.map(write)) as Ptr);
  const names = [
    "divFloor",
    "divCeil",
    "positionValue",
    "notionalCeil",
    "buyerPays",
    "sellerReceives",
    "fillVolume",
    "fillFeePool",
    "tradeCashFlow",
    "openInterestDelta",
    "unrealizedPnl",
    "entryPrice",
    "fundingPayment",
    "fundingIndexDelta",
  ] as const;
  const api = Object.fromEntries(names.map((n) => [n, fn(n)])) as unknown as WasmMath;
  api.applyTrade = (size, cost, delta, price) => {
    const u = exp.applyTrade(write(size), write(cost), write(delta), write(price)) as Ptr;
    return {
      size: read(exp.updateSize(u) as Ptr),
      cost: read(exp.updateCost(u) as Ptr),
      realized: read(exp.updateRealized(u) as Ptr),
    };
  };
  api.bucketStart = (timestamp, period) => exp.bucketStart(timestamp, period) as bigint;
  return api;
}
