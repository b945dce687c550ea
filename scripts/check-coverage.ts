// Fails (exit 1) when solidity-coverage's figures for contracts/ fall below the thresholds:
// lines >= 95%, branches >= 90%. Reads coverage/coverage-summary.json when present, else coverage.json
// (istanbul format written by `hardhat coverage`). Mocks are excluded (test helpers, not product code).
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const THRESHOLDS = {
  lines: Number(process.env.COVERAGE_LINES ?? 95),
  branches: Number(process.env.COVERAGE_BRANCHES ?? 90),
};

interface Totals {
  lines: [number, number];
  branches: [number, number];
}

const included = (file: string) => {
  const rel = path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join("/");
  return rel.startsWith("contracts/") && !rel.startsWith("contracts/mocks/");
};

function fromSummary(file: string): Map<string, Totals> {
  const s = JSON.parse(fs.readFileSync(file, "utf8")) as Record<
    string,
    { lines: { total: number; covered: number }; branches: { total: number; covered: number } }
  >;
  const out = new Map<string, Totals>();
  for (const [f, v] of Object.entries(s)) {
    if (f === "total" || !included(f)) continue;
    out.set(f, { lines: [v.lines.covered, v.lines.total], branches: [v.branches.covered, v.branches.total] });
  }
  return out;
}

function fromIstanbul(file: string): Map<string, Totals> {
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as Record<
    string,
    { l: Record<string, number>; b: Record<string, number[]> }
  >;
  const out = new Map<string, Totals>();
  for (const [f, v] of Object.entries(data)) {
    if (!included(f)) continue;
    const lines = Object.values(v.l);
    const branches = Object.values(v.b).flat();
    out.set(f, {
      lines: [lines.filter((n) => n > 0).length, lines.length],
      branches: [branches.filter((n) => n > 0).length, branches.length],
    });
  }
  return out;
}

function main() {
  const summary = path.join(ROOT, "coverage/coverage-summary.json");
  const istanbul = path.join(ROOT, "coverage.json");
  const files = fs.existsSync(summary)
    ? fromSummary(summary)
    : fs.existsSync(istanbul)
      ? fromIstanbul(istanbul)
      : undefined;
  if (!files || files.size === 0) {
    console.error("check-coverage: no coverage data for contracts/ (run `npm run coverage`)");
    process.exit(1);
  }
  let lc = 0;
  let lt = 0;
  let bc = 0;
  let bt = 0;
  for (const [f, t] of files) {
    lc += t.lines[0];
    lt += t.lines[1];
    bc += t.branches[0];
    bt += t.branches[1];
    const pct = (a: number, b: number) => (b === 0 ? "100.0" : ((100 * a) / b).toFixed(1));
    console.log(
      `${path.relative(ROOT, path.resolve(ROOT, f)).padEnd(48)} lines ${pct(...t.lines).padStart(5)}%  branches ${pct(...t.branches).padStart(5)}%`,
    );
  }
  const lines = lt === 0 ? 100 : (100 * lc) / lt;
  const branches = bt === 0 ? 100 : (100 * bc) / bt;
  console.log(
    `\ncontracts/ (mocks excluded): lines ${lines.toFixed(2)}% (${lc}/${lt}), branches ${branches.toFixed(2)}% (${bc}/${bt})`,
  );
  const fails = [];
  if (lines < THRESHOLDS.lines) fails.push(`lines ${lines.toFixed(2)}% < ${THRESHOLDS.lines}%`);
  if (branches < THRESHOLDS.branches) fails.push(`branches ${branches.toFixed(2)}% < ${THRESHOLDS.branches}%`);
  if (fails.length) {
    console.error(`check-coverage: FAILED: ${fails.join(", ")}`);
    process.exit(1);
  }
  console.log(`check-coverage: ok (thresholds lines ${THRESHOLDS.lines}%, branches ${THRESHOLDS.branches}%)`);
}

main();
