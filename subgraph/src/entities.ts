// Loading-or-creating the mutable entities, and ids. Mappings stay short by using these.
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import { Account, Exchange, Market, MarketDailyStat, MarketHourlyStat, Order, Position } from "../generated/schema";
import { bucketStart } from "./math";

export const HOUR: i64 = 3600;
export const DAY: i64 = 86400;

/** Unique id of an event: transaction hash + log index. */
export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

export function zero(): BigInt {
  return BigInt.zero();
}

export function getExchange(address: Address): Exchange {
  let x = Exchange.load(address);
  if (x == null) {
    x = new Exchange(address);
    x.accountCount = 0;
    x.marketCount = 0;
    x.lastBatch = BigInt.fromI32(-1);
    x.batchCount = zero();
    x.fillCount = zero();
    x.skippedFillCount = zero();
    x.volume = zero();
    x.feesAccrued = zero();
    x.feesWithdrawn = zero();
    x.totalDeposited = zero();
    x.totalWithdrawn = zero();
    x.insuranceFund = zero();
    x.feesToInsurance = zero();
    x.socializedLoss = zero();
    x.liquidationCount = zero();
    x.paused = false;
    x.frozen = false;
    x.escapeClaims = zero();
    x.escapePaid = zero();
  }
  return x;
}

export function getAccount(address: Address, event: ethereum.Event): Account {
  let a = Account.load(address);
  if (a == null) {
    a = new Account(address);
    a.cash = zero();
    a.totalDeposited = zero();
    a.totalWithdrawn = zero();
    a.feesPaid = zero();
    a.realizedPnl = zero();
    a.fundingPaid = zero();
    a.volume = zero();
    a.fillCount = zero();
    a.minNonce = zero();
    a.liquidationCount = 0;
    a.createdAt = event.block.timestamp;
    const x = getExchange(event.address);
    x.accountCount += 1;
    x.save();
  }
  a.updatedAt = event.block.timestamp;
  return a;
}

export function marketKey(market: BigInt): string {
  return market.toString();
}

/**
 * The market; a market listed before the subgraph's start block (or never listed: a broken
 * deployment) gets a placeholder with zero parameters rather than aborting the subgraph.
 */
export function getMarket(market: BigInt, event: ethereum.Event): Market {
  const id = marketKey(market);
  let m = Market.load(id);
  if (m == null) {
    m = new Market(id);
    m.marketId = market.toI32();
    m.symbol = "";
    m.oracle = Address.zero();
    m.maxStaleness = zero();
    m.tickSize = zero();
    m.lotSize = zero();
    m.minSize = zero();
    m.imfPpm = zero();
    m.mmfPpm = zero();
    m.makerFeePpm = 0;
    m.takerFeePpm = 0;
    m.minPrice = zero();
    m.maxPrice = zero();
    m.listedAt = event.block.timestamp;
    m.listedAtBlock = event.block.number;
    m.volume = zero();
    m.baseVolume = zero();
    m.trades = zero();
    m.fees = zero();
    m.openInterest = zero();
    m.longFundingIndex = zero();
    m.shortFundingIndex = zero();
    const x = getExchange(event.address);
    x.marketCount += 1;
    x.save();
  }
  return m;
}

export function positionId(account: Address, market: BigInt): Bytes {
  return changetype<Bytes>(account).concatI32(market.toI32());
}

export function getPosition(account: Address, market: BigInt, event: ethereum.Event): Position {
  const id = positionId(account, market);
  let p = Position.load(id);
  if (p == null) {
    p = new Position(id);
    p.account = account;
    p.market = marketKey(market);
    p.size = zero();
    p.cost = zero();
    p.entryPrice = zero();
    p.realizedPnl = zero();
    p.feesPaid = zero();
    p.fundingPaid = zero();
    p.lastFundingIndex = zero();
    p.fillCount = zero();
  }
  p.updatedAt = event.block.timestamp;
  return p;
}

export function getOrder(hash: Bytes, account: Address): Order {
  let o = Order.load(hash);
  if (o == null) {
    o = new Order(hash);
    o.account = account;
    o.filledSize = zero();
    o.fillCount = 0;
    o.filledVolume = zero();
    o.cancelled = false;
  }
  return o;
}

function statId(market: BigInt, start: i64): string {
  return marketKey(market) + "-" + start.toString();
}

export function getHourlyStat(market: BigInt, timestamp: BigInt): MarketHourlyStat {
  const start = bucketStart(timestamp.toI64(), HOUR);
  const id = statId(market, start);
  let s = MarketHourlyStat.load(id);
  if (s == null) {
    s = new MarketHourlyStat(id);
    s.market = marketKey(market);
    s.periodStart = BigInt.fromI64(start);
    s.volume = zero();
    s.baseVolume = zero();
    s.trades = zero();
    s.fees = zero();
    const m = Market.load(marketKey(market));
    s.openInterest = m == null ? zero() : m.openInterest;
  }
  return s;
}

export function getDailyStat(market: BigInt, timestamp: BigInt): MarketDailyStat {
  const start = bucketStart(timestamp.toI64(), DAY);
  const id = statId(market, start);
  let s = MarketDailyStat.load(id);
  if (s == null) {
    s = new MarketDailyStat(id);
    s.market = marketKey(market);
    s.periodStart = BigInt.fromI64(start);
    s.volume = zero();
    s.baseVolume = zero();
    s.trades = zero();
    s.fees = zero();
    const m = Market.load(marketKey(market));
    s.openInterest = m == null ? zero() : m.openInterest;
  }
  return s;
}
