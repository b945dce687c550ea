// Market listing.
import { MarketListed } from "../../generated/Exchange/Exchange";
import { getMarket } from "../entities";

export function handleMarketListed(event: MarketListed): void {
  const m = getMarket(event.params.market, event);
  const p = event.params.params;
  m.symbol = event.params.symbol.toString().replaceAll("\u0000", "");
  m.oracle = p.oracle;
  m.maxStaleness = p.maxStaleness;
  m.tickSize = p.tickSize;
  m.lotSize = p.lotSize;
  m.minSize = p.minSize;
  m.imfPpm = p.imfPpm;
  m.mmfPpm = p.mmfPpm;
  m.makerFeePpm = p.makerFeePpm;
  m.takerFeePpm = p.takerFeePpm;
  m.minPrice = p.minPrice;
  m.maxPrice = p.maxPrice;
  m.listedAt = event.block.timestamp;
  m.listedAtBlock = event.block.number;
  m.save();
}
