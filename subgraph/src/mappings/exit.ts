// Getting money out without the operator, and the freeze: WithdrawalRequested, WithdrawalCancelled,
// ForcedExitRequested, ForcedExitServed, ForcedExitTakeover, Frozen, FinalPriceSet, EscapeRegistered,
// EscapeClaimed, Paused, Unpaused, ExitParamsSet. (Withdraw itself: vault.ts.)
import { BigInt, ethereum } from "@graphprotocol/graph-ts";
import {
  EscapeClaimed,
  EscapeRegistered,
  ExitParamsSet,
  FinalPriceSet,
  ForcedExitRequested,
  ForcedExitServed,
  ForcedExitTakeover as ForcedExitTakeoverEvent,
  Frozen,
  Paused,
  Unpaused,
  WithdrawalCancelled,
  WithdrawalRequested,
} from "../../generated/Exchange/Exchange";
import {
  Escape,
  ForcedExitTakeover,
  Freeze,
  ParamsChange,
  PauseChange,
  WithdrawalRequest,
} from "../../generated/schema";
import { eventId, getAccount, getExchange, getMarket } from "../entities";
import { buyerPays, sellerReceives } from "../math";
import { bookMove, insurance } from "./risk";

function newRequest(event: ethereum.Event, kind: string, account: ethereum.EventParam | null): WithdrawalRequest {
  const r = new WithdrawalRequest(eventId(event).toHexString());
  r.kind = kind;
  r.status = "Pending";
  r.requestedAt = event.block.timestamp;
  r.transactionHash = event.transaction.hash;
  if (account != null) r.account = account.value.toAddress();
  return r;
}

function closeRequest(id: string | null, status: string, event: ethereum.Event): void {
  if (id == null) return;
  const r = WithdrawalRequest.load(id!);
  if (r == null || r.status != "Pending") return;
  r.status = status;
  r.closedAt = event.block.timestamp;
  r.save();
}

export function handleWithdrawalRequested(event: WithdrawalRequested): void {
  const e = event.params;
  const a = getAccount(e.account, event);
  closeRequest(a.pendingWithdrawal, "Replaced", event); // one pending per account: a new one replaces it
  const r = newRequest(event, "Slow", null);
  r.account = a.id;
  r.amount = e.amount;
  r.claimableAt = e.claimableAt;
  r.save();
  a.pendingWithdrawal = r.id;
  a.save();
}

export function handleWithdrawalCancelled(event: WithdrawalCancelled): void {
  const a = getAccount(event.params.account, event);
  closeRequest(a.pendingWithdrawal, "Cancelled", event);
  a.pendingWithdrawal = null;
  a.save();
}

export function handleForcedExitRequested(event: ForcedExitRequested): void {
  const e = event.params;
  const a = getAccount(e.account, event);
  const r = newRequest(event, "Forced", null);
  r.account = a.id;
  r.amount = e.withdrawAmount;
  r.fee = e.fee;
  r.deadline = e.freezableAfter;
  r.save();
  a.openForcedExit = r.id;
  a.cash = a.cash.minus(e.fee); // paid from cash to the insurance fund
  a.save();
  insurance(event, "ForcedExitFee", e.fee, e.account);
}

export function handleForcedExitServed(event: ForcedExitServed): void {
  const a = getAccount(event.params.account, event);
  closeRequest(a.openForcedExit, "Served", event);
  a.openForcedExit = null;
  a.save();
}

export function handleForcedExitTakeover(event: ForcedExitTakeoverEvent): void {
  const e = event.params;
  const m = getMarket(e.market, event);
  // the taker takes the whole position at the mark, like a trade (PositionChanged set the sizes)
  bookMove(e.account, e.market, e.size.neg(), e.price, event);
  bookMove(e.taker, e.market, e.size, e.price, event);
  const t = new ForcedExitTakeover(eventId(event));
  t.account = e.account;
  t.taker = e.taker;
  t.market = m.id;
  t.size = e.size;
  t.price = e.price;
  t.blockNumber = event.block.number;
  t.timestamp = event.block.timestamp;
  t.transactionHash = event.transaction.hash;
  t.save();
  // the buyer pays ceil, the seller gets floor: the remainder goes to the fee pool
  const abs = e.size.lt(BigInt.zero()) ? e.size.neg() : e.size;
  const x = getExchange(event.address);
  x.feesAccrued = x.feesAccrued.plus(buyerPays(abs, e.price).minus(sellerReceives(abs, e.price)));
  x.save();
}

export function handleFrozen(event: Frozen): void {
  const e = event.params;
  const a = getAccount(e.account, event);
  const f = new Freeze(eventId(event));
  f.caller = e.by;
  f.account = e.account;
  f.request = a.openForcedExit;
  f.blockNumber = event.block.number;
  f.timestamp = event.block.timestamp;
  f.transactionHash = event.transaction.hash;
  f.save();
  const x = getExchange(event.address);
  x.frozen = true;
  x.frozenAt = e.timestamp;
  x.save();
}

export function handleFinalPriceSet(event: FinalPriceSet): void {
  const m = getMarket(event.params.market, event);
  m.finalPrice = event.params.price;
  m.finalPriceSource = event.params.source;
  m.save();
}

export function handleEscapeRegistered(event: EscapeRegistered): void {
  const e = event.params;
  const a = getAccount(e.account, event);
  a.save();
  const s = new Escape(e.account);
  s.account = a.id;
  s.equity = e.equity;
  s.claim = e.claim;
  s.registeredAt = event.block.timestamp;
  s.transactionHash = event.transaction.hash;
  s.save();
  const x = getExchange(event.address);
  x.escapeClaims = x.escapeClaims.plus(e.claim);
  x.save();
}

export function handleEscapeClaimed(event: EscapeClaimed): void {
  const e = event.params;
  let s = Escape.load(e.account);
  if (s == null) {
    // registered before the subgraph's start block
    s = new Escape(e.account);
    s.account = getAccount(e.account, event).id;
    s.equity = e.claim;
    s.claim = e.claim;
    s.registeredAt = event.block.timestamp;
    s.transactionHash = event.transaction.hash;
  }
  s.paid = e.paid;
  s.to = e.to;
  s.claimedAt = event.block.timestamp;
  s.save();
  const x = getExchange(event.address);
  x.escapePaid = x.escapePaid.plus(e.paid);
  x.save();
}

function pause(event: ethereum.Event, action: string, guardian: ethereum.EventParam, until: BigInt | null): void {
  const p = new PauseChange(eventId(event));
  p.action = action;
  p.guardian = guardian.value.toAddress();
  p.pausedUntil = until;
  p.blockNumber = event.block.number;
  p.timestamp = event.block.timestamp;
  p.transactionHash = event.transaction.hash;
  p.save();
  const x = getExchange(event.address);
  x.paused = until !== null;
  x.pausedUntil = until;
  x.save();
}

export function handlePaused(event: Paused): void {
  pause(event, "Paused", event.parameters[0], event.params.pausedUntil);
}

export function handleUnpaused(event: Unpaused): void {
  pause(event, "Unpaused", event.parameters[0], null);
}

export function handleExitParamsSet(event: ExitParamsSet): void {
  const p = event.params.params;
  const c = new ParamsChange(eventId(event));
  c.kind = "Exit";
  c.slowWithdrawalDelay = p.slowWithdrawalDelay;
  c.forcedExitGracePeriod = p.forcedExitGracePeriod;
  c.exitWindow = p.exitWindow;
  c.pauseDuration = p.pauseDuration;
  c.pauseCooldown = p.pauseCooldown;
  c.forcedExitFee = p.forcedExitFee;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  c.save();
}
