// Regenerates test/sdk/liquidation.vectors.json from sdk/liquidation.ts:
// `npx tsx test/sdk/liquidation.vectors.gen.ts`. The vectors pin the sdk's numbers (test/sdk/liquidation.test.ts)
// and the Solidity library must reproduce them exactly (test/contracts/LiquidationVectors.test.ts, through
// contracts/mocks/LiquidationHarness.sol). Regenerate only when a formula changes on purpose.
import fs from "node:fs";
import path from "node:path";
import { type AccountState, type MarketRisk, equity, maintenanceRequirement } from "../../sdk/margin";
import {
  applyLiquidation,
  badDebtSplit,
  liquidationAmounts,
  liquidationPenalty,
  maxLiquidationSize,
  maxLiquidationSizeOf,
  splitPenalty,
} from "../../sdk/liquidation";

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
const rand = rng(20261203);
const big = (max: number) => BigInt(Math.floor(rand() * max));
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
const s = (x: bigint) => x.toString();

// --- penalties and their split
function penaltyVector(size: bigint, mark: bigint, mmfPpm: bigint) {
  const penalty = liquidationPenalty(size, mark, mmfPpm);
  const { toLiquidator, toInsurance } = splitPenalty(penalty);
  return {
    size: s(size),
    mark: s(mark),
    mmfPpm: s(mmfPpm),
    penalty: s(penalty),
    toLiquidator: s(toLiquidator),
    toInsurance: s(toInsurance),
  };
}
const penalties = [
  penaltyVector(50_000_000n, 60_000_000_000n, 50_000n), // 0.5 BTC at 60,000, mmf 5%: 1500 USD mm -> 750 penalty
  penaltyVector(1n, 1n, 1n), // everything rounds up to one unit
  penaltyVector(12_345n, 60_000_123_457n, 33_333n),
  penaltyVector(10_000n, 3_000_000_000n, 50_000n),
];
for (let i = 0; i < 40; i++) penalties.push(penaltyVector(1n + big(1e12), 1n + big(1e11), 1n + big(999_999)));

// --- cash moved by a takeover
function amountsVector(positionSize: bigint, size: bigint, mark: bigint, mmfPpm: bigint) {
  const a = liquidationAmounts(positionSize, size, mark, mmfPpm);
  return {
    positionSize: s(positionSize),
    size: s(size),
    mark: s(mark),
    mmfPpm: s(mmfPpm),
    accountCashDelta: s(a.accountCashDelta),
    liquidatorCashDelta: s(a.liquidatorCashDelta),
    penalty: s(a.penalty),
    liquidatorReward: s(a.liquidatorReward),
    insuranceCredit: s(a.insuranceCredit),
  };
}
const amounts = [
  amountsVector(50_000_000n, 50_000_000n, 60_000_000_000n, 50_000n),
  amountsVector(-50_000_000n, 20_000_000n, 60_000_000_000n, 50_000n),
  amountsVector(12_345n, 12_345n, 60_000_123_457n, 33_333n), // odd notional: rounding remainder to insurance
  amountsVector(-12_345n, 12_345n, 60_000_123_457n, 33_333n),
  amountsVector(1n, 1n, 1n, 1n),
  amountsVector(-1n, 1n, 1n, 1n),
];
for (let i = 0; i < 40; i++) {
  const pos = (rand() < 0.5 ? -1n : 1n) * (1n + big(1e12));
  const size = 1n + (pos < 0n ? big(Number(-pos)) : big(Number(pos)));
  amounts.push(
    amountsVector(
      pos,
      size > (pos < 0n ? -pos : pos) ? (pos < 0n ? -pos : pos) : size,
      1n + big(1e11),
      1n + big(999_999),
    ),
  );
}

// --- maximum size from (equity, maintenance)
function maxSizeVector(
  equity_: bigint,
  maintenance: bigint,
  positionSize: bigint,
  mark: bigint,
  mmfPpm: bigint,
  lotSize: bigint,
) {
  return {
    equity: s(equity_),
    maintenance: s(maintenance),
    positionSize: s(positionSize),
    mark: s(mark),
    mmfPpm: s(mmfPpm),
    lotSize: s(lotSize),
    maxSize: s(maxLiquidationSize(equity_, maintenance, positionSize, mark, mmfPpm, lotSize)),
  };
}
const maxSizes = [
  maxSizeVector(1_500_000_000n, 1_500_000_000n, 50_000_000n, 60_000_000_000n, 50_000n, 10_000n), // healthy: 0
  maxSizeVector(1_499_999_999n, 1_500_000_000n, 50_000_000n, 60_000_000_000n, 50_000n, 10_000n), // 1 unit short
  maxSizeVector(1_000_000_000n, 1_500_000_000n, 50_000_000n, 60_000_000_000n, 50_000n, 10_000n),
  maxSizeVector(0n, 1_500_000_000n, 50_000_000n, 60_000_000_000n, 50_000n, 10_000n), // zero equity: whole
  maxSizeVector(-1n, 1_500_000_000n, -50_000_000n, 60_000_000_000n, 50_000n, 10_000n), // bankrupt: whole
  maxSizeVector(1_400_000_000n, 3_000_000_000n, -50_000_000n, 60_000_000_000n, 50_000n, 10_000n), // other markets
];
for (let i = 0; i < 40; i++) {
  const mm = 1n + big(1e12);
  const eq = rand() < 0.15 ? -big(1e11) : mm - 1n - big(Number(mm));
  const lot = pick([1n, 10_000n, 100_000n, 1_000_000n]);
  maxSizes.push(
    maxSizeVector(eq, mm, (rand() < 0.5 ? -1n : 1n) * lot * (1n + big(1e6)), 1n + big(1e11), 1n + big(999_999), lot),
  );
}

// --- bad debt split
const badDebt = [
  [0n, 0n],
  [100n, 0n],
  [100n, 40n],
  [100n, 100n],
  [100n, 1_000n],
].map(([debt, fund]) => {
  const r = badDebtSplit(debt, fund);
  return { debt: s(debt), fund: s(fund), coveredByInsurance: s(r.coveredByInsurance), socialised: s(r.socialised) };
});
for (let i = 0; i < 10; i++) {
  const debt = big(1e12);
  const fund = big(1e12);
  const r = badDebtSplit(debt, fund);
  badDebt.push({
    debt: s(debt),
    fund: s(fund),
    coveredByInsurance: s(r.coveredByInsurance),
    socialised: s(r.socialised),
  });
}

// --- whole accounts: liquidatable (or not), the maximum size, the liquidation of that size, health after
interface Pos {
  market: number;
  size: bigint;
  mark: bigint;
  imfPpm: bigint;
  mmfPpm: bigint;
  lotSize: bigint;
}
function accountVector(name: string, cash: bigint, positions: Pos[], index: number) {
  const acct: AccountState = { cash, positions: new Map(positions.map((p) => [p.market, p.size])) };
  const marks = new Map(positions.map((p) => [p.market, p.mark]));
  const risks = new Map<number, MarketRisk>(positions.map((p) => [p.market, { imfPpm: p.imfPpm, mmfPpm: p.mmfPpm }]));
  const p = positions[index];
  const maxSize = maxLiquidationSizeOf(acct, p.market, marks, risks, p.lotSize);
  let after: AccountState = acct;
  let am = { accountCashDelta: 0n, liquidatorCashDelta: 0n, penalty: 0n, liquidatorReward: 0n, insuranceCredit: 0n };
  let badDebt_ = 0n;
  if (maxSize > 0n) {
    const o = applyLiquidation(acct, { cash: 0n, positions: new Map() }, p.market, maxSize, p.mark, p.mmfPpm);
    after = o.account;
    am = o.amounts;
    badDebt_ = o.badDebt;
  }
  const eqAfter = equity(after, marks);
  const mmAfter = maintenanceRequirement(after, marks, risks);
  // The "down to healthy" guarantee: a partial liquidation leaves the account healthy.
  if (maxSize > 0n && maxSize < (p.size < 0n ? -p.size : p.size) && eqAfter < mmAfter)
    throw new Error(`${name}: unhealthy after`);
  return {
    name,
    cash: s(cash),
    positions: positions.map((x) => ({
      market: x.market,
      size: s(x.size),
      mark: s(x.mark),
      imfPpm: s(x.imfPpm),
      mmfPpm: s(x.mmfPpm),
      lotSize: s(x.lotSize),
    })),
    index,
    equity: s(equity(acct, marks)),
    maintenance: s(maintenanceRequirement(acct, marks, risks)),
    maxSize: s(maxSize),
    accountCashDelta: s(am.accountCashDelta),
    liquidatorCashDelta: s(am.liquidatorCashDelta),
    penalty: s(am.penalty),
    liquidatorReward: s(am.liquidatorReward),
    insuranceCredit: s(am.insuranceCredit),
    equityAfter: s(eqAfter),
    maintenanceAfter: s(mmAfter),
    badDebt: s(badDebt_),
  };
}

const BTC = { market: 0, mark: 60_000_000_000n, imfPpm: 100_000n, mmfPpm: 50_000n, lotSize: 10_000n };
const ETH = { market: 1, mark: 3_000_000_000n, imfPpm: 100_000n, mmfPpm: 50_000n, lotSize: 100_000n };
const accounts = [
  // 1 BTC long at 60,000 needs 3,000 maintenance; equity 2,000 => partial.
  accountVector(
    "BTC long, equity 2000 of 3000 mm: partial",
    2_000_000_000n - 60_000_000_000n,
    [{ ...BTC, size: 100_000_000n }],
    0,
  ),
  accountVector(
    "BTC long exactly at maintenance: healthy",
    3_000_000_000n - 60_000_000_000n,
    [{ ...BTC, size: 100_000_000n }],
    0,
  ),
  accountVector(
    "BTC long one unit below maintenance",
    2_999_999_999n - 60_000_000_000n,
    [{ ...BTC, size: 100_000_000n }],
    0,
  ),
  accountVector("BTC short bankrupt: whole position", 60_000_000_000n - 1n, [{ ...BTC, size: -100_000_000n }], 0),
  accountVector(
    "two markets, liquidate ETH",
    -60_000_000_000n + 2_000_000_000n,
    [
      { ...BTC, size: 100_000_000n },
      { ...ETH, size: -1_000_000_000n },
    ],
    1,
  ),
  accountVector("zero equity: whole position", -60_000_000_000n, [{ ...BTC, size: 100_000_000n }], 0),
];
for (let i = 0; i < 60; i++) {
  const n = 1 + Math.floor(rand() * 3);
  const markets = [0, 1, 2, 3].sort(() => rand() - 0.5).slice(0, n);
  const positions: Pos[] = markets.map((market) => {
    const imf = 20_000n + big(400_000);
    const lot = pick([1n, 10_000n, 100_000n, 1_000_000n]);
    return {
      market,
      size: (rand() < 0.5 ? -1n : 1n) * lot * (1n + big(1e5)),
      mark: 1_000n + big(1e11),
      imfPpm: imf,
      mmfPpm: 1_000n + big(Number(imf) - 1_000),
      lotSize: lot,
    };
  });
  const acct0: AccountState = { cash: 0n, positions: new Map(positions.map((p) => [p.market, p.size])) };
  const marks = new Map(positions.map((p) => [p.market, p.mark]));
  const risks = new Map<number, MarketRisk>(positions.map((p) => [p.market, { imfPpm: p.imfPpm, mmfPpm: p.mmfPpm }]));
  const e0 = equity(acct0, marks);
  const mm = maintenanceRequirement(acct0, marks, risks);
  const r = rand();
  // target equity: healthy (10%), just below maintenance (20%), anywhere in [0, mm) (50%), bankrupt (20%)
  const target =
    r < 0.1
      ? mm + big(1e9)
      : r < 0.3
        ? mm - 1n - big(100)
        : r < 0.8
          ? mm - 1n - (mm > 0n ? big(Number(mm)) : 0n)
          : -1n - big(Number(mm) + 1);
  accounts.push(accountVector(`random ${i}`, target - e0, positions, Math.floor(rand() * n)));
}

const out = path.join(__dirname, "liquidation.vectors.json");
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      comment:
        "Shared liquidation vectors: sdk/liquidation.ts and LiquidationMath (contracts/exchange/Liquidation.sol) must both reproduce every number. Generated by test/sdk/liquidation.vectors.gen.ts.",
      penalties,
      amounts,
      maxSizes,
      badDebt,
      accounts,
    },
    null,
    2,
  ) + "\n",
);
console.log(
  `wrote ${out}: ${penalties.length} penalties, ${amounts.length} amounts, ${maxSizes.length} maxSizes, ` +
    `${badDebt.length} badDebt, ${accounts.length} accounts`,
);
