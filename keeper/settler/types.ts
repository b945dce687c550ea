// What the matcher appends to the FILLS stream (keeper/topics.ts) for each trade, and what the settler
// reports back on SETTLEMENT_RESULTS. Integers that may exceed 2^53 travel as decimal strings.
import type { Hex } from "viem";
import type { Order } from "../../sdk/eip712";

/** An order as signed by its account or agent (sdk/eip712.ts Order), bigint fields as strings. */
export interface OrderJson {
  account: Hex;
  market: number;
  isBuy: boolean;
  reduceOnly: boolean;
  price: string;
  size: string;
  nonce: string;
  expiry: string;
}

export interface SignedOrderJson {
  order: OrderJson;
  signature: Hex;
}

/** One trade to settle. `tradeId` is unique and increasing in the matcher's order. */
export interface FillMessage {
  tradeId: number;
  maker: SignedOrderJson;
  taker: SignedOrderJson;
  size: string;
  price: string;
  makerFee: string;
  takerFee: string;
  /** Matcher time of the trade (ms), for the settlement-lag metric. */
  ts?: number;
}

export type SettlementStatus = "settled" | "failed";

/** Per fill, on SETTLEMENT_RESULTS (stream and channel), for the gateway's user stream. */
export interface SettlementResult {
  type: "settlement";
  tradeId: number;
  status: SettlementStatus;
  /** Why it failed: a SkipReason name, "AccountMarginCheckFailed", "InvalidFill", ... */
  reason?: string;
  batch?: string;
  txHash?: Hex;
  blockNumber?: string;
  maker: Hex;
  taker: Hex;
  market: number;
}

export function orderFromJson(o: OrderJson): Order {
  return {
    account: o.account,
    market: o.market,
    isBuy: o.isBuy,
    reduceOnly: o.reduceOnly,
    price: BigInt(o.price),
    size: BigInt(o.size),
    nonce: BigInt(o.nonce),
    expiry: BigInt(o.expiry),
  };
}

export function orderToJson(o: Order): OrderJson {
  return {
    account: o.account,
    market: o.market,
    isBuy: o.isBuy,
    reduceOnly: o.reduceOnly,
    price: o.price.toString(),
    size: o.size.toString(),
    nonce: o.nonce.toString(),
    expiry: o.expiry.toString(),
  };
}
