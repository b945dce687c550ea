// Gas profile of one transaction by source line and by Solidity function, from debug_traceTransaction and
// the compiler's source map (viaIR: the attribution is approximate, inlined code counts where the optimizer
// put it). Used by `GAS_PROFILE=1 npm run bench:gas` on the batch of 50 fresh fills.
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Hex } from "viem";

interface StructLog {
  pc: number;
  op: string;
  gas: number;
  depth: number;
}

interface SourceEntry {
  s: number;
  l: number;
  f: number;
}

function decodeSourceMap(map: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  let prev: SourceEntry = { s: -1, l: -1, f: -1 };
  for (const item of map.split(";")) {
    const [s, l, f] = item.split(":");
    const e = {
      s: s === undefined || s === "" ? prev.s : Number(s),
      l: l === undefined || l === "" ? prev.l : Number(l),
      f: f === undefined || f === "" ? prev.f : Number(f),
    };
    out.push(e);
    prev = e;
  }
  return out;
}

/** pc -> instruction index of a runtime bytecode. */
function pcToInstruction(code: string): Map<number, number> {
  const bytes = Buffer.from(code.replace(/^0x/, ""), "hex");
  const map = new Map<number, number>();
  let i = 0;
  for (let pc = 0; pc < bytes.length; i++) {
    map.set(pc, i);
    const op = bytes[pc];
    pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1;
  }
  return map;
}

/** Prints the `top` costliest source lines and functions of transaction `hash` in contract `name`. */
export async function profileTx(
  hre: HardhatRuntimeEnvironment,
  hash: Hex,
  name: string,
  top = Number(process.env.GAS_PROFILE_TOP ?? 40),
) {
  const fq = `contracts/${name}.sol:${name}`;
  const info = await hre.artifacts.getBuildInfo(fq);
  if (!info) throw new Error(`no build info for ${fq}`);
  const out = info.output.contracts[`contracts/${name}.sol`][name].evm.deployedBytecode;
  const entries = decodeSourceMap(out.sourceMap);
  const instr = pcToInstruction(out.object);
  const files = new Map<number, string>();
  for (const [p, src] of Object.entries(info.output.sources)) files.set((src as { id: number }).id, p);
  const text = new Map<string, string>();
  const sourceOf = (p: string) => {
    if (!text.has(p)) {
      const inInput = info.input.sources[p]?.content;
      text.set(p, inInput ?? fs.readFileSync(path.resolve(p), "utf8"));
    }
    return text.get(p)!;
  };

  const trace = (await hre.network.provider.send("debug_traceTransaction", [
    hash,
    { disableStorage: true, disableMemory: true, disableStack: true },
  ])) as { structLogs: StructLog[]; gas: number };
  const logs = trace.structLogs;
  if (process.env.GAS_PROFILE_KEYS) console.log(Object.keys(logs[0]), logs[logs.length - 1]);
  let maxMem = 0;
  for (const l of logs as (StructLog & { memSize?: number })[])
    if (l.depth === 1 && (l.memSize ?? 0) > maxMem) maxMem = l.memSize!;
  const words = Math.ceil(maxMem / 32);
  console.log(`memory: ${words} words, expansion cost ${3 * words + Math.floor((words * words) / 512)} gas`);
  const byLine = new Map<string, number>();
  const byFn = new Map<string, number>();
  const byOp = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    if (l.depth !== 1) continue;
    let j = i + 1;
    while (j < logs.length && logs[j].depth !== 1) j++;
    const cost = j < logs.length ? l.gas - logs[j].gas : 0;
    total += cost;
    const e = entries[instr.get(l.pc) ?? -1];
    let key = "?";
    let fn = "?";
    if (e && files.has(e.f)) {
      const p = files.get(e.f)!;
      const src = sourceOf(p);
      const line = src.slice(0, e.s).split("\n").length;
      key = `${path.basename(p)}:${line}`;
      const before = src.slice(0, e.s);
      const m = [...before.matchAll(/function\s+(\w+)|modifier\s+(\w+)|event\s+(\w+)/g)].pop();
      fn = `${path.basename(p)}:${m ? (m[1] ?? m[2] ?? m[3]) : "(top)"}`;
    } else if (e) {
      key = fn = `generated#${e.f}`;
    }
    byLine.set(key, (byLine.get(key) ?? 0) + cost);
    const focus = process.env.GAS_PROFILE_FN;
    const opKey = `${l.op}${fn.endsWith("(top)") || (focus && fn.endsWith(focus)) ? ` @ ${fn}` : ""}`;
    byOp.set(opKey, (byOp.get(opKey) ?? 0) + cost);
    byFn.set(fn, (byFn.get(fn) ?? 0) + cost);
  }
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title} (execution gas ${total}, excluding the 21,000 base and calldata)`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${String(v).padStart(9)}  ${k}`);
    }
  };
  print("by function", byFn);
  print("by source line", byLine);
  print("by opcode (contract-level code apart)", byOp);
}
