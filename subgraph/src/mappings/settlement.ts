// Batch settlement: FillSettled (one trade), FillSkipped, PositionChanged (each touched account and
// market, after the batch's fills), BatchSettled (last). All of a batch's events share one transaction.
import { Address, BigInt, ethereum, log } from "@graphprotocol/graph-ts";
import { BatchSettled, FillSettled, FillSkipped, PositionChanged } from "../../generated/Exchange/Exchange";
import { Batch, Fill, Market, Order, PositionSnapshot, SkippedFill } from "../../generated/schema";
import {
  eventId,
  getAccount,
  getDailyStat,
  getExchange,
  getHourlyStat,
  getMarket,
  getOrder,
  getPosition,
  zero,
} from "../entities";
import { applyTrade, buyerPays, entryPrice, fillFeePool, fillVolume, openInterestDelta } from "../math";

const SKIP_REASONS: string[] = [
  "None",
  "OrderIndexOutOfRange",
  "SameOrder",
  "InvalidAccount",
  "BadSignature",
  "Expired",
  "Cancelled",
  "OrderClosed",
  "DuplicateOrder",
  "UnknownMarket",
  "InvalidOrderSize",
  "CrossMarket",
  "SameSide",
  "SelfTrade",
  "PriceNotOnTick",
  "PriceOutsideLimit",
  "InvalidFillSize",
  "Overfill",
  "ReduceOnly",
  "FeeTooHigh",
  "NegativeFees",
  "OracleUnavailable",
];

export function skipReasonName(code: i32): string {
  return code >= 0 && code < SKIP_REASONS.length ? SKIP_REASONS[code] : "Unknown";
}

function getBatch(number: BigInt, event: ethereum.Event): Batch {
  const id = number.toString();
  let b = Batch.load(id);
  if (b == null) {
    b = new Batch(id);
    b.number = number;
    b.settled = zero();
    b.skipped = zero();
    b.fees = zero();
    b.volume = zero();
    b.submitter = event.transaction.from;
    b.blockNumber = event.block.number;
    b.timestamp = event.block.timestamp;
    b.transactionHash = event.transaction.hash;
  }
  return b;
}

/** Books one side of a fill on the account's position; returns the PnL it realised. */
function bookSide(
  account: Address,
  market: BigInt,
  delta: BigInt,
  price: BigInt,
  fee: BigInt,
  volume: BigInt,
  event: FillSettled,
): BigInt {
  const p = getPosition(account, market, event);
  if (p.size.isZero()) p.openedAt = event.block.timestamp;
  const u = applyTrade(p.size, p.cost, delta, price);
  p.size = u.size;
  p.cost = u.cost;
  p.entryPrice = entryPrice(u.size, u.cost);
  p.realizedPnl = p.realizedPnl.plus(u.realized);
  p.feesPaid = p.feesPaid.plus(fee);
  p.fillCount = p.fillCount.plus(BigInt.fromI32(1));
  p.save();

  const a = getAccount(account, event);
  a.realizedPnl = a.realizedPnl.plus(u.realized);
  a.feesPaid = a.feesPaid.plus(fee);
  a.volume = a.volume.plus(volume);
  a.fillCount = a.fillCount.plus(BigInt.fromI32(1));
  a.save();
  return u.realized;
}

function fillOrder(o: Order, market: string, isBuy: boolean, size: BigInt, volume: BigInt, ts: BigInt): void {
  o.market = market;
  o.isBuy = isBuy;
  o.filledSize = o.filledSize.plus(size);
  o.filledVolume = o.filledVolume.plus(volume);
  o.fillCount += 1;
  if (o.firstFillAt === null) o.firstFillAt = ts;
  o.lastFillAt = ts;
  o.save();
}

function recordStats(market: Market, size: BigInt, price: BigInt, volume: BigInt, fees: BigInt, ts: BigInt): void {
  const marketId = BigInt.fromI32(market.marketId);
  const h = getHourlyStat(marketId, ts);
  h.volume = h.volume.plus(volume);
  h.baseVolume = h.baseVolume.plus(size);
  h.trades = h.trades.plus(BigInt.fromI32(1));
  h.fees = h.fees.plus(fees);
  if (h.open === null) h.open = price;
  const hHigh = h.high;
  if (hHigh === null || price.gt(hHigh)) h.high = price;
  const hLow = h.low;
  if (hLow === null || price.lt(hLow)) h.low = price;
  h.close = price;
  h.save();

  const d = getDailyStat(marketId, ts);
  d.volume = d.volume.plus(volume);
  d.baseVolume = d.baseVolume.plus(size);
  d.trades = d.trades.plus(BigInt.fromI32(1));
  d.fees = d.fees.plus(fees);
  if (d.open === null) d.open = price;
  const dHigh = d.high;
  if (dHigh === null || price.gt(dHigh)) d.high = price;
  const dLow = d.low;
  if (dLow === null || price.lt(dLow)) d.low = price;
  d.close = price;
  d.save();
}

export function handleFillSettled(event: FillSettled): void {
  const e = event.params;
  const market = getMarket(e.market, event);
  const volume = fillVolume(e.size, e.price);
  const feePool = fillFeePool(e.size, e.price, e.makerFee, e.takerFee);
  const takerDelta = e.takerIsBuy ? e.size : e.size.neg();

  const makerRealized = bookSide(e.maker, e.market, takerDelta.neg(), e.price, e.makerFee, volume, event);
  const takerRealized = bookSide(e.taker, e.market, takerDelta, e.price, e.takerFee, volume, event);

  const makerOrder = getOrder(e.makerOrderHash, e.maker);
  fillOrder(makerOrder, market.id, !e.takerIsBuy, e.size, volume, event.block.timestamp);
  const takerOrder = getOrder(e.takerOrderHash, e.taker);
  fillOrder(takerOrder, market.id, e.takerIsBuy, e.size, volume, event.block.timestamp);

  const batch = getBatch(e.batch, event);
  batch.volume = batch.volume.plus(volume);
  batch.save();

  const f = new Fill(eventId(event));
  f.batch = batch.id;
  f.market = market.id;
  f.maker = e.maker;
  f.taker = e.taker;
  f.makerOrder = makerOrder.id;
  f.takerOrder = takerOrder.id;
  f.takerIsBuy = e.takerIsBuy;
  f.size = e.size;
  f.price = e.price;
  f.volume = volume;
  f.buyerPays = buyerPays(e.size, e.price);
  f.makerFee = e.makerFee;
  f.takerFee = e.takerFee;
  f.feePool = feePool;
  f.makerRealizedPnl = makerRealized;
  f.takerRealizedPnl = takerRealized;
  f.blockNumber = event.block.number;
  f.timestamp = event.block.timestamp;
  f.transactionHash = event.transaction.hash;
  f.logIndex = event.logIndex;
  f.save();

  market.lastPrice = e.price;
  market.volume = market.volume.plus(volume);
  market.baseVolume = market.baseVolume.plus(e.size);
  market.trades = market.trades.plus(BigInt.fromI32(1));
  market.fees = market.fees.plus(feePool);
  market.save();
  recordStats(market, e.size, e.price, volume, feePool, event.block.timestamp);

  const x = getExchange(event.address);
  x.fillCount = x.fillCount.plus(BigInt.fromI32(1));
  x.volume = x.volume.plus(volume);
  x.save();
}

export function handleFillSkipped(event: FillSkipped): void {
  const batch = getBatch(event.params.batch, event);
  batch.save();
  const s = new SkippedFill(eventId(event));
  s.batch = batch.id;
  s.fillIndex = event.params.fillIndex;
  s.reasonCode = event.params.reason;
  s.reason = skipReasonName(event.params.reason);
  s.orderHash = event.params.orderHash;
  s.blockNumber = event.block.number;
  s.timestamp = event.block.timestamp;
  s.transactionHash = event.transaction.hash;
  s.save();

  const x = getExchange(event.address);
  x.skippedFillCount = x.skippedFillCount.plus(BigInt.fromI32(1));
  x.save();
}

export function handlePositionChanged(event: PositionChanged): void {
  const e = event.params;
  const p = getPosition(e.account, e.market, event);
  // In a batch the fills (FillSettled, before) booked the new size. Otherwise the position moved outside a
  // batch: a liquidation or a forced-exit takeover, whose event follows in the same transaction and books
  // the cost at the mark (risk.ts bookMove); here only the size.
  const outsideBatch = !p.size.equals(e.newSize);
  if (outsideBatch) {
    if (!p.size.equals(e.oldSize))
      log.warning("position {} of market {}: booked size {}, the contract says {} before this change", [
        e.account.toHexString(),
        e.market.toString(),
        p.size.toString(),
        e.oldSize.toString(),
      ]);
    if (p.size.isZero()) p.openedAt = event.block.timestamp;
    p.size = e.newSize;
  }
  p.save();

  const a = getAccount(e.account, event);
  a.cash = e.cash;
  a.save();

  const market = getMarket(e.market, event);
  market.openInterest = market.openInterest.plus(openInterestDelta(e.oldSize, e.newSize));
  market.save();
  const h = getHourlyStat(e.market, event.block.timestamp);
  h.openInterest = market.openInterest;
  h.save();
  const d = getDailyStat(e.market, event.block.timestamp);
  d.openInterest = market.openInterest;
  d.save();

  const snap = new PositionSnapshot(eventId(event));
  snap.position = p.id;
  snap.account = e.account;
  snap.market = market.id;
  snap.cause = outsideBatch ? "Liquidation" : "Settlement";
  snap.oldSize = e.oldSize;
  snap.newSize = e.newSize;
  snap.cash = e.cash;
  snap.cost = p.cost;
  snap.entryPrice = p.entryPrice;
  snap.realizedPnl = p.realizedPnl;
  // BatchSettled follows in the same transaction; batch numbers are consecutive.
  if (!outsideBatch) snap.batch = getExchange(event.address).lastBatch.plus(BigInt.fromI32(1)).toString();
  snap.blockNumber = event.block.number;
  snap.timestamp = event.block.timestamp;
  snap.transactionHash = event.transaction.hash;
  snap.save();
}

export function handleBatchSettled(event: BatchSettled): void {
  const e = event.params;
  const b = getBatch(e.batch, event);
  b.settled = e.settled;
  b.skipped = e.skipped;
  b.fees = e.fees;
  b.submitter = e.submitter;
  b.save();

  const x = getExchange(event.address);
  x.lastBatch = e.batch;
  x.batchCount = x.batchCount.plus(BigInt.fromI32(1));
  x.feesAccrued = x.feesAccrued.plus(e.fees);
  x.save();
}
