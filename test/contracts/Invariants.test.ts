// Property test (fast-check) over the whole Exchange: random deposits, signed orders settled in batches, fast
// and slow withdrawals, price shocks, oracle failures, time, funding updates, liquidations (with bad debt,
// insurance and socialised loss), forced exit requests and their serving, guardian pauses, then freeze and
// every account's escape.
//
// After every step (while not frozen):
//   - positions sum to zero in every market, and the open interest equals the sum of long sizes;
//   - the token balance covers everything owed: balance >= owed = Σ (cash - pending funding) + fees + insurance;
//   - and exceeds it by at most the rounding dust the Exchange keeps: 0 (exact equality, as settlement books its
//     rounding remainders as fees and liquidation as insurance) until a funding index of some market moves;
//     from then on < 1 unit per position change or funding settlement in such a market (each settles pending
//     funding rounded against the payer) + (accounts + 1) units per socialised loss (its index move is rounded
//     up, and so is each position's share) + 1 unit per open position (the pending funding it owes now is
//     rounded up). This is `dust` below.
// After freeze and every account's escape (register at final prices, claim after the window):
//   - with C = total claims, held = the collateral balance at the first claim (the pool), N = the negative
//     equity left at freeze (accounts nobody liquidated; the insurance fund and the fees absorb it), paid =
//     what the accounts took:
//       if C <= held: every claim is paid in full, and held - (paid + insurance + fees - N) is in
//                    [0, dust + open positions] (each position value at the final price is rounded down);
//       else (pro rata): paid <= held and held - paid < number of claimants (each payment rounds down).
//   - the Exchange's balance afterwards is exactly held - paid.
// Knobs: FC_RUNS (runs, default 60), FC_SEED, FC_STEPS (max steps per run, default 120; min is a third).
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { maxUint256, parseEventLogs } from "viem";
import { BTC, ETH, addr, deployFixture, fastWithdraw, makeOrder, settle, usd } from "./helpers";
import { feeCap } from "../../sdk/margin";

const MARKETS = [
  { id: BTC, tick: 100_000n, lot: 10_000n, rates: { maker: -100n, taker: 500n }, min: 2_000_000_000n },
  { id: ETH, tick: 10_000n, lot: 100_000n, rates: { maker: 0n, taker: 500n }, min: 20_000_000n },
];
const N_ACCOUNTS = 5; // alice, bob, carol, dave, stranger (a well-funded liquidator and trader)

type Step =
  | { kind: "deposit"; who: number; amount: number }
  | { kind: "withdraw"; who: number; amount: number }
  | { kind: "slowRequest"; who: number; amount: number }
  | { kind: "slowClaim"; who: number }
  | { kind: "price"; market: number; bps: number }
  | { kind: "oracleFailure"; market: number; how: "stale" | "insane" | "broken" }
  | { kind: "time"; seconds: number }
  | { kind: "funding"; market: number; rate: number }
  | { kind: "liquidate"; liquidator: number; pick: number; mode: "max" | "lot" | "half" | "over" }
  | { kind: "forcedRequest"; who: number; amount: number }
  | { kind: "serveForced"; server: number; pick: number }
  | { kind: "pause" }
  | {
      kind: "batch";
      /** Through settlePacked (the keeper's path) or the ABI settle. */
      packed: boolean;
      fills: {
        maker: number;
        taker: number;
        market: number;
        makerBuys: boolean;
        lots: number;
        ticks: number;
        discount: boolean;
      }[];
    };

const who = fc.integer({ min: 0, max: N_ACCOUNTS - 1 });
const market = fc.integer({ min: 0, max: 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("deposit" as const), who, amount: fc.integer({ min: 1, max: 100_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who, amount: fc.integer({ min: 1, max: 150_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("slowRequest" as const),
      who,
      amount: fc.integer({ min: 1, max: 100_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("slowClaim" as const), who }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("price" as const), market, bps: fc.integer({ min: -2500, max: 2500 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("oracleFailure" as const),
      market,
      how: fc.constantFrom("stale" as const, "insane" as const, "broken" as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("time" as const), seconds: fc.integer({ min: 1, max: 7_200 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("funding" as const),
      market,
      rate: fc.integer({ min: -2_000_000, max: 2_000_000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("liquidate" as const),
      liquidator: fc.oneof(fc.constant(4), who),
      pick: fc.nat(),
      mode: fc.constantFrom("max" as const, "max" as const, "lot" as const, "half" as const, "over" as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("forcedRequest" as const),
      who,
      amount: fc.integer({ min: 0, max: 50_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("serveForced" as const), server: who, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pause" as const) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      packed: fc.boolean(),
      fills: fc.array(
        fc.record({
          maker: who,
          taker: who,
          market,
          makerBuys: fc.boolean(),
          lots: fc.integer({ min: 1, max: 60_000 }),
          ticks: fc.integer({ min: -500, max: 500 }),
          discount: fc.boolean(),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  },
);

// Reverts each kind of step may meet; anything else (a panic, an overflow, an unexpected error) fails the test.
const ORACLE = "OracleStale|OraclePriceOutOfBounds";
const EXPECTED: Record<Step["kind"], RegExp> = {
  deposit: /ExchangeFrozen/,
  withdraw: new RegExp(`InsufficientMargin|ExchangePaused|ExchangeFrozen|${ORACLE}`),
  slowRequest: /ExchangeFrozen/,
  slowClaim: new RegExp(`NoPendingWithdrawal|WithdrawalNotClaimable|InsufficientMargin|ExchangeFrozen|${ORACLE}`),
  price: /$^/,
  oracleFailure: /$^/,
  time: /$^/,
  funding: new RegExp(`ExchangeFrozen|${ORACLE}`),
  liquidate: new RegExp(
    `AccountHealthy|NoPositionToLiquidate|SelfLiquidation|InvalidLiquidationSize|LiquidationTooLarge|` +
      `LiquidatorMarginCheckFailed|ExchangeFrozen|${ORACLE}`,
  ),
  forcedRequest: /NoPosition|ForcedExitOpen|ExchangeFrozen/,
  serveForced: new RegExp(`NoForcedExit|NoPosition|CannotServeSelf|InsufficientMargin|ExchangeFrozen|${ORACLE}`),
  pause: /PauseCooldown|NotPaused/,
  batch: /AccountMarginCheckFailed|MarkPriceUnavailable|ExchangePaused|ExchangeFrozen/,
};

async function invariantFixture() {
  const fx = await deployFixture();
  const lens = await hre.viem.deployContract("InvariantLens");
  const wallets = [fx.alice, fx.bob, fx.carol, fx.dave, fx.stranger];
  for (const w of wallets) {
    await fx.token.write.approve([fx.exchange.address, maxUint256], { account: w.account });
  }
  await fx.token.write.mint([addr(fx.stranger), usd("5000000")]);
  await fx.exchange.write.deposit([usd("5000000")], { account: fx.stranger.account });
  return { fx, lens, wallets };
}

interface RunStats {
  steps: number;
  batches: number;
  /** Batches settled through settlePacked. */
  packedBatches: number;
  fills: number;
  liquidations: number;
  badDebts: number;
  socialised: number;
  fundingUpdates: number;
  forcedServed: number;
  slowClaims: number;
  freezes: number;
  escapes: number;
  proRata: number;
  negativeEquityAtFreeze: number;
  maxDust: bigint;
}

describe("Exchange: invariants under random operation (fast-check)", () => {
  it("solvent and balanced after every step; after freeze and all escapes, paid + insurance + fees == held", async function () {
    this.timeout(900_000);
    const stats: RunStats = {
      steps: 0,
      batches: 0,
      packedBatches: 0,
      fills: 0,
      liquidations: 0,
      badDebts: 0,
      socialised: 0,
      fundingUpdates: 0,
      forcedServed: 0,
      slowClaims: 0,
      freezes: 0,
      escapes: 0,
      proRata: 0,
      negativeEquityAtFreeze: 0,
      maxDust: 0n,
    };
    const maxSteps = Number(process.env.FC_STEPS ?? 120);
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: Math.ceil(maxSteps / 3), maxLength: maxSteps }),
        fc.boolean(),
        fc.boolean(),
        async (steps, freezeAtEnd, feedsAtFreeze) => {
          const { fx, lens, wallets } = await loadFixture(invariantFixture);
          const accounts = wallets.map(addr);
          const fair = [price(await fx.btcFeed.read.answer()), price(await fx.ethFeed.read.answer())];
          const broken = [false, false];
          const fundingActive = [false, false];
          let dust = 0n; // rounding the Exchange may have kept so far (see the header)
          let block = await fx.publicClient.getBlockNumber();

          const feedOf = (m: number) => (m === BTC ? fx.btcFeed : fx.ethFeed);
          async function refreshFeeds() {
            for (const m of [BTC, ETH]) {
              if (broken[m]) await feedOf(m).write.setBroken([false]);
              broken[m] = false;
              await feedOf(m).write.setAnswer([fair[m] * 100n]);
            }
          }
          await refreshFeeds();

          /** Counts this step's events: the rounding they may leave behind, and statistics. */
          async function scanLogs() {
            const now = await fx.publicClient.getBlockNumber();
            if (now === block) return;
            const logs = await fx.publicClient.getLogs({
              address: fx.exchange.address,
              fromBlock: block + 1n,
              toBlock: now,
            });
            block = now;
            for (const e of parseEventLogs({ abi: fx.ext.abi, logs, strict: false })) {
              const args = e.args as Record<string, unknown>;
              switch (e.eventName) {
                case "FundingUpdated":
                  stats.fundingUpdates++;
                  if (args.longIndex !== 0n || args.shortIndex !== 0n) fundingActive[Number(args.market)] = true;
                  break;
                case "LossSocialized":
                  stats.socialised++;
                  fundingActive[Number(args.market)] = true;
                  dust += BigInt(N_ACCOUNTS + 1);
                  break;
                case "PositionChanged":
                case "FundingSettled":
                  if (fundingActive[Number(args.market)]) dust += 1n;
                  break;
                case "Liquidated":
                  stats.liquidations++;
                  break;
                case "BadDebt":
                  stats.badDebts++;
                  break;
                case "ForcedExitTakeover":
                  stats.forcedServed++;
                  break;
                case "FillSettled":
                  stats.fills++;
                  break;
                case "BatchSettled":
                  stats.batches++;
                  break;
              }
            }
          }

          async function check() {
            const s = await lens.read.snapshot([fx.exchange.address, accounts, 2]);
            for (const m of [BTC, ETH]) {
              expect(s.positionSums[m], `positions in market ${m}`).to.equal(0n);
              expect(s.longSums[m], `open interest of market ${m}`).to.equal(s.openInterest[m]);
            }
            const owed = s.cash - s.pending + BigInt(s.fees) + BigInt(s.insurance);
            const bound = fundingActive[BTC] || fundingActive[ETH] ? dust + s.openPositions : 0n;
            expect(s.balance >= owed, `balance ${s.balance} < owed ${owed}`).to.equal(true);
            expect(
              s.balance - owed <= bound,
              `balance ${s.balance} - owed ${owed} = ${s.balance - owed} > dust bound ${bound}`,
            ).to.equal(true);
            if (s.balance - owed > stats.maxDust) stats.maxDust = s.balance - owed;
            return s;
          }

          async function attempt(kind: Step["kind"], p: () => Promise<unknown>) {
            try {
              await p();
            } catch (e) {
              expect(String(e), `${kind}: unexpected revert`).to.match(EXPECTED[kind]);
            }
          }

          for (const s of steps) {
            stats.steps++;
            if (s.kind === "deposit") {
              const amt = usd(String(s.amount));
              await fx.token.write.mint([accounts[s.who], amt]);
              await attempt(s.kind, () => fx.exchange.write.deposit([amt], { account: wallets[s.who].account }));
            } else if (s.kind === "withdraw") {
              await attempt(s.kind, () => fastWithdraw(fx, wallets[s.who], usd(String(s.amount))));
            } else if (s.kind === "slowRequest") {
              await attempt(s.kind, () =>
                fx.ext.write.requestWithdrawal([usd(String(s.amount))], { account: wallets[s.who].account }),
              );
            } else if (s.kind === "slowClaim") {
              await attempt(s.kind, async () => {
                await fx.ext.write.claimWithdrawal([accounts[s.who]], { account: wallets[s.who].account });
                stats.slowClaims++;
              });
            } else if (s.kind === "price") {
              const m = MARKETS[s.market];
              let p = (fair[s.market] * BigInt(10_000 + s.bps)) / 10_000n;
              if (p < m.min) p = m.min;
              fair[s.market] = p;
              await refreshFeeds();
            } else if (s.kind === "oracleFailure") {
              const feed = feedOf(s.market);
              if (s.how === "broken") {
                await feed.write.setBroken([true]);
                broken[s.market] = true;
              } else if (s.how === "stale") {
                await feed.write.setAnswerAt([fair[s.market] * 100n, BigInt(await time.latest()) - 4_000n]);
              } else {
                await feed.write.setAnswer([(MARKETS[s.market].min / 2n - 1n) * 100n]); // below minPrice
              }
            } else if (s.kind === "time") {
              await time.increase(s.seconds);
              await refreshFeeds();
            } else if (s.kind === "funding") {
              await attempt(s.kind, () => fx.ext.write.updateFunding([s.market, BigInt(s.rate)]));
            } else if (s.kind === "liquidate") {
              // a liquidatable (account, market) if there is one, else any (which must revert cleanly)
              const candidates: { a: number; m: number; max: bigint }[] = [];
              for (let a = 0; a < N_ACCOUNTS; a++) {
                for (const m of [BTC, ETH]) {
                  const max = await fx.ext.read.maxLiquidationSize([accounts[a], m]).catch(() => 0n);
                  if (max > 0n) candidates.push({ a, m, max });
                }
              }
              const c = candidates.length
                ? candidates[s.pick % candidates.length]
                : { a: s.pick % N_ACCOUNTS, m: (s.pick >> 3) % 2, max: 0n };
              const lot = MARKETS[c.m].lot;
              const size =
                s.mode === "max"
                  ? c.max
                  : s.mode === "lot"
                    ? lot
                    : s.mode === "half"
                      ? ((c.max / 2n + lot - 1n) / lot) * lot
                      : c.max + lot;
              await attempt(s.kind, () =>
                fx.ext.write.liquidate([accounts[c.a], c.m, size], { account: wallets[s.liquidator].account }),
              );
            } else if (s.kind === "forcedRequest") {
              await attempt(s.kind, () =>
                fx.ext.write.requestForcedExit([usd(String(s.amount))], { account: wallets[s.who].account }),
              );
            } else if (s.kind === "serveForced") {
              const target = s.pick % N_ACCOUNTS;
              const m = (s.pick >> 3) % 2;
              await attempt(s.kind, () =>
                fx.ext.write.serveForcedExit([accounts[target], m], { account: wallets[s.server].account }),
              );
            } else if (s.kind === "pause") {
              const [, pausedUntil] = await fx.ext.read.exitStatus();
              const paused = BigInt(await time.latest()) < pausedUntil;
              await attempt(s.kind, () =>
                paused
                  ? fx.ext.write.unpause({ account: fx.guardian.account })
                  : fx.ext.write.pause({ account: fx.guardian.account }),
              );
            } else {
              const orders = [];
              const fills = [];
              for (const f of s.fills) {
                if (f.maker === f.taker) continue;
                const m = MARKETS[f.market];
                const mark = await fx.exchange.read.markPrice([m.id]).catch(() => fair[f.market]);
                const p = (mark / m.tick + BigInt(f.ticks)) * m.tick;
                if (p <= 0n) continue;
                const sz = BigInt(f.lots) * m.lot;
                const maker = await makeOrder(fx, wallets[f.maker], {
                  market: m.id,
                  isBuy: f.makerBuys,
                  price: p,
                  size: sz,
                });
                const taker = await makeOrder(fx, wallets[f.taker], {
                  market: m.id,
                  isBuy: !f.makerBuys,
                  price: p,
                  size: sz,
                });
                orders.push(maker, taker);
                const makerFee = feeCap(sz, p, m.rates.maker);
                fills.push({
                  maker: orders.length - 2,
                  taker: orders.length - 1,
                  size: sz,
                  price: p,
                  makerFee,
                  takerFee: f.discount ? -makerFee : feeCap(sz, p, m.rates.taker),
                });
              }
              if (fills.length)
                await attempt(s.kind, async () => {
                  await settle(fx, orders, fills, { packed: s.packed });
                  if (s.packed) stats.packedBatches++;
                });
            }
            await scanLogs();
            await check();
          }

          if (!freezeAtEnd) return;
          // ---- freeze: an account holding a position files a forced request nobody serves
          const holders: number[] = [];
          for (let a = 0; a < N_ACCOUNTS; a++) {
            if ((await fx.exchange.read.accountOf([accounts[a]]))[2] !== 0n) holders.push(a);
          }
          let requester = -1;
          for (const a of holders) if ((await fx.ext.read.exitOf([accounts[a]]))[0] !== 0n) requester = a;
          if (requester < 0 && holders.length) {
            requester = holders[0];
            await fx.ext.write.requestForcedExit([0n], { account: wallets[requester].account });
          }
          if (requester < 0) return; // nobody holds a position: nothing can freeze the Exchange
          const params = await fx.ext.read.exitParams();
          await time.increase(params.forcedExitGracePeriod + 1);
          if (feedsAtFreeze) await refreshFeeds(); // else: final prices from the last funding mark, or pending
          await fx.ext.write.freeze([accounts[requester]], { account: fx.keeper.account });
          stats.freezes++;
          await scanLogs();
          const atFreeze = await check();

          // nothing moves money any more
          await attempt("deposit", () => fx.exchange.write.deposit([1n], { account: wallets[0].account }));
          await attempt("liquidate", () =>
            fx.ext.write.liquidate([accounts[0], BTC, 10_000n], { account: wallets[4].account }),
          );
          await attempt("slowClaim", () =>
            fx.ext.write.claimWithdrawal([accounts[0]], { account: wallets[0].account }),
          );

          // ---- escapes: final prices, registration of every account, then claims after the window
          for (const m of [BTC, ETH]) {
            if ((await fx.ext.read.escapeState([m]))[0] === 0n) {
              await refreshFeeds();
              await fx.ext.write.fixFinalPrice([m], { account: fx.keeper.account });
            }
          }
          let negative = 0n;
          let claims = 0n;
          for (const a of accounts) {
            const r = await fx.publicClient.waitForTransactionReceipt({
              hash: await fx.ext.write.escapeRegister([a], { account: fx.keeper.account }),
            });
            const [ev] = parseEventLogs({ abi: fx.ext.abi, logs: r.logs, eventName: "EscapeRegistered" });
            if (ev.args.equity < 0n) negative += -ev.args.equity;
            claims += ev.args.claim;
          }
          if (negative > 0n) stats.negativeEquityAtFreeze++;
          const [, totalClaims] = await fx.ext.read.escapeState([BTC]);
          expect(totalClaims).to.equal(claims);
          await time.increase(params.exitWindow + 1);
          let paid = 0n;
          let claimants = 0n;
          for (let i = 0; i < N_ACCOUNTS; i++) {
            const r = await fx.publicClient.waitForTransactionReceipt({
              hash: await fx.ext.write.escapeClaim([accounts[i]], { account: wallets[i].account }),
            });
            const [ev] = parseEventLogs({ abi: fx.ext.abi, logs: r.logs, eventName: "EscapeClaimed" });
            expect(ev.args.paid <= ev.args.claim).to.equal(true);
            paid += ev.args.paid;
            if (ev.args.claim > 0n) claimants++;
            stats.escapes++;
          }
          const [, , held, poolFixed] = await fx.ext.read.escapeState([BTC]);
          expect(poolFixed).to.equal(true);
          expect(held).to.equal(atFreeze.balance); // nothing moved between the freeze and the first claim
          expect(await fx.token.read.balanceOf([fx.exchange.address])).to.equal(held - paid);
          const fees = BigInt(atFreeze.fees);
          const insurance = BigInt(atFreeze.insurance);
          if (claims <= held) {
            expect(paid).to.equal(claims);
            const d = held - (paid + insurance + fees - negative);
            const bound = dust + 2n * atFreeze.openPositions;
            expect(
              d >= 0n && d <= bound,
              `held ${held} - (paid ${paid} + insurance ${insurance} + fees ${fees} - negative ${negative}) = ${d}, bound ${bound}`,
            ).to.equal(true);
          } else {
            stats.proRata++;
            expect(paid <= held).to.equal(true);
            expect(held - paid < claimants, `pro rata: held ${held}, paid ${paid}`).to.equal(true);
          }
        },
      ),
      {
        numRuns: Number(process.env.FC_RUNS ?? 60),
        seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
      },
    );
    console.log(
      `      ${stats.steps} steps: ${stats.batches} batches (${stats.packedBatches} packed, ${stats.fills} fills), ${stats.liquidations} liquidations ` +
        `(${stats.badDebts} bad debts, ${stats.socialised} socialised), ${stats.fundingUpdates} funding updates, ` +
        `${stats.forcedServed} forced takeovers, ${stats.slowClaims} slow claims, ${stats.freezes} freezes, ` +
        `${stats.escapes} escapes (${stats.proRata} pro rata, ${stats.negativeEquityAtFreeze} with negative equity), ` +
        `max dust ${stats.maxDust}`,
    );
    // The property must have exercised every part, not only refused actions.
    expect(stats.fills).to.be.greaterThan(0);
    expect(stats.packedBatches).to.be.greaterThan(0);
    expect(stats.liquidations).to.be.greaterThan(0);
    expect(stats.badDebts).to.be.greaterThan(0);
    expect(stats.fundingUpdates).to.be.greaterThan(0);
    expect(stats.freezes).to.be.greaterThan(0);
    expect(stats.escapes).to.be.greaterThan(0);
  });
});

/** 6-decimal price from an 8-decimal feed answer. */
function price(answer: bigint): bigint {
  return answer / 100n;
}
