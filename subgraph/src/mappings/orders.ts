// Cancels (one order, or every order below a minimum nonce) and agent (API-wallet) keys.
import { AgentSet, MinNonceRaised, OrderCancelled } from "../../generated/Exchange/Exchange";
import { Agent, AgentChange, Cancel } from "../../generated/schema";
import { eventId, getAccount, getOrder } from "../entities";

export function handleOrderCancelled(event: OrderCancelled): void {
  const account = getAccount(event.params.account, event);
  account.save();

  const order = getOrder(event.params.orderHash, event.params.account);
  order.cancelled = true;
  order.nonce = event.params.nonce;
  order.save();

  const c = new Cancel(eventId(event));
  c.account = account.id;
  c.kind = "Order";
  c.order = order.id;
  c.nonce = event.params.nonce;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  c.save();
}

export function handleMinNonceRaised(event: MinNonceRaised): void {
  const account = getAccount(event.params.account, event);
  account.minNonce = event.params.minNonce;
  account.save();

  const c = new Cancel(eventId(event));
  c.account = account.id;
  c.kind = "MinNonce";
  c.minNonce = event.params.minNonce;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  c.save();
}

export function handleAgentSet(event: AgentSet): void {
  const account = getAccount(event.params.account, event);
  account.save();

  const id = event.params.account.concat(event.params.agent);
  let agent = Agent.load(id);
  if (agent == null) {
    agent = new Agent(id);
    agent.account = account.id;
    agent.agent = event.params.agent;
  }
  agent.expiry = event.params.expiry;
  agent.updatedAt = event.block.timestamp;
  agent.save();

  const ch = new AgentChange(eventId(event));
  ch.agent = agent.id;
  ch.account = account.id;
  ch.expiry = event.params.expiry;
  ch.blockNumber = event.block.number;
  ch.timestamp = event.block.timestamp;
  ch.transactionHash = event.transaction.hash;
  ch.save();
}
