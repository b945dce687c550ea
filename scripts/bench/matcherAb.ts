// npm run bench:matcher-ab -- [git ref, default HEAD~1]: this tree's engine against the engine of
// another commit, in ONE process, on the published seeded workload (matcher/engine/workload.ts).
// The host's speed drifts by tens of percent within minutes (bench:matcher's memory probe shows it),
// so two separate runs cannot tell a 10% change from noise; here the two engines take turns on
// blocks of 10,000 commands, and a slow spell falls on both. Each round starts both engines on a
// fresh book; the figure is the median over rounds of (this tree's ops/s) / (the ref's ops/s).
// Both run as processBatch does (warm() then each command, each its own WARM_BATCH at a time) and drop their
// output unread: the ref's events through `events` when it has no output logs (as its own bench did).
// Prints a table and writes bench-results/matcher-ab.json.
// Each round also alternates which engine's book is built first (at 1M resting the engine built second
// ran ~10% slower); the geometric mean of the ratios over an even number of rounds weighs both alike.
// Env: AB_OPS (default 1,000,000), AB_ROUNDS (default 6), AB_BOOKS ("10k,1m" by default).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Engine, WARM_BATCH } from "../../matcher/engine/engine";
import type { Command } from "../../matcher/engine/types";
import { makeWorkload, resolveWorkload, workloadMarket, type Workload } from "../../matcher/engine/workload";

const OPS = Number(process.env.AB_OPS ?? 1_000_000);
const ROUNDS = Math.max(1, Number(process.env.AB_ROUNDS ?? 6));
const BOOKS = (process.env.AB_BOOKS ?? "10k,1m").split(",").map((b) => b.trim().toLowerCase());
const BLOCK = 10_000;
const ROOT = path.resolve(__dirname, "../..");

/** What both engines offer (an older one may lack apply and the output logs). */
interface AnyEngine {
  warm?(cmds: readonly Command[], from: number, to: number): void;
  apply?(cmd: Command): void;
  process(cmd: Command): unknown;
  ackLog?: { clear(): void };
  eventLog?: { clear(): void };
  events: unknown[];
}
type EngineClass = new (o: { markets: ReturnType<typeof workloadMarket>[] }) => AnyEngine;

/** The ref's matcher/ and sdk/ unpacked under .cache/ in the repo (so its package imports resolve as here). */
function checkout(ref: string): { sha: string; dir: string } {
  let sha: string;
  try {
    sha = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    throw new Error(`bench:matcher-ab: "${ref}" is not a commit here (give a sha, a tag or e.g. HEAD~3)`);
  }
  const dir = path.join(ROOT, ".cache", "matcher-ab", sha);
  if (!fs.existsSync(path.join(dir, "matcher", "engine", "engine.ts"))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", sha, "matcher", "sdk"], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
  }
  return { sha, dir };
}

function fresh(E: EngineClass, wl: Workload): AnyEngine {
  const e = new E({ markets: [workloadMarket()] });
  for (const c of wl.setup) e.process(c);
  for (let i = 0; i < wl.fill.length; i++) {
    e.process(wl.fill[i]);
    if ((i & 1023) === 0) drop(e);
  }
  drop(e);
  return e;
}

/** Drop the engine's output unread (its logs when it has them; else its event array). */
function drop(e: AnyEngine): void {
  if (e.eventLog !== undefined && e.ackLog !== undefined) {
    e.eventLog.clear();
    e.ackLog.clear();
  } else e.events.length = 0;
}

/** Seconds for ops[from, to) on e, as processBatch does it, `batch` commands at a time (the engine's own WARM_BATCH). */
function block(e: AnyEngine, ops: Command[], from: number, to: number, batch: number): number {
  const viaApply = typeof e.apply === "function";
  const t = process.hrtime.bigint();
  for (let i = from; i < to;) {
    const stop = Math.min(to, i + batch);
    if (e.warm) e.warm(ops, i, stop);
    if (viaApply) for (; i < stop; i++) (e.apply as (c: Command) => void)(ops[i]);
    else for (; i < stop; i++) e.process(ops[i]);
    if ((i & 255) < batch) drop(e);
  }
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
/** Of the rounds' ratios: with the build order alternating, an even number of rounds weighs both orders alike. */
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const ref = process.argv[2] ?? "HEAD~1";
  const { sha, dir } = checkout(ref);
  const refModule = await import(pathToFileURL(path.join(dir, "matcher", "engine", "engine.ts")).href);
  const Old = refModule.Engine as EngineClass;
  // each engine warms and applies in batches of its own size (a ref without the export used 32)
  const oldBatch = typeof refModule.WARM_BATCH === "number" ? (refModule.WARM_BATCH as number) : 32;
  const New = Engine as unknown as EngineClass;
  const results: Record<string, number> = { ops_per_scenario: OPS, rounds: ROUNDS };
  const rows: string[][] = [];
  console.log(`this tree against ${ref} (${sha.slice(0, 10)}): ${fmt(OPS)} ops, ${ROUNDS} rounds per book`);
  for (const book of BOOKS) {
    if (book !== "10k" && book !== "1m") throw new Error(`bench:matcher-ab: AB_BOOKS takes 10k and 1m, not "${book}"`);
    const wl = makeWorkload(42, book === "1m" ? 1_000_000 : 10_000, OPS);
    resolveWorkload(wl, new Engine({ markets: [workloadMarket()] }));
    // JIT: a short pass of each first
    block(fresh(Old, wl), wl.ops, 0, Math.min(OPS, 200_000), oldBatch);
    block(fresh(New, wl), wl.ops, 0, Math.min(OPS, 200_000), WARM_BATCH);
    const ratios: number[] = [];
    const oldRates: number[] = [];
    const newRates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // which book is built first alternates too: at 1M resting the engine built second ran ~10% slower
      // (a null change, this tree against HEAD, read x0.908 over 7 rounds with a fixed order)
      const newFirst = r % 2 === 1;
      const b0 = newFirst ? fresh(New, wl) : undefined;
      const a = fresh(Old, wl);
      const b = b0 ?? fresh(New, wl);
      if (typeof global.gc === "function") global.gc();
      let ta = 0;
      let tb = 0;
      for (let i = 0, k = 0; i < OPS; i += BLOCK, k++) {
        const to = Math.min(OPS, i + BLOCK);
        // who goes first alternates, so neither always runs on a cache the other left cold
        if (k % 2 === 0) {
          ta += block(a, wl.ops, i, to, oldBatch);
          tb += block(b, wl.ops, i, to, WARM_BATCH);
        } else {
          tb += block(b, wl.ops, i, to, WARM_BATCH);
          ta += block(a, wl.ops, i, to, oldBatch);
        }
      }
      oldRates.push(OPS / ta);
      newRates.push(OPS / tb);
      ratios.push(ta / tb);
      console.log(
        `${book} round ${r + 1}: ${ref} ${fmt(OPS / ta)}, this tree ${fmt(OPS / tb)} ops/s (x${(ta / tb).toFixed(3)})`,
      );
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    results[`ref_ops_per_s_${book}`] = Math.round(median(oldRates));
    results[`tree_ops_per_s_${book}`] = Math.round(median(newRates));
    results[`speedup_median_${book}`] = Math.round(median(ratios) * 1000) / 1000;
    results[`speedup_geomean_${book}`] = Math.round(geomean(ratios) * 1000) / 1000;
    results[`speedup_min_${book}`] = Math.round(sorted[0] * 1000) / 1000;
    results[`speedup_max_${book}`] = Math.round(sorted[sorted.length - 1] * 1000) / 1000;
    rows.push([
      book,
      fmt(results[`ref_ops_per_s_${book}`]),
      fmt(results[`tree_ops_per_s_${book}`]),
      `x${results[`speedup_median_${book}`]} (${results[`speedup_min_${book}`]}..${results[`speedup_max_${book}`]})`,
      `x${results[`speedup_geomean_${book}`]}`,
    ]);
  }
  const head = [
    "book",
    `${ref} ops/s (median)`,
    "this tree ops/s (median)",
    "speed-up, median of rounds (min..max)",
    "geometric mean",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
  fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench-results", "matcher-ab.json"), JSON.stringify(results, null, 2) + "\n");
  console.log("wrote bench-results/matcher-ab.json");
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
