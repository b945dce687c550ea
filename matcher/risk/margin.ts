// Pre-trade margin on JS numbers, giving exactly the numbers of sdk/margin.ts (tested on random
// inputs in test/matcher/risk.margin.test.ts).
//
// Margin of open orders (the definition used by the engine):
//   For every market m the account has, three scenarios are evaluated:
//     none: the position s as it is;
//     buys: every open non-reduce-only buy fills at its limit price: size s + B,
//           cash - ceil(Σ lots_i*ticks_i * lotSize*tickSize / SIZE_ONE)   (paid, rounded up);
//     sells: every open non-reduce-only sell fills at its limit price: size s - S,
//           cash + floor(Σ ...)                                              (received, rounded down).
//   Each scenario's contribution is sdk/margin's freeCollateral term for that market:
//     h = floor(size*mark/SIZE_ONE) + cashEffect - ceil(ceil(|size|*mark/SIZE_ONE)*imf/RATE_ONE)
//   and the market contributes health_m = min(none, buys, sells). Then
//     free = cash + Σ_m health_m
//   which equals sdk/margin freeCollateral(account) when there are no open orders, and equals
//   freeCollateral of the worst-case account (each market at its worst side) otherwise. A buy
//   above the mark therefore costs its premium over the mark plus the initial margin of the
//   grown position; a buy below the mark never counts as a gain (min with "none").
//   Market orders use their slippage-cap price; reduce-only orders are not counted.
//
// Acceptance rule for a new non-reduce-only order: free after >= 0, or free after >= free before
// (an order that does not worsen the worst case, e.g. a sell smaller than a long, is allowed).
//
// Lower bounds (AccountMarket.lb): the exact health costs several divisions per term, and every order,
// cancel and fill changes it. So each account market also keeps a lower bound of its health, moved by
// a cheap bound at each change (addOrderLb, removeOrderLb, fillLb: a few float multiplications, no
// division), and set to the exact health whenever that is computed. A check whose bound of free
// collateral after the order is >= 0 accepts without the exact figures: the exact check would accept
// too, so the decisions are the same numbers' decisions, only the cost differs. A check whose bound
// falls short computes the exact figures (and so resets the bounds). The bounds come from the integer
// roundings of the terms, with d = lots*lotSize, v = d*mark/SIZE_ONE (the lots' value at the mark),
// c = lots*ticks*quote per lot*tick, imf as a fraction:
//   a buy order moves its side's term by >= v(1-imf) - c - 4, a sell by >= c - v(1+imf) - 4
//     (floor(a+b) >= floor(a)+floor(b), ceil(a+b) <= ceil(a)+ceil(b), and |s+d| <= |s|+d for the
//     requirement), and health, the least of three terms of which one moved, by >= min(0, that);
//   removing a buy moves health by >= -max(0, v(1+imf) - c + 4), a sell by >= -max(0, c - v(1-imf) + 4);
//   a fill of d bought moves the position terms by >= v(1-imf) - 3 (sold: -v(1+imf) - 3), and the
//     filled resting order's own side term, whose size does not move, by >= c - 1 (sold: -c - 1).
// Each bound is taken with a slack of 5 plus 1e-12 of its magnitude (the float error of a few
// operations is ~1e-15 of it), and each float sum is taken down by more than its rounding.
// test/matcher/risk.bounds.test.ts checks each bound, and lb <= health after every command.
import * as fm from "./fastmath";

// module constants instead of imported bindings (tsx/esbuild CJS reads those through getters)
const { mulDivCeil, mulDivFloor, divFloorN } = fm;

export const SIZE_ONE_N = 100_000_000;
export const RATE_ONE_N = 1_000_000;

/** Per-market risk parameters and the current mark, with precomputed exact factors. */
export class MarketRiskState {
  /** lotSize*tickSize / SIZE_ONE as a reduced fraction: quote units per (lot*tick). */
  readonly qpNum: number;
  readonly qpDen: number;
  mark = 0;
  /** lotSize*mark = markQ*SIZE_ONE + markR */
  markQ = 0;
  markR = 0;
  markVersion = 0;
  /**
   * imfPpm / RATE_ONE as a reduced fraction (100,000 ppm: 1/10): the initial requirement
   * ceil(notional * imf / RATE_ONE) is the same number as ceil(notional * imfNum / imfDen), whose
   * product stays in the safe range for notionals up to 2^53 / imfNum, where notional * 100,000
   * left it from ~9e10 quote units (a few BTC at the benchmark's prices) and took mulDivCeil's slower
   * split path (at 1M resting orders, about one call per command).
   */
  readonly imfNum: number;
  readonly imfDen: number;
  /**
   * For the health bounds (see the header), floats: quote units per lot*tick, and a lot's value at the
   * mark times (1 - imf) and (1 + imf).
   */
  readonly qpPerLotTick: number;
  lotNet = 0;
  lotGross = 0;
  constructor(
    readonly index: number,
    readonly lotSize: number,
    readonly tickSize: number,
    readonly imfPpm: number,
    readonly mmfPpm: number,
  ) {
    const num = BigInt(lotSize) * BigInt(tickSize);
    const g = gcd(num, 100_000_000n);
    this.qpNum = Number(num / g);
    this.qpDen = Number(100_000_000n / g);
    const gi = gcd(BigInt(imfPpm), BigInt(RATE_ONE_N));
    this.imfNum = Number(BigInt(imfPpm) / gi);
    this.imfDen = Number(BigInt(RATE_ONE_N) / gi);
    this.qpPerLotTick = this.qpNum / this.qpDen;
  }

  setMark(mark: number): void {
    this.mark = mark;
    const p = BigInt(this.lotSize) * BigInt(mark);
    this.markQ = Number(p / 100_000_000n);
    this.markR = Number(p % 100_000_000n);
    const lotValue = (this.lotSize * mark) / SIZE_ONE_N;
    this.lotNet = lotValue * (1 - this.imfPpm / RATE_ONE_N);
    this.lotGross = lotValue * (1 + this.imfPpm / RATE_ONE_N);
    this.markVersion++;
  }

  /** floor(size * mark / SIZE_ONE), exact (sdk positionValue). */
  value(size: number): number {
    const lots = divFloorN(size, this.lotSize);
    const rem = size - lots * this.lotSize;
    const hi = lots * this.markQ;
    const lo = lots * this.markR + (rem === 0 ? 0 : rem * this.mark);
    if (
      hi <= Number.MAX_SAFE_INTEGER &&
      hi >= -Number.MAX_SAFE_INTEGER &&
      lo <= Number.MAX_SAFE_INTEGER &&
      lo >= -Number.MAX_SAFE_INTEGER
    )
      return hi + divFloorN(lo, SIZE_ONE_N);
    return mulDivFloor(size, this.mark, SIZE_ONE_N);
  }

  /** ceil(|size| * mark / SIZE_ONE) (sdk notionalCeil). */
  notional(size: number): number {
    return -this.value(size < 0 ? size : -size);
  }

  /** sdk positionRequirement(size, mark, fraction). */
  requirement(size: number, fractionPpm: number): number {
    if (size === 0) return 0;
    return mulDivCeil(this.notional(size), fractionPpm, RATE_ONE_N);
  }

  /** Quote units of Σ lots*ticks, rounded down (received) or up (paid). */
  qpFloor(qp: number): number {
    return mulDivFloor(qp, this.qpNum, this.qpDen);
  }
  qpCeil(qp: number): number {
    return mulDivCeil(qp, this.qpNum, this.qpDen);
  }

  /** One scenario's free-collateral contribution. */
  scenario(size: number, cashEffect: number): number {
    if (size === 0) return cashEffect;
    // value(size) + cashEffect - requirement(size, imf), with floor and ceil of |size|*mark/SIZE_ONE
    // from one decomposition (value of a short is -ceil, notional is ceil)
    const abs = size < 0 ? -size : size;
    const lots = Math.floor(abs / this.lotSize);
    const rem = abs - lots * this.lotSize;
    const hi = lots * this.markQ;
    const lo = lots * this.markR + (rem === 0 ? 0 : rem * this.mark);
    let fl: number;
    let ce: number;
    if (hi <= Number.MAX_SAFE_INTEGER && lo <= Number.MAX_SAFE_INTEGER) {
      const q = Math.floor(lo / SIZE_ONE_N);
      fl = hi + q;
      ce = q * SIZE_ONE_N === lo ? fl : fl + 1;
      if (ce > Number.MAX_SAFE_INTEGER) {
        fl = mulDivFloor(abs, this.mark, SIZE_ONE_N);
        ce = mulDivCeil(abs, this.mark, SIZE_ONE_N);
      }
    } else {
      fl = mulDivFloor(abs, this.mark, SIZE_ONE_N);
      ce = mulDivCeil(abs, this.mark, SIZE_ONE_N);
    }
    return (size > 0 ? fl : -ce) + cashEffect - mulDivCeil(ce, this.imfNum, this.imfDen);
  }
}

/** An account's exposure in one market (engine view). */
export class AccountMarket {
  /** Position, size units, signed. */
  pos = 0;
  /** Open non-reduce-only orders: total lots and Σ lots*ticks per side. */
  buyLots = 0;
  buyQP = 0;
  sellLots = 0;
  sellQP = 0;
  /** Counts for limits. */
  openOrders = 0;
  condOrders = 0;
  /** Cached health; valid when !dirty and markVersion matches. */
  health = 0;
  /**
   * Its three terms (healthOf), valid with it: the position alone, with the open buys filled, with the
   * open sells filled (a side with no open orders: the position's term). A new order changes one term:
   * the margin check computes only that one (healthWithOrder).
   */
  hPos = 0;
  hBuy = 0;
  hSell = 0;
  healthVersion = -1;
  dirty = true;
  /**
   * A lower bound of the health (see the header), valid while lbVersion is the mark's version:
   * marketHealth sets it to the health.
   */
  lb = 0;
  lbVersion = -1;
  constructor(readonly market: number) {}
}

/** The bounds' slack for a figure of magnitude x: the roundings' 4 and 1 more, and far more than the float error. */
function slack(x: number): number {
  return 5 + (x < 0 ? -x : x) * 1e-12;
}

/** Lower bound of the change in health from adding an order (lots at ticks) to the isBuy sums (<= 0). */
export function addOrderLb(m: MarketRiskState, isBuy: boolean, lots: number, ticks: number): number {
  const c = lots * ticks * m.qpPerLotTick;
  const d = (isBuy ? lots * m.lotNet - c : c - lots * m.lotGross) - slack(c + lots * m.lotGross);
  return d < 0 ? d : 0;
}

/** Lower bound of the change in health from removing lots at ticks from the isBuy sums (<= 0). */
export function removeOrderLb(m: MarketRiskState, isBuy: boolean, lots: number, ticks: number): number {
  const c = lots * ticks * m.qpPerLotTick;
  const up = (isBuy ? lots * m.lotGross - c : c - lots * m.lotNet) + slack(c + lots * m.lotGross);
  return up > 0 ? -up : 0;
}

/**
 * Lower bound of the change in health from a fill of `lots` at `ticks` that this account bought (buys) or
 * sold; inSums: the filled order is a resting one counted in the sums (they lose those lots).
 */
export function fillLb(m: MarketRiskState, buys: boolean, lots: number, ticks: number, inSums: boolean): number {
  const c = lots * ticks * m.qpPerLotTick;
  let d = buys ? lots * m.lotNet - 3 : -lots * m.lotGross - 3;
  if (inSums) {
    const own = buys ? c - 1 : -c - 1;
    if (own < d) d = own;
  }
  return d - slack(c + lots * m.lotGross);
}

/**
 * a + b as a float that is never above the real sum: taken down by 1e-15 of itself, more than its
 * rounding (at most 2^-53 of it, ~1.1e-16), so a long run of sums of bounds stays a bound.
 */
export function sumDown(a: number, b: number): number {
  const x = a + b;
  return x - (x < 0 ? -x : x) * 1e-15;
}

/** Move am's health bound by `delta` (a bound above), if it holds one for the current mark. */
function moveLb(m: MarketRiskState, am: AccountMarket, delta: number): void {
  if (am.lbVersion === m.markVersion) am.lb = sumDown(am.lb, delta);
}

// The moves the engine makes: each computes and adds its bound in place, so the float never leaves
// the function (a float returned from a call V8 does not inline is boxed: a heap allocation).

/** An order of lots at ticks joins am's isBuy sums: move am's bound (addOrderLb). */
export function lbAddOrder(m: MarketRiskState, am: AccountMarket, isBuy: boolean, lots: number, ticks: number): void {
  if (am.lbVersion === m.markVersion) moveLb(m, am, addOrderLb(m, isBuy, lots, ticks));
}

/** lots at ticks leave am's isBuy sums (a cancel): move am's bound (removeOrderLb). */
export function lbRemoveOrder(
  m: MarketRiskState,
  am: AccountMarket,
  isBuy: boolean,
  lots: number,
  ticks: number,
): void {
  if (am.lbVersion === m.markVersion) moveLb(m, am, removeOrderLb(m, isBuy, lots, ticks));
}

/** A fill for am's account (see fillLb): move am's bound. */
export function lbFill(
  m: MarketRiskState,
  am: AccountMarket,
  buys: boolean,
  lots: number,
  ticks: number,
  inSums: boolean,
): void {
  if (am.lbVersion === m.markVersion) moveLb(m, am, fillLb(m, buys, lots, ticks, inSums));
}

/** healthOf's buy term: the position with the open buys filled at their prices (`none` without buys). */
function buyTerm(m: MarketRiskState, pos: number, buyLots: number, buyQP: number, none: number): number {
  return buyLots > 0 ? m.scenario(pos + buyLots * m.lotSize, -m.qpCeil(buyQP)) : none;
}

/** healthOf's sell term: the position with the open sells filled at their prices (`none` without sells). */
function sellTerm(m: MarketRiskState, pos: number, sellLots: number, sellQP: number, none: number): number {
  return sellLots > 0 ? m.scenario(pos - sellLots * m.lotSize, m.qpFloor(sellQP)) : none;
}

/** The least of the three terms, compared in one fixed order (so -0 and 0 always come out the same). */
function leastTerm(h0: number, hb: number, hs: number): number {
  let h = h0;
  if (hb < h) h = hb;
  if (hs < h) h = hs;
  return h;
}

/** am's health (healthOf of its sums), cached with its terms until its sums or the mark change. */
export function marketHealth(m: MarketRiskState, am: AccountMarket): number {
  if (!am.dirty && am.healthVersion === m.markVersion) return am.health;
  const h0 = m.scenario(am.pos, 0);
  am.hPos = h0;
  am.hBuy = buyTerm(m, am.pos, am.buyLots, am.buyQP, h0);
  am.hSell = sellTerm(m, am.pos, am.sellLots, am.sellQP, h0);
  am.health = leastTerm(h0, am.hBuy, am.hSell);
  am.healthVersion = m.markVersion;
  am.dirty = false;
  am.lb = am.health;
  am.lbVersion = m.markVersion;
  return am.health;
}

/**
 * The isBuy term of am's health with one more order of `lots` at `ticks` on that side: healthOf's buy
 * (sell) term for the sums plus the order.
 */
export function sideTermWithOrder(
  m: MarketRiskState,
  am: AccountMarket,
  isBuy: boolean,
  lots: number,
  ticks: number,
): number {
  return isBuy
    ? buyTerm(m, am.pos, am.buyLots + lots, am.buyQP + lots * ticks, am.hPos)
    : sellTerm(m, am.pos, am.sellLots + lots, am.sellQP + lots * ticks, am.hPos);
}

/**
 * am's health with its isBuy term replaced by `term` (sideTermWithOrder): healthOf of the sums plus
 * that order. am's cached terms must be valid (marketHealth just before, same mark).
 */
export function healthWithSideTerm(am: AccountMarket, isBuy: boolean, term: number): number {
  return leastTerm(am.hPos, isBuy ? term : am.hBuy, isBuy ? am.hSell : term);
}

/** Free-collateral contribution of one market: the least of its three scenarios (sdk freeCollateral). */
export function healthOf(
  m: MarketRiskState,
  pos: number,
  buyLots: number,
  buyQP: number,
  sellLots: number,
  sellQP: number,
): number {
  const h0 = m.scenario(pos, 0);
  return leastTerm(h0, buyTerm(m, pos, buyLots, buyQP, h0), sellTerm(m, pos, sellLots, sellQP, h0));
}

/** sdk maintenance health term of a position: value - maintenance requirement. */
export function maintenanceTerm(m: MarketRiskState, pos: number): number {
  if (pos === 0) return 0;
  return m.value(pos) - m.requirement(pos, m.mmfPpm);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
