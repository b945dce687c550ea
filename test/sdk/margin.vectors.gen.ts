// Regenerates test/sdk/margin.vectors.json from sdk/margin.ts: `npx tsx test/sdk/margin.vectors.gen.ts`.
// The vectors pin the sdk's numbers (test/sdk/margin.test.ts) and the Solidity library must reproduce
// them exactly (test/contracts/MarginVectors.test.ts). Regenerate only when the formula changes on purpose.
import fs from "node:fs";
import path from "node:path";
import {
  type AccountState,
  type MarketRisk,
  buyerPays,
  equity,
  feeCap,
  initialRequirement,
  maintenanceRequirement,
  passesSettlementCheck,
  riskGrew,
  sellerReceives,
} from "../../sdk/margin";
import { notionalCeil, positionValue } from "../../sdk/units";

// Deterministic PRNG (mulberry32) so the file is reproducible.
function rng(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261125);
const big = (max: number) => BigInt(Math.floor(rand() * max));
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

const s = (x: bigint) => x.toString();

function unitsVector(size: bigint, price: bigint) {
  return {
    size: s(size),
    price: s(price),
    positionValue: s(positionValue(size, price)),
    notionalCeil: s(notionalCeil(size, price)),
  };
}

function tradeVector(size: bigint, price: bigint, feePpm: bigint) {
  return {
    size: s(size),
    price: s(price),
    feePpm: s(feePpm),
    buyerPays: s(buyerPays(size, price)),
    sellerReceives: s(sellerReceives(size, price)),
    feeCap: s(feeCap(size, price, feePpm)),
  };
}

interface Pos {
  market: number;
  sizeBefore: bigint;
  sizeAfter: bigint;
  mark: bigint;
  imfPpm: bigint;
  mmfPpm: bigint;
}

function accountVector(name: string, cashBefore: bigint, cashAfter: bigint, positions: Pos[]) {
  const before: AccountState = { cash: cashBefore, positions: new Map(positions.map((p) => [p.market, p.sizeBefore])) };
  const after: AccountState = { cash: cashAfter, positions: new Map(positions.map((p) => [p.market, p.sizeAfter])) };
  const marks = new Map(positions.map((p) => [p.market, p.mark]));
  const risks = new Map<number, MarketRisk>(positions.map((p) => [p.market, { imfPpm: p.imfPpm, mmfPpm: p.mmfPpm }]));
  return {
    name,
    cashBefore: s(cashBefore),
    cashAfter: s(cashAfter),
    positions: positions.map((p) => ({
      market: p.market,
      sizeBefore: s(p.sizeBefore),
      sizeAfter: s(p.sizeAfter),
      mark: s(p.mark),
      imfPpm: s(p.imfPpm),
      mmfPpm: s(p.mmfPpm),
    })),
    equityBefore: s(equity(before, marks)),
    mmBefore: s(maintenanceRequirement(before, marks, risks)),
    equityAfter: s(equity(after, marks)),
    imAfter: s(initialRequirement(after, marks, risks)),
    mmAfter: s(maintenanceRequirement(after, marks, risks)),
    riskGrew: riskGrew(before, after),
    passes: passesSettlementCheck(before, after, marks, risks),
  };
}

const units = [
  unitsVector(50_000_000n, 60_000_000_000n),
  unitsVector(-50_000_000n, 60_000_000_000n),
  unitsVector(12_345n, 60_000_123_457n),
  unitsVector(-12_345n, 60_000_123_457n),
  unitsVector(1n, 1n),
  unitsVector(-1n, 1n),
  unitsVector(0n, 123n),
];
for (let i = 0; i < 40; i++) units.push(unitsVector((rand() < 0.5 ? -1n : 1n) * big(1e12), 1n + big(1e11)));

const trades = [
  tradeVector(50_000_000n, 60_000_000_000n, 500n),
  tradeVector(50_000_000n, 60_000_000_000n, -100n),
  tradeVector(12_345n, 60_000_123_457n, 333n),
  tradeVector(12_345n, 60_000_123_457n, -77n),
  tradeVector(1n, 1n, 1n),
  tradeVector(1n, 1n, -1n),
  tradeVector(1n, 1n, 0n),
];
for (let i = 0; i < 40; i++)
  trades.push(tradeVector(1n + big(1e12), 1n + big(1e11), BigInt(Math.floor(rand() * 2000) - 1000)));

const R = { imfPpm: 100_000n, mmfPpm: 50_000n };
const accounts = [
  accountVector("flat, cash only", 1_000n, 900n, []),
  accountVector("opens a long within IM", 100_000_000_000n, 70_000_000_000n - 15_000_000n, [
    { market: 0, sizeBefore: 0n, sizeAfter: 50_000_000n, mark: 60_000_000_000n, ...R },
  ]),
  accountVector("opens beyond IM: refused", 100_000_000_000n, -1_100_600_000_000n, [
    { market: 0, sizeBefore: 0n, sizeAfter: 2_000_000_000n, mark: 60_000_000_000n, ...R },
  ]),
  accountVector("below IM, reduces at the mark: accepted", -790_000_000_000n, -763_000_000_000n, [
    { market: 1, sizeBefore: 30_000_000_000n, sizeAfter: 29_000_000_000n, mark: 2_700_000_000n, ...R },
  ]),
  accountVector("below IM, reduces below the mark: refused", -790_000_000_000n, -765_000_000_000n, [
    { market: 1, sizeBefore: 30_000_000_000n, sizeAfter: 29_000_000_000n, mark: 2_700_000_000n, ...R },
  ]),
  accountVector(
    "bankrupt, reduces at the mark: refused (liquidation closes it)",
    -890_000_000_000n,
    -863_000_000_000n,
    [{ market: 1, sizeBefore: 30_000_000_000n, sizeAfter: 29_000_000_000n, mark: 2_700_000_000n, ...R }],
  ),
  accountVector("bankrupt, trades itself flat into negative cash: refused", -890_000_000_000n, -80_000_000_000n, [
    { market: 1, sizeBefore: 30_000_000_000n, sizeAfter: 0n, mark: 2_700_000_000n, ...R },
  ]),
  accountVector("flips short to long: risk grew", 50_000_000_000n, 50_000_000_000n - 60_000_000_000n, [
    { market: 0, sizeBefore: -50_000_000n, sizeAfter: 50_000_000n, mark: 60_000_000_000n, ...R },
  ]),
  accountVector("rounding: odd sizes and marks", 7n, -3n, [
    { market: 0, sizeBefore: -12_345n, sizeAfter: 12_345n, mark: 60_000_123_457n, imfPpm: 333_333n, mmfPpm: 111_111n },
    { market: 3, sizeBefore: 1n, sizeAfter: 0n, mark: 99_999_999n, imfPpm: 1_000_000n, mmfPpm: 1n },
  ]),
];
for (let i = 0; i < 60; i++) {
  const n = 1 + Math.floor(rand() * 4);
  const markets = [0, 1, 2, 3, 4, 5].sort(() => rand() - 0.5).slice(0, n);
  const positions: Pos[] = markets.map((market) => {
    const imf = 10_000n + big(500_000);
    return {
      market,
      sizeBefore: pick([0n, 1n, -1n]) * big(1e11),
      sizeAfter: pick([0n, 1n, -1n]) * big(1e11),
      mark: 1n + big(1e11),
      imfPpm: imf,
      mmfPpm: 1n + big(Number(imf) - 1),
    };
  });
  const cash = (rand() < 0.5 ? -1n : 1n) * big(1e12);
  accounts.push(accountVector(`random ${i}`, cash, cash + (rand() < 0.5 ? -1n : 1n) * big(1e11), positions));
}

const out = path.join(__dirname, "margin.vectors.json");
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      comment:
        "Shared margin/settlement vectors: sdk/margin.ts and contracts/libraries/{Units,Margin}.sol must both reproduce every number. Generated by test/sdk/margin.vectors.gen.ts.",
      units,
      trades,
      accounts,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${out}: ${units.length} units, ${trades.length} trades, ${accounts.length} accounts`);
