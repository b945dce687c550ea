// The matcher trades exactly the markets the Exchange lists: tick, lot, minimum size, margin
// fractions and fees come from deployments/<network>.json (the contract's own parameters);
// only the venue's off-chain limits (price band, slippage cap, order caps) are set here.
import type { Deployment } from "../sdk/deployments";
import type { MarketConfig } from "./engine/market";
import { toNum } from "./engine/market";

/** Off-chain limits the contract does not know about; the same for every market by default. */
export interface VenueLimits {
  minNotional: number;
  maxOrderQtyLots: number;
  maxOpenOrders: number;
  maxConditionalOrders: number;
  priceBandPpm: number;
  marketSlippagePpm: number;
}

export const DEFAULT_VENUE_LIMITS: VenueLimits = {
  minNotional: 5_000_000, // 5 USD
  maxOrderQtyLots: 1_000_000,
  maxOpenOrders: 200,
  maxConditionalOrders: 100,
  priceBandPpm: 100_000, // limit prices within 10% of mark
  marketSlippagePpm: 50_000, // market orders within 5% of mark
};

/** "BTC-USD" on chain is "BTCUSD" in the Binance-dialect API. */
export function apiSymbol(chainSymbol: string): string {
  return chainSymbol.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
}

export function marketsFromDeployment(d: Deployment, limits: VenueLimits = DEFAULT_VENUE_LIMITS): MarketConfig[] {
  return d.markets.map((m) => {
    const p = m.params;
    const lot = toNum(p.lotSize);
    return {
      id: m.id,
      symbol: apiSymbol(m.symbol),
      tickSize: toNum(p.tickSize),
      lotSize: lot,
      minNotional: limits.minNotional,
      maxOrderQty: lot * limits.maxOrderQtyLots,
      maxOpenOrders: limits.maxOpenOrders,
      maxConditionalOrders: limits.maxConditionalOrders,
      priceBandPpm: limits.priceBandPpm,
      marketSlippagePpm: limits.marketSlippagePpm,
      imfPpm: toNum(p.imfPpm),
      mmfPpm: toNum(p.mmfPpm),
      makerFeePpm: toNum(p.makerFeePpm),
      takerFeePpm: toNum(p.takerFeePpm),
    };
  });
}
