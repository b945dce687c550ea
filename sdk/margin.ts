// The margin formula. The Exchange contract (contracts/libraries/Margin.sol) and the
// matcher's pre-trade risk compute exactly these numbers; test/sdk/margin.vectors.json
// holds shared vectors that both sides are tested against.
//
// Account model ("cash + positions"): an account holds a signed cash balance in quote
// units and, per market, a signed size. Buying `s` at price `p` moves `s` into the
// position and `s*p/SIZE_ONE` (rounded up) out of cash; selling moves floor(s*p/SIZE_ONE)
// into cash. Realised PnL is therefore already in cash when a position shrinks; entry
// prices are a display concern derived off-chain from fills.
//
//   equity        = cash + Σ floor(size_i * mark_i / SIZE_ONE)
//   requirement_f = Σ ceil(ceil(|size_i| * mark_i / SIZE_ONE) * f_i / RATE_ONE),  f = imf or mmf
//
// Every rounding goes against the account, so the Exchange stays solvent.
import { RATE_ONE, SIZE_ONE, abs, divCeil, divFloor, notionalCeil, positionValue } from "./units";

export interface MarketRisk {
  /** Initial margin fraction, ppm (10x max leverage = 100_000). */
  imfPpm: bigint;
  /** Maintenance margin fraction, ppm; must be below imfPpm. */
  mmfPpm: bigint;
}

export interface AccountState {
  cash: bigint;
  /** Signed size per market id; zero or absent means flat. */
  positions: Map<number, bigint>;
}

export type Marks = ReadonlyMap<number, bigint>;
export type Risks = ReadonlyMap<number, MarketRisk>;

function markOf(marks: Marks, market: number): bigint {
  const m = marks.get(market);
  if (m === undefined || m <= 0n) throw new Error(`margin: no mark price for market ${market}`);
  return m;
}

function riskOf(risks: Risks, market: number): MarketRisk {
  const r = risks.get(market);
  if (!r) throw new Error(`margin: no risk parameters for market ${market}`);
  return r;
}

export function equity(acct: AccountState, marks: Marks): bigint {
  let e = acct.cash;
  for (const [market, size] of acct.positions) if (size !== 0n) e += positionValue(size, markOf(marks, market));
  return e;
}

/** Margin requirement of one position with fraction `fractionPpm`. */
export function positionRequirement(size: bigint, mark: bigint, fractionPpm: bigint): bigint {
  return divCeil(notionalCeil(size, mark) * fractionPpm, RATE_ONE);
}

export function initialRequirement(acct: AccountState, marks: Marks, risks: Risks): bigint {
  let r = 0n;
  for (const [market, size] of acct.positions)
    if (size !== 0n) r += positionRequirement(size, markOf(marks, market), riskOf(risks, market).imfPpm);
  return r;
}

export function maintenanceRequirement(acct: AccountState, marks: Marks, risks: Risks): bigint {
  let r = 0n;
  for (const [market, size] of acct.positions)
    if (size !== 0n) r += positionRequirement(size, markOf(marks, market), riskOf(risks, market).mmfPpm);
  return r;
}

/** Equity above the initial requirement; what can be withdrawn or used for new orders. */
export function freeCollateral(acct: AccountState, marks: Marks, risks: Risks): bigint {
  return equity(acct, marks) - initialRequirement(acct, marks, risks);
}

/** Below maintenance: may be liquidated. */
export function isLiquidatable(acct: AccountState, marks: Marks, risks: Risks): boolean {
  return equity(acct, marks) < maintenanceRequirement(acct, marks, risks);
}

/** True when some market's position grew in absolute size or changed side. */
export function riskGrew(before: AccountState, after: AccountState): boolean {
  for (const [market, sAfter] of after.positions) {
    const sBefore = before.positions.get(market) ?? 0n;
    if (sAfter === 0n) continue;
    if (abs(sAfter) > abs(sBefore) || (sBefore !== 0n && sBefore > 0n !== sAfter > 0n)) return true;
  }
  return false;
}

/**
 * The check settlement applies to every touched account once, after all its fills:
 * - if its risk grew: equity after >= initial requirement after;
 * - otherwise it must not get worse: either it meets the initial requirement after, or its
 *   equity after is not negative and its maintenance health (equity - maintenance requirement)
 *   did not fall.
 * A bankrupt account (equity < 0 at the marks) therefore cannot trade at all: were it allowed to trade
 * itself flat, its negative cash would be bad debt nobody covers. Liquidation closes it instead, and the
 * insurance fund (or the socialised-loss rule) takes the debt.
 */
export function passesSettlementCheck(before: AccountState, after: AccountState, marks: Marks, risks: Risks): boolean {
  const eqAfter = equity(after, marks);
  const imAfter = initialRequirement(after, marks, risks);
  if (eqAfter >= imAfter) return true;
  if (riskGrew(before, after)) return false;
  if (eqAfter < 0n) return false;
  const healthAfter = eqAfter - maintenanceRequirement(after, marks, risks);
  const healthBefore = equity(before, marks) - maintenanceRequirement(before, marks, risks);
  return healthAfter >= healthBefore;
}

// ---------------------------------------------------------------------------------------------
// Trade arithmetic applied by settlement (contracts/libraries/Margin.sol: buyerPays, sellerReceives,
// feeCap). The buyer pays the notional rounded up, the seller receives it rounded down; the remainder
// (0 or 1 quote unit) goes to the Exchange's fee pool, so cash is conserved exactly.

/** Quote units the buyer of `size` at `price` pays (before fees): ceil(size*price/SIZE_ONE). */
export function buyerPays(size: bigint, price: bigint): bigint {
  return divCeil(size * price, SIZE_ONE);
}

/** Quote units the seller of `size` at `price` receives (before fees): floor(size*price/SIZE_ONE). */
export function sellerReceives(size: bigint, price: bigint): bigint {
  return divFloor(size * price, SIZE_ONE);
}

/**
 * Highest fee a fill may charge at `ratePpm`: ceil(size*price*rate / (SIZE_ONE*RATE_ONE)). For a
 * negative rate (maker rebate) this is the smallest rebate owed. Settlement also requires
 * makerFee + takerFee >= 0 for every fill.
 */
export function feeCap(size: bigint, price: bigint, ratePpm: bigint): bigint {
  return divCeil(size * price * ratePpm, SIZE_ONE * RATE_ONE);
}

/** Fees of a fill the contract accepts: each at most its cap, their sum not negative. */
export function feesAllowed(
  size: bigint,
  price: bigint,
  makerFee: bigint,
  takerFee: bigint,
  makerFeePpm: bigint,
  takerFeePpm: bigint,
): boolean {
  return (
    makerFee <= feeCap(size, price, makerFeePpm) &&
    takerFee <= feeCap(size, price, takerFeePpm) &&
    makerFee + takerFee >= 0n
  );
}
