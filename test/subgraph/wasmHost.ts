// What the subgraph tests need to run AssemblyScript from subgraph/ in node: the subgraph's own
// compiler (graph-cli's assemblyscript), and the parts of graph-node's host API the code imports,
// implemented on JavaScript values. Memory layouts are those of AssemblyScript 0.19 (stub runtime).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const ROOT = path.resolve(__dirname, "../..");

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

const compiled = new Map<string, Promise<string>>();

/**
 * Compiles an AssemblyScript entry (path relative to the repo root) to a wasm file; resolves to its
 * path. Asynchronous and memoized, so tests can start compiles early and overlap them with other work.
 * (No --optimize: these builds are for tests; graph build compiles the subgraph itself as it ships.)
 */
export function compileAs(entry: string): Promise<string> {
  let p = compiled.get(entry);
  if (!p) {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "subgraph-wasm-")), "out.wasm");
    const args = [ascBin(), entry, "--runtime", "stub", "--exportRuntime", "--lib", "node_modules", "--outFile", out];
    p = execFileAsync(process.execPath, args, { cwd: ROOT }).then(
      () => out,
      (e: { stdout?: string; stderr?: string }) => {
        throw new Error(`asc ${entry} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`, { cause: e });
      },
    );
    compiled.set(entry, p);
  }
  return p;
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

export type Ptr = number;

function stripNul(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  return s.slice(0, end);
}
export type Exports = Record<string, (...a: unknown[]) => unknown> & { memory: WebAssembly.Memory };

/**
 * Reads and writes AssemblyScript values in an instance's memory. The instance must export
 * `allocBytes(len): Uint8Array` (and `stringFromUtf16(b): string` for writeString).
 */
export class AsMemory {
  exports?: Exports;

  get ex(): Exports {
    if (!this.exports) throw new Error("wasm instance not set");
    return this.exports;
  }

  private view(): DataView {
    return new DataView(this.ex.memory.buffer);
  }

  /** A typed array's bytes (layout: buffer @0, dataStart @4, byteLength @8). */
  readBytes(p: Ptr): Uint8Array {
    const dv = this.view();
    const start = dv.getUint32(p + 4, true);
    const len = dv.getUint32(p + 8, true);
    return new Uint8Array(this.ex.memory.buffer.slice(start, start + len));
  }

  writeBytes(bytes: Uint8Array): Ptr {
    const p = this.ex.allocBytes(bytes.length) as Ptr;
    const start = this.view().getUint32(p + 4, true);
    new Uint8Array(this.ex.memory.buffer, start, bytes.length).set(bytes);
    return p;
  }

  readBigInt(p: Ptr): bigint {
    return fromSignedBytesLE(this.readBytes(p));
  }

  writeBigInt(v: bigint): Ptr {
    return this.writeBytes(toSignedBytesLE(v));
  }

  /** A string: UTF-16LE, its byte length in the object header just before it. */
  readString(p: Ptr): string {
    const len = this.view().getUint32(p - 4, true);
    return Buffer.from(this.ex.memory.buffer.slice(p, p + len)).toString("utf16le");
  }

  writeString(s: string): Ptr {
    return this.ex.stringFromUtf16(this.writeBytes(Buffer.from(s, "utf16le"))) as Ptr;
  }

  /** env.abort */
  abort = (msg: Ptr, file: Ptr, line: number, col: number): never => {
    const text = msg ? this.readString(msg) : "abort";
    throw new Error(`wasm abort: ${text} at ${file ? this.readString(file) : "?"}:${line}:${col}`);
  };

  /** graph-node's BigInt host (num-bigint: division and remainder truncate toward zero). */
  bigIntImports(): Record<string, unknown> {
    const bin =
      (f: (x: bigint, y: bigint) => bigint) =>
      (x: Ptr, y: Ptr): Ptr =>
        this.writeBigInt(f(this.readBigInt(x), this.readBigInt(y)));
    const nonZero = (y: bigint) => {
      if (y === 0n) throw new Error("bigInt: division by zero");
      return y;
    };
    return {
      "bigInt.plus": bin((x, y) => x + y),
      "bigInt.minus": bin((x, y) => x - y),
      "bigInt.times": bin((x, y) => x * y),
      "bigInt.dividedBy": bin((x, y) => x / nonZero(y)),
      "bigInt.mod": bin((x, y) => x % nonZero(y)),
      "bigInt.bitOr": bin((x, y) => x | y),
      "bigInt.bitAnd": bin((x, y) => x & y),
      "bigInt.pow": (x: Ptr, e: number) => this.writeBigInt(this.readBigInt(x) ** BigInt(e)),
      "bigInt.leftShift": (x: Ptr, bits: number) => this.writeBigInt(this.readBigInt(x) << BigInt(bits)),
      "bigInt.rightShift": (x: Ptr, bits: number) => this.writeBigInt(this.readBigInt(x) >> BigInt(bits)),
      "bigInt.fromString": (s: Ptr) => this.writeBigInt(BigInt(this.readString(s))),
    };
  }

  /** graph-node's typeConversion host. */
  typeConversionImports(): Record<string, unknown> {
    const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
    return {
      "typeConversion.bytesToHex": (p: Ptr) => this.writeString(hex(this.readBytes(p))),
      "typeConversion.bigIntToString": (p: Ptr) => this.writeString(this.readBigInt(p).toString()),
      "typeConversion.bigIntToHex": (p: Ptr) => {
        const v = this.readBigInt(p);
        return this.writeString(v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
      },
      // graph-node decodes UTF-8 and drops the NUL padding of fixed-size strings
      "typeConversion.bytesToString": (p: Ptr) =>
        this.writeString(stripNul(Buffer.from(this.readBytes(p)).toString("utf8"))),
    };
  }
}
