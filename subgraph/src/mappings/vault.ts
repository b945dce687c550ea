// Collateral in and out: Deposit, Withdraw, FeesWithdrawn.
import {
  Deposit as DepositEvent,
  FeesWithdrawn as FeesWithdrawnEvent,
  Withdraw as WithdrawEvent,
} from "../../generated/Exchange/Exchange";
import { Deposit, FeeWithdrawal, Withdrawal, WithdrawalRequest } from "../../generated/schema";
import { eventId, getAccount, getExchange } from "../entities";

export function handleDeposit(event: DepositEvent): void {
  const account = getAccount(event.params.account, event);
  account.cash = account.cash.plus(event.params.amount);
  account.totalDeposited = account.totalDeposited.plus(event.params.amount);
  account.save();

  const d = new Deposit(eventId(event));
  d.account = account.id;
  d.from = event.params.from;
  d.amount = event.params.amount;
  d.blockNumber = event.block.number;
  d.timestamp = event.block.timestamp;
  d.transactionHash = event.transaction.hash;
  d.save();

  const x = getExchange(event.address);
  x.totalDeposited = x.totalDeposited.plus(event.params.amount);
  x.save();
}

export function handleWithdraw(event: WithdrawEvent): void {
  const account = getAccount(event.params.account, event);
  account.cash = account.cash.minus(event.params.amount);
  account.totalWithdrawn = account.totalWithdrawn.plus(event.params.amount);
  account.save();

  const w = new Withdrawal(eventId(event));
  w.account = account.id;
  w.to = event.params.to;
  w.amount = event.params.amount;
  w.kind = "Instant";
  // A claim pays the pending slow request (its whole amount); any other Withdraw is a fast one (a fast
  // withdrawal of exactly the pending amount is taken for the claim; the later claim then counts as fast).
  const pending = account.pendingWithdrawal;
  if (pending != null) {
    const r = WithdrawalRequest.load(pending!);
    if (r != null && r.status == "Pending" && r.amount.equals(event.params.amount)) {
      w.kind = "Slow";
      w.request = r.id;
      r.status = "Claimed";
      r.closedAt = event.block.timestamp;
      r.withdrawal = w.id;
      r.save();
      account.pendingWithdrawal = null;
      account.save();
    }
  }
  w.blockNumber = event.block.number;
  w.timestamp = event.block.timestamp;
  w.transactionHash = event.transaction.hash;
  w.save();

  const x = getExchange(event.address);
  x.totalWithdrawn = x.totalWithdrawn.plus(event.params.amount);
  x.save();
}

export function handleFeesWithdrawn(event: FeesWithdrawnEvent): void {
  const f = new FeeWithdrawal(eventId(event));
  f.to = event.params.to;
  f.amount = event.params.amount;
  f.blockNumber = event.block.number;
  f.timestamp = event.block.timestamp;
  f.transactionHash = event.transaction.hash;
  f.save();

  const x = getExchange(event.address);
  x.feesWithdrawn = x.feesWithdrawn.plus(event.params.amount);
  x.save();
}
