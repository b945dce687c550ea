// Funding arithmetic. The Exchange (contracts/libraries/FundingMath.sol, used by exchange/Funding.sol,
// exchange/FundingUpdates.sol and the settlement hot path) and the matcher's pre-trade risk compute exactly
// these numbers; test/sdk/funding.vectors.json holds shared vectors both sides are tested against.
//
// Units: index in 1e-6 quote units (1e-12 USD) per whole base unit (price units x 1e6); rate in 1e-9 per funding
// interval (positive: longs pay shorts); size in 1e-8 base units; amounts in quote units.
//
// Each market has two cumulative indices, longIndex and shortIndex. A position of signed size s whose
// snapshot is k owes ceil(s * (index - k) / 1e14), index being its side's: positive = pays (rounded up,
// against the payer), negative = receives (rounded toward zero). A funding update moves both indices by
// the same delta; a socialised loss moves only the charged side's (longs: up; shorts: down). Pending
// funding is settled into cash lazily, whenever settlement, a liquidation or a withdrawal touches the
// position; equity (sdk/margin.ts) must use cash - pendingFunding.
import { divCeil } from "./units";

/** size units per base unit (1e8) x index units per price unit (1e6). */
export const FUNDING_INDEX_DIVISOR = 10n ** 14n;
/** Index move per interval = mark * rate / FUNDING_RATE_DIVISOR (mark x 1e6 index units per price unit / 1e9 per rate unit). */
export const FUNDING_RATE_DIVISOR = 1_000n;
/** Rate units per one (rates are in 1e-9 per interval). */
export const FUNDING_RATE_ONE = 1_000_000_000n;

/** Defaults and bounds of the contract's funding parameters (FundingUpdates.sol). */
export const DEFAULT_FUNDING_PARAMS: FundingParams = {
  interval: 3_600n,
  maxRate: 1_000_000n,
  maxRateChange: 250_000n,
};

export interface FundingParams {
  /** Seconds. */
  interval: bigint;
  /** Largest |rate| per interval, 1e-9. */
  maxRate: bigint;
  /** Largest rate change per interval of elapsed time, 1e-9. */
  maxRateChange: bigint;
}

export interface MarketFunding {
  longIndex: bigint;
  shortIndex: bigint;
  /** Last applied rate, 1e-9 per interval. */
  lastRate: bigint;
  /** Time of the last update (seconds); 0 before the first. */
  lastTime: bigint;
  /** Oracle mark of the last update; 0 before the first. */
  lastMark: bigint;
}

/** What a position of `size` owes for a move `indexDelta` of its side's index (positive = pays). */
export function fundingOwed(size: bigint, indexDelta: bigint): bigint {
  return divCeil(size * indexDelta, FUNDING_INDEX_DIVISOR);
}

/** Pending funding of a position (signed size, snapshot) at the market's indices; 0 when flat. */
export function pendingFunding(size: bigint, longIndex: bigint, shortIndex: bigint, snapshot: bigint): bigint {
  if (size === 0n) return 0n;
  return fundingOwed(size, (size > 0n ? longIndex : shortIndex) - snapshot);
}

/** The snapshot a position gets when its funding is settled: its side's index (0 when flat). */
export function snapshotFor(size: bigint, longIndex: bigint, shortIndex: bigint): bigint {
  return size === 0n ? 0n : size > 0n ? longIndex : shortIndex;
}

/** Move of both indices when `rate` accrues for `dt` of `interval` seconds at `mark`, rounded toward zero. */
export function indexDelta(mark: bigint, rate: bigint, dt: bigint, interval: bigint): bigint {
  return (mark * rate * dt) / (interval * FUNDING_RATE_DIVISOR); // bigint division truncates toward zero
}

/** Largest rate change allowed after `dt` seconds (at most one interval) of `interval`. */
export function maxRateStep(maxRateChange: bigint, dt: bigint, interval: bigint): bigint {
  return (maxRateChange * dt) / interval;
}

/** `requested` clamped to within `step` of `lastRate`, then to [-maxRate, maxRate]. */
export function clampFundingRate(requested: bigint, lastRate: bigint, maxRate: bigint, step: bigint): bigint {
  let r = requested;
  if (r > lastRate + step) r = lastRate + step;
  if (r < lastRate - step) r = lastRate - step;
  if (r > maxRate) r = maxRate;
  if (r < -maxRate) r = -maxRate;
  return r;
}

/** Move of the charged side's index that charges `amount` over `openInterest` (> 0): rounded up. */
export function socialLossDelta(amount: bigint, openInterest: bigint): bigint {
  if (openInterest <= 0n) throw new RangeError("socialLossDelta: no open interest");
  return divCeil(amount * FUNDING_INDEX_DIVISOR, openInterest);
}

/** The market's indices after a socialised loss of `amount` charged to longs or shorts. */
export function applySocialLoss(
  state: Pick<MarketFunding, "longIndex" | "shortIndex">,
  chargeLongs: boolean,
  amount: bigint,
  openInterest: bigint,
): { longIndex: bigint; shortIndex: bigint; charged: bigint } {
  if (amount === 0n || openInterest === 0n) return { ...state, charged: 0n };
  const d = socialLossDelta(amount, openInterest);
  return chargeLongs
    ? { longIndex: state.longIndex + d, shortIndex: state.shortIndex, charged: amount }
    : { longIndex: state.longIndex, shortIndex: state.shortIndex - d, charged: amount };
}

export interface FundingUpdateResult {
  applied: bigint;
  delta: bigint;
  state: MarketFunding;
}

/**
 * `updateFunding(market, requested)` at time `now` with oracle mark `mark`: the clamped rate (within
 * maxRateChange * min(elapsed, interval) / interval of the last rate, the first update within a whole
 * interval's change from 0, then |rate| <= maxRate) accrues over min(elapsed, interval); the first update
 * accrues nothing.
 */
export function applyFundingUpdate(
  state: MarketFunding,
  requested: bigint,
  mark: bigint,
  now: bigint,
  params: FundingParams = DEFAULT_FUNDING_PARAMS,
): FundingUpdateResult {
  const first = state.lastTime === 0n;
  let dt = first ? 0n : now - state.lastTime;
  if (dt > params.interval) dt = params.interval;
  const step = maxRateStep(params.maxRateChange, first ? params.interval : dt, params.interval);
  const applied = clampFundingRate(requested, state.lastRate, params.maxRate, step);
  const delta = indexDelta(mark, applied, dt, params.interval);
  return {
    applied,
    delta,
    state: {
      longIndex: state.longIndex + delta,
      shortIndex: state.shortIndex + delta,
      lastRate: applied,
      lastTime: now,
      lastMark: mark,
    },
  };
}

/** Cash an account would hold after settling the pending funding of every listed position. */
export function cashAfterFunding(
  cash: bigint,
  positions: Iterable<{ size: bigint; snapshot: bigint; longIndex: bigint; shortIndex: bigint }>,
): bigint {
  let c = cash;
  for (const p of positions) c -= pendingFunding(p.size, p.longIndex, p.shortIndex, p.snapshot);
  return c;
}
