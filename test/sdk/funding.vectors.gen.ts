// Regenerates test/sdk/funding.vectors.json from sdk/funding.ts: `npx tsx test/sdk/funding.vectors.gen.ts`.
// The vectors pin the sdk's numbers (test/sdk/funding.test.ts) and the Solidity library must reproduce
// them exactly (test/contracts/FundingVectors.test.ts). Regenerate only when the formula changes on purpose.
import fs from "node:fs";
import path from "node:path";
import {
  clampFundingRate,
  fundingOwed,
  indexDelta,
  maxRateStep,
  pendingFunding,
  socialLossDelta,
  applyFundingUpdate,
} from "../../sdk/funding";

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
const rand = rng(20261126);
const big = (max: number) => BigInt(Math.floor(rand() * max));
const signed = (max: number) => (rand() < 0.5 ? -big(max) : big(max));
const bigMag = (digits: number) => {
  let x = 0n;
  for (let i = 0; i < digits; i++) x = x * 10n + big(10);
  return x;
};
const s = (x: bigint) => x.toString();

const owed: { size: string; indexDelta: string; owed: string }[] = [];
const addOwed = (size: bigint, d: bigint) =>
  owed.push({ size: s(size), indexDelta: s(d), owed: s(fundingOwed(size, d)) });
// Exact, and each rounding direction on both sides: a long paying (up), a short receiving (toward zero), a
// long receiving (toward zero), a short paying (up).
for (const [sz, d] of [
  [100_000_000n, 60_000_000n], // 1 BTC, index +6e7 (60 quote units per BTC): owes exactly 60
  [1n, 1n],
  [-1n, 1n],
  [1n, -1n],
  [-1n, -1n],
  [12_345n, 99_999_999_999n],
  [-12_345n, 99_999_999_999n],
  [12_345n, -99_999_999_999n],
  [-12_345n, -99_999_999_999n],
  [0n, 123n],
  [123n, 0n],
  [9_223_372_036_854_775_807n, 170_141_183_460_469_231_731_687_303_715_884_105_727n], // int64 max x int128 max
  [-9_223_372_036_854_775_808n, -170_141_183_460_469_231_731_687_303_715_884_105_728n],
] as [bigint, bigint][])
  addOwed(sz, d);
for (let i = 0; i < 40; i++) addOwed(signed(1e12), signed(1e13));
for (let i = 0; i < 10; i++) addOwed(rand() < 0.5 ? -bigMag(18) : bigMag(18), rand() < 0.5 ? -bigMag(30) : bigMag(30));

const pending: { size: string; longIndex: string; shortIndex: string; snapshot: string; pending: string }[] = [];
const addPending = (size: bigint, l: bigint, sh: bigint, k: bigint) =>
  pending.push({
    size: s(size),
    longIndex: s(l),
    shortIndex: s(sh),
    snapshot: s(k),
    pending: s(pendingFunding(size, l, sh, k)),
  });
addPending(0n, 5n, 7n, 3n); // flat: nothing, whatever the snapshot
addPending(100_000_000n, 60_000_000n, -1_000_000n, 0n); // long uses longIndex
addPending(-100_000_000n, 60_000_000n, -1_000_000n, 0n); // short uses shortIndex: pays after a loss charged to shorts
addPending(-100_000_000n, 60_000_000n, 60_000_000n, 0n); // short receives funding
addPending(3n, 1_000n, 1_000n, 999n);
addPending(-3n, 1_000n, 1_000n, 999n);
for (let i = 0; i < 40; i++) {
  const base = signed(1e15);
  addPending(signed(1e12), base + signed(1e13), base - big(1e13), base + signed(1e12));
}

const deltas: { mark: string; rate: string; dt: string; interval: string; delta: string }[] = [];
const addDelta = (mark: bigint, rate: bigint, dt: bigint, interval: bigint) =>
  deltas.push({
    mark: s(mark),
    rate: s(rate),
    dt: s(dt),
    interval: s(interval),
    delta: s(indexDelta(mark, rate, dt, interval)),
  });
addDelta(60_000_000_000n, 100_000n, 3_600n, 3_600n); // 60,000 USD at 0.01% for an interval: 6e12 (6 USD per BTC)
addDelta(60_000_000_000n, -100_000n, 3_600n, 3_600n);
addDelta(60_000_000_000n, 100_000n, 1_800n, 3_600n);
addDelta(1n, 1n, 1n, 3_600n); // rounds to 0
addDelta(1n, -1n, 1n, 3_600n); // rounds toward zero: 0
addDelta(123_456_789n, 7n, 11n, 3_600n);
addDelta(123_456_789n, -7n, 11n, 3_600n);
addDelta(18_446_744_073_709_551_615n, 10_000_000n, 86_400n, 86_400n); // uint64 max mark, max rate bound
for (let i = 0; i < 30; i++) {
  const interval = 300n + big(86_100);
  addDelta(1n + big(1e14), signed(1e7), big(Number(interval) + 1), interval);
}

const steps: { maxRateChange: string; dt: string; interval: string; step: string }[] = [];
const addStep = (c: bigint, dt: bigint, interval: bigint) =>
  steps.push({ maxRateChange: s(c), dt: s(dt), interval: s(interval), step: s(maxRateStep(c, dt, interval)) });
addStep(250_000n, 3_600n, 3_600n);
addStep(250_000n, 1n, 3_600n);
addStep(250_000n, 0n, 3_600n);
addStep(250_000n, 1_800n, 3_600n);
for (let i = 0; i < 15; i++) {
  const interval = 300n + big(86_100);
  addStep(1n + big(2e7), big(Number(interval) + 1), interval);
}

const clamps: { requested: string; lastRate: string; maxRate: string; step: string; applied: string }[] = [];
const addClamp = (r: bigint, last: bigint, m: bigint, st: bigint) =>
  clamps.push({
    requested: s(r),
    lastRate: s(last),
    maxRate: s(m),
    step: s(st),
    applied: s(clampFundingRate(r, last, m, st)),
  });
addClamp(100n, 0n, 1_000_000n, 250_000n); // within both
addClamp(900_000n, 0n, 1_000_000n, 250_000n); // change clamp: 250,000
addClamp(-900_000n, 0n, 1_000_000n, 250_000n); // -250,000
addClamp(2_000_000n, 900_000n, 1_000_000n, 250_000n); // change then max: 1,000,000
addClamp(-2_000_000n, -900_000n, 1_000_000n, 250_000n);
addClamp(5_000_000n, 5_000_000n, 1_000_000n, 250_000n); // last above a lowered max: the max wins
addClamp(-9_223_372_036_854_775_808n, 0n, 10_000_000n, 20_000_000n); // int64 min request
addClamp(9_223_372_036_854_775_807n, 0n, 10_000_000n, 20_000_000n);
for (let i = 0; i < 25; i++) {
  const m = 1n + big(1e7);
  addClamp(signed(3e7), signed(Number(m)), m, big(2e7));
}

const socialLoss: { amount: string; openInterest: string; delta: string }[] = [];
const addLoss = (a: bigint, oi: bigint) =>
  socialLoss.push({ amount: s(a), openInterest: s(oi), delta: s(socialLossDelta(a, oi)) });
addLoss(1_000_000n, 100_000_000n); // 1 USD over 1 BTC: 1e6 * 1e14 / 1e8 = 1e12 exactly
addLoss(1n, 3n); // rounds up
addLoss(7n, 100_000_000n);
addLoss(340_282_366_920_938_463_463_374_607_431_768_211_455n, 79_228_162_514_264_337_593_543_950_335n); // uint128, uint96 max
for (let i = 0; i < 20; i++) addLoss(1n + big(1e12), 1n + big(1e13));

const updates: Record<string, string>[] = [];
const addUpdate = (
  requested: bigint,
  lastRate: bigint,
  lastTime: bigint,
  mark: bigint,
  now: bigint,
  interval: bigint,
  maxRate: bigint,
  maxRateChange: bigint,
) => {
  const r = applyFundingUpdate(
    { longIndex: 0n, shortIndex: 0n, lastRate, lastTime, lastMark: 0n },
    requested,
    mark,
    now,
    { interval, maxRate, maxRateChange },
  );
  updates.push({
    requested: s(requested),
    lastRate: s(lastRate),
    lastTime: s(lastTime),
    mark: s(mark),
    now: s(now),
    interval: s(interval),
    maxRate: s(maxRate),
    maxRateChange: s(maxRateChange),
    applied: s(r.applied),
    delta: s(r.delta),
  });
};
const T0 = 1_800_000_000n;
addUpdate(100_000n, 0n, 0n, 60_000_000_000n, T0, 3_600n, 1_000_000n, 250_000n); // first: starts the clock
addUpdate(900_000n, 0n, 0n, 60_000_000_000n, T0, 3_600n, 1_000_000n, 250_000n); // first: whole-interval change
addUpdate(100_000n, 100_000n, T0, 60_000_000_000n, T0 + 3_600n, 3_600n, 1_000_000n, 250_000n); // one interval
addUpdate(100_000n, 100_000n, T0, 60_000_000_000n, T0 + 36_000n, 3_600n, 1_000_000n, 250_000n); // capped at one
addUpdate(1_000_000n, 100_000n, T0, 60_000_000_000n, T0 + 60n, 3_600n, 1_000_000n, 250_000n); // change 1/60
addUpdate(1_000_000n, 100_000n, T0, 60_000_000_000n, T0, 3_600n, 1_000_000n, 250_000n); // same second: no change
addUpdate(-1_000_000n, -900_000n, T0, 60_000_000_000n, T0 + 7_200n, 3_600n, 1_000_000n, 250_000n);
for (let i = 0; i < 30; i++) {
  const interval = 300n + big(86_100);
  const maxRate = 1n + big(1e7);
  const last = rand() < 0.2 ? 0n : T0 + big(1e6);
  addUpdate(
    signed(3e7),
    last === 0n ? 0n : signed(Number(maxRate)),
    last,
    1n + big(1e14),
    (last === 0n ? T0 : last) + big(2 * Number(interval)),
    interval,
    maxRate,
    1n + big(2e7),
  );
}

const out = {
  comment:
    "Shared funding vectors: sdk/funding.ts and contracts/libraries/FundingMath.sol must both reproduce every number. Generated by test/sdk/funding.vectors.gen.ts.",
  owed,
  pending,
  indexDelta: deltas,
  maxRateStep: steps,
  clampRate: clamps,
  socialLoss,
  updates,
};
const file = path.join(__dirname, "funding.vectors.json");
fs.writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
console.log(`wrote ${file}`);
