// The liquidation formulas. The Exchange contract (LiquidationMath in contracts/exchange/Liquidation.sol) and
// the matcher's pre-trade risk compute exactly these numbers; test/sdk/liquidation.vectors.json holds shared
// vectors that both sides are tested against. Pure bigint, no I/O.
//
// An account whose equity (at oracle marks, pending funding included) is below its maintenance requirement
// may be liquidated by anyone: the liquidator takes over `size` of one position at the mark, like a trade
// (the side that buys pays ceil(size*mark/SIZE_ONE), the side that sells gets the floor; the remainder goes
// to the insurance fund), and the account pays a penalty:
//
//   notional  = ceil(size * mark / SIZE_ONE)
//   penalty   = ceil(notional * mmf * penaltyShare / RATE_ONE^2)         (a share of the maintenance margin)
//   reward    = floor(penalty * liquidatorShare / RATE_ONE)              (to the liquidator)
//   insurance = penalty - reward + takeover rounding remainder (0 or 1)
//
// "Down to healthy": size <= maxLiquidationSize = the whole position when equity < 0 (bankrupt), else
//   min(|position|, lotCeil(ceil((maintenance - equity + HEALTH_BUFFER) * SIZE_ONE * RATE_ONE^2
//                                 / (mark * mmf * (RATE_ONE - penaltyShare)))))
// The health gain of liquidating q exceeds q*mark*mmf*(RATE_ONE-penaltyShare)/(SIZE_ONE*RATE_ONE^2) - 5 (each
// of the roundings costs at most one unit), so with HEALTH_BUFFER = 5 taking maxLiquidationSize (when it is
// below the whole position) leaves the account healthy.
//
// Bad debt: when the account ends with no position and negative cash, the insurance fund covers
// min(debt, fund); the rest is socialised on the other side of the market just liquidated (the side that
// profited) through that side's funding index (sdk/funding.ts).
import { type AccountState, type Marks, type Risks, equity, maintenanceRequirement } from "./margin";
import { RATE_ONE, SIZE_ONE, abs, divCeil, divFloor } from "./units";

/** Penalty as a share (ppm) of the maintenance margin of the liquidated notional. Contract constant. */
export const LIQUIDATION_PENALTY_SHARE_PPM = 500_000n;
/** Share (ppm) of the penalty paid to the liquidator; the rest goes to the insurance fund. Contract constant. */
export const LIQUIDATOR_SHARE_PPM = 500_000n;
/** Quote units of rounding slack in maxLiquidationSize. */
export const HEALTH_BUFFER = 5n;

export interface LiquidationParams {
  penaltySharePpm: bigint;
  liquidatorSharePpm: bigint;
}

export const DEFAULT_LIQUIDATION_PARAMS: LiquidationParams = {
  penaltySharePpm: LIQUIDATION_PENALTY_SHARE_PPM,
  liquidatorSharePpm: LIQUIDATOR_SHARE_PPM,
};

/** Cash moved by one liquidation. accountCashDelta + liquidatorCashDelta + insuranceCredit === 0n. */
export interface LiquidationAmounts {
  /** Takeover cash of the liquidated account minus the penalty. */
  accountCashDelta: bigint;
  /** Takeover cash of the liquidator (the other side of the trade) plus its reward. */
  liquidatorCashDelta: bigint;
  penalty: bigint;
  liquidatorReward: bigint;
  /** The penalty's insurance share plus the takeover's rounding remainder (0 or 1). */
  insuranceCredit: bigint;
}

function checkParams(p: LiquidationParams) {
  if (p.penaltySharePpm < 0n || p.penaltySharePpm >= RATE_ONE)
    throw new RangeError(`liquidation: penaltySharePpm must be in [0, 1e6), got ${p.penaltySharePpm}`);
  if (p.liquidatorSharePpm < 0n || p.liquidatorSharePpm > RATE_ONE)
    throw new RangeError(`liquidation: liquidatorSharePpm must be in [0, 1e6], got ${p.liquidatorSharePpm}`);
}

/** Penalty for liquidating `size` (> 0, 1e-8 base units) at `mark` in a market of maintenance fraction `mmfPpm`. */
export function liquidationPenalty(
  size: bigint,
  mark: bigint,
  mmfPpm: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): bigint {
  checkParams(params);
  const notional = divCeil(abs(size) * mark, SIZE_ONE);
  return divCeil(notional * mmfPpm * params.penaltySharePpm, RATE_ONE * RATE_ONE);
}

/** The liquidator's and the insurance fund's parts of a penalty. */
export function splitPenalty(
  penalty: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): { toLiquidator: bigint; toInsurance: bigint } {
  checkParams(params);
  const toLiquidator = divFloor(penalty * params.liquidatorSharePpm, RATE_ONE);
  return { toLiquidator, toInsurance: penalty - toLiquidator };
}

/**
 * Cash moved when a liquidator takes over `size` (> 0) of a position of signed size `positionSize` at `mark`.
 * The account's position moves toward zero by `size`, the liquidator's by the opposite amount.
 */
export function liquidationAmounts(
  positionSize: bigint,
  size: bigint,
  mark: bigint,
  mmfPpm: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): LiquidationAmounts {
  if (positionSize === 0n) throw new RangeError("liquidation: flat position");
  if (size <= 0n || size > abs(positionSize)) throw new RangeError(`liquidation: size ${size} out of range`);
  const pays = divCeil(size * mark, SIZE_ONE);
  const gets = divFloor(size * mark, SIZE_ONE);
  const penalty = liquidationPenalty(size, mark, mmfPpm, params);
  const { toLiquidator, toInsurance } = splitPenalty(penalty, params);
  const long = positionSize > 0n;
  return {
    accountCashDelta: (long ? gets : -pays) - penalty,
    liquidatorCashDelta: (long ? -pays : gets) + toLiquidator,
    penalty,
    liquidatorReward: toLiquidator,
    insuranceCredit: toInsurance + (pays - gets),
  };
}

/**
 * Largest size that may be liquidated from a position of signed size `positionSize` (market lot `lotSize`,
 * maintenance fraction `mmfPpm`, mark `mark`), given the account's equity and maintenance requirement over
 * all its markets. 0 when the account is healthy (equity >= maintenance); the whole position when it is
 * bankrupt (equity < 0); otherwise the smallest lot multiple that restores health, capped at the position.
 */
export function maxLiquidationSize(
  accountEquity: bigint,
  maintenance: bigint,
  positionSize: bigint,
  mark: bigint,
  mmfPpm: bigint,
  lotSize: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): bigint {
  checkParams(params);
  if (mark <= 0n || mmfPpm <= 0n || lotSize <= 0n) throw new RangeError("liquidation: mark, mmf and lot must be > 0");
  const positionAbs = abs(positionSize);
  if (accountEquity >= maintenance) return 0n;
  if (accountEquity < 0n) return positionAbs;
  const need = maintenance - accountEquity + HEALTH_BUFFER;
  let q = divCeil(need * SIZE_ONE * RATE_ONE * RATE_ONE, mark * mmfPpm * (RATE_ONE - params.penaltySharePpm));
  q = divCeil(q, lotSize) * lotSize;
  return q < positionAbs ? q : positionAbs;
}

/** Below maintenance at these marks: liquidatable. */
export { isLiquidatable } from "./margin";

/** Equity below zero: the account's positions are worth less than its debt; liquidation takes whole positions. */
export function isBankrupt(acct: AccountState, marks: Marks): boolean {
  return equity(acct, marks) < 0n;
}

/** maxLiquidationSize for `market` of an account state (0 when flat in that market or healthy). */
export function maxLiquidationSizeOf(
  acct: AccountState,
  market: number,
  marks: Marks,
  risks: Risks,
  lotSize: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): bigint {
  const pos = acct.positions.get(market) ?? 0n;
  if (pos === 0n) return 0n;
  const mark = marks.get(market);
  const risk = risks.get(market);
  if (mark === undefined || risk === undefined) throw new Error(`liquidation: no mark or risk for market ${market}`);
  return maxLiquidationSize(
    equity(acct, marks),
    maintenanceRequirement(acct, marks, risks),
    pos,
    mark,
    risk.mmfPpm,
    lotSize,
    params,
  );
}

/** Bad debt `debt` (> 0) against an insurance fund of `fund`: what the fund covers and what is socialised. */
export function badDebtSplit(debt: bigint, fund: bigint): { coveredByInsurance: bigint; socialised: bigint } {
  if (debt < 0n || fund < 0n) throw new RangeError("liquidation: negative debt or fund");
  const coveredByInsurance = debt < fund ? debt : fund;
  return { coveredByInsurance, socialised: debt - coveredByInsurance };
}

export interface LiquidationOutcome {
  amounts: LiquidationAmounts;
  /** The liquidated account after the takeover (before any bad-debt cover). */
  account: AccountState;
  /** The liquidator after the takeover. */
  liquidator: AccountState;
  /** Negative cash left on an account with no position (0n otherwise): what insurance and socialisation cover. */
  badDebt: bigint;
}

/**
 * The state change of `liquidate(account, market, size)` on plain account states (no funding): the contract
 * also settles the two positions' pending funding into cash first, which does not change equity. Does not
 * check liquidatability, the size limit or the liquidator's margin (see maxLiquidationSizeOf and
 * margin.passesSettlementCheck).
 */
export function applyLiquidation(
  account: AccountState,
  liquidator: AccountState,
  market: number,
  size: bigint,
  mark: bigint,
  mmfPpm: bigint,
  params: LiquidationParams = DEFAULT_LIQUIDATION_PARAMS,
): LiquidationOutcome {
  const pos = account.positions.get(market) ?? 0n;
  const a = liquidationAmounts(pos, size, mark, mmfPpm, params);
  const delta = pos > 0n ? -size : size;
  const acct: AccountState = { cash: account.cash + a.accountCashDelta, positions: new Map(account.positions) };
  acct.positions.set(market, pos + delta);
  const liq: AccountState = { cash: liquidator.cash + a.liquidatorCashDelta, positions: new Map(liquidator.positions) };
  liq.positions.set(market, (liq.positions.get(market) ?? 0n) - delta);
  const flat = [...acct.positions.values()].every((s) => s === 0n);
  return { amounts: a, account: acct, liquidator: liq, badDebt: flat && acct.cash < 0n ? -acct.cash : 0n };
}
