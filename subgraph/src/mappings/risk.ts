// Funding, liquidation, insurance and bad debt: FundingUpdated, FundingParamsSet, Liquidated, BadDebt,
// LossSocialized, InsuranceDeposited, FeesMovedToInsurance.
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import {
  BadDebt as BadDebtEvent,
  FeesMovedToInsurance,
  FundingParamsSet,
  FundingUpdated,
  InsuranceDeposited,
  Liquidated,
  LossSocialized,
} from "../../generated/Exchange/Exchange";
import {
  BadDebt,
  FundingUpdate,
  InsuranceChange,
  Liquidation,
  ParamsChange,
  SocializedLoss,
} from "../../generated/schema";
import { eventId, getAccount, getExchange, getMarket, getPosition } from "../entities";
import { applyTrade, entryPrice } from "../math";

/** Moves the insurance fund by `amount` (signed) and records why. */
export function insurance(event: ethereum.Event, kind: string, amount: BigInt, account: Bytes | null): void {
  const x = getExchange(event.address);
  x.insuranceFund = x.insuranceFund.plus(amount);
  x.save();
  const c = new InsuranceChange(eventId(event).concatI32(kind.length));
  c.kind = kind;
  c.amount = amount;
  c.account = account;
  c.balance = x.insuranceFund;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  c.save();
}

/**
 * Books a position move made outside a batch (liquidation, forced-exit takeover) as a trade at `price`:
 * PositionChanged, earlier in the same transaction, already set the new size; the cost still belongs to
 * the old one. Returns the realised PnL.
 */
export function bookMove(
  account: Address,
  market: BigInt,
  delta: BigInt,
  price: BigInt,
  event: ethereum.Event,
): BigInt {
  const p = getPosition(account, market, event);
  const oldSize = p.size.minus(delta);
  const u = applyTrade(oldSize, p.cost, delta, price);
  if (oldSize.isZero()) p.openedAt = event.block.timestamp;
  p.cost = u.cost;
  p.entryPrice = entryPrice(p.size, u.cost);
  p.realizedPnl = p.realizedPnl.plus(u.realized);
  p.save();
  const a = getAccount(account, event);
  a.realizedPnl = a.realizedPnl.plus(u.realized);
  a.save();
  return u.realized;
}

export function handleFundingUpdated(event: FundingUpdated): void {
  const e = event.params;
  const m = getMarket(e.market, event);
  const f = new FundingUpdate(eventId(event));
  f.market = m.id;
  f.requestedRate = e.requestedRate;
  f.appliedRate = e.appliedRate;
  f.markPrice = e.mark;
  // the market's indices include every socialised loss so far: the difference is this update's funding
  f.indexDelta = e.longIndex.minus(m.longFundingIndex);
  f.longIndex = e.longIndex;
  f.shortIndex = e.shortIndex;
  f.blockNumber = event.block.number;
  f.timestamp = event.block.timestamp;
  f.transactionHash = event.transaction.hash;
  f.save();
  m.longFundingIndex = e.longIndex;
  m.shortFundingIndex = e.shortIndex;
  m.fundingRate = e.appliedRate;
  m.lastFundingAt = event.block.timestamp;
  m.save();
}

export function handleFundingParamsSet(event: FundingParamsSet): void {
  const c = new ParamsChange(eventId(event));
  c.kind = "Funding";
  c.fundingInterval = event.params.interval;
  c.maxFundingRate = event.params.maxRate;
  c.maxFundingRateChange = event.params.maxRateChange;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  c.save();
}

export function handleLiquidated(event: Liquidated): void {
  const e = event.params;
  const market = e.market;
  const m = getMarket(market, event);
  const realized = bookMove(e.account, market, e.sizeDelta, e.mark, event);
  bookMove(e.liquidator, market, e.sizeDelta.neg(), e.mark, event);
  const a = getAccount(e.account, event);
  a.liquidationCount += 1;
  a.save();

  const l = new Liquidation(eventId(event));
  l.account = e.account;
  l.liquidator = e.liquidator;
  l.market = m.id;
  l.sizeDelta = e.sizeDelta;
  l.price = e.mark;
  l.accountCashDelta = e.amounts.accountCashDelta;
  l.liquidatorCashDelta = e.amounts.liquidatorCashDelta;
  l.penalty = e.amounts.penalty;
  l.liquidatorReward = e.amounts.liquidatorReward;
  l.insuranceCredit = e.amounts.insuranceCredit;
  l.realizedPnl = realized;
  l.blockNumber = event.block.number;
  l.timestamp = event.block.timestamp;
  l.transactionHash = event.transaction.hash;
  l.save();

  const x = getExchange(event.address);
  x.liquidationCount = x.liquidationCount.plus(BigInt.fromI32(1));
  x.save();
  insurance(event, "Liquidation", e.amounts.insuranceCredit, e.account);
}

export function handleBadDebt(event: BadDebtEvent): void {
  const e = event.params;
  const m = getMarket(e.market, event);
  const b = new BadDebt(eventId(event));
  b.account = e.account;
  b.market = m.id;
  b.amount = e.amount;
  b.coveredByInsurance = e.coveredByInsurance;
  b.socialised = e.socialised;
  b.blockNumber = event.block.number;
  b.timestamp = event.block.timestamp;
  b.transactionHash = event.transaction.hash;
  b.save();
  // the account's cash rose by both
  const a = getAccount(e.account, event);
  a.cash = a.cash.plus(e.coveredByInsurance).plus(e.socialised);
  a.save();
  if (!e.coveredByInsurance.isZero()) insurance(event, "BadDebtCover", e.coveredByInsurance.neg(), e.account);
}

export function handleLossSocialized(event: LossSocialized): void {
  const e = event.params;
  const m = getMarket(e.market, event);
  const s = new SocializedLoss(eventId(event));
  s.market = m.id;
  s.chargeLongs = e.chargeLongs;
  s.amount = e.amount;
  s.indexDelta = e.indexDelta;
  s.blockNumber = event.block.number;
  s.timestamp = event.block.timestamp;
  s.transactionHash = event.transaction.hash;
  s.save();
  if (e.chargeLongs) m.longFundingIndex = m.longFundingIndex.plus(e.indexDelta);
  else m.shortFundingIndex = m.shortFundingIndex.plus(e.indexDelta);
  m.save();
  const x = getExchange(event.address);
  x.socializedLoss = x.socializedLoss.plus(e.amount);
  x.save();
}

export function handleInsuranceDeposited(event: InsuranceDeposited): void {
  insurance(event, "Deposit", event.params.amount, event.params.from);
}

export function handleFeesMovedToInsurance(event: FeesMovedToInsurance): void {
  const x = getExchange(event.address);
  x.feesToInsurance = x.feesToInsurance.plus(event.params.amount);
  x.save();
  insurance(event, "FeesMoved", event.params.amount, event.params.treasurer);
}
