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
  }

  setMark(mark: number): void {
    this.mark = mark;
    const p = BigInt(this.lotSize) * BigInt(mark);
    this.markQ = Number(p / 100_000_000n);
    this.markR = Number(p % 100_000_000n);
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
  constructor(readonly market: number) {}
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
