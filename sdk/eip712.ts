// The EIP-712 domain and types of the Exchange, order and batch hashing and signing. The one place these
// types are defined: contracts/exchange/OrderSignatures.sol and Settlement.sol use the same strings.
//
// Order identity: the EIP-712 digest of the order (hashOrder) is the order hash everywhere (events,
// filled amounts, cancels). Nonces are dense per account (0, 1, 2, ...): the contract keeps order state
// in a per-account bitmap of 128 nonces per storage word, so dense nonces keep settlement cheap.
import {
  type Address,
  type Hex,
  type LocalAccount,
  type TypedDataDomain,
  type WalletClient,
  concat,
  encodeAbiParameters,
  hashStruct,
  hashTypedData,
  keccak256,
} from "viem";

export const DOMAIN_NAME = "PerpX Exchange";
export const DOMAIN_VERSION = "1";

export type Order = {
  account: Address;
  market: number;
  isBuy: boolean;
  reduceOnly: boolean;
  /** Limit price, quote units (6 decimals) per whole base unit. */
  price: bigint;
  /** Size in 1e-8 base units. */
  size: bigint;
  nonce: bigint;
  /** Unix seconds; valid while block.timestamp <= expiry. */
  expiry: bigint;
};

export interface Fill {
  /** Index of the maker order in Batch.orders. */
  maker: number;
  /** Index of the taker order in Batch.orders. */
  taker: number;
  size: bigint;
  price: bigint;
  /** Quote units; negative = rebate. At most ceil(size*price*rate/1e14) of the market's rate. */
  makerFee: bigint;
  takerFee: bigint;
}

export interface Batch {
  number: bigint;
  deadline: bigint;
  orders: Order[];
  /** signatures[i] authorises orders[i]. */
  signatures: Hex[];
  fills: Fill[];
}

export const ORDER_FIELDS = [
  { name: "account", type: "address" },
  { name: "market", type: "uint32" },
  { name: "isBuy", type: "bool" },
  { name: "reduceOnly", type: "bool" },
  { name: "price", type: "uint64" },
  { name: "size", type: "uint64" },
  { name: "nonce", type: "uint64" },
  { name: "expiry", type: "uint64" },
] as const;

export const ORDER_TYPES = { Order: ORDER_FIELDS } as const;

export const BATCH_TYPES = {
  Batch: [
    { name: "number", type: "uint64" },
    { name: "deadline", type: "uint64" },
    { name: "orders", type: "Order[]" },
    { name: "fills", type: "bytes" },
  ],
  Order: ORDER_FIELDS,
} as const;

/** The type strings the contract hashes into ORDER_TYPEHASH and BATCH_TYPEHASH. */
export const ORDER_TYPE_STRING =
  "Order(address account,uint32 market,bool isBuy,bool reduceOnly,uint64 price,uint64 size,uint64 nonce,uint64 expiry)";
export const BATCH_TYPE_STRING = `Batch(uint64 number,uint64 deadline,Order[] orders,bytes fills)${ORDER_TYPE_STRING}`;

/** ABI tuple of Fill: the contract hashes the raw calldata words of the Fill array. */
const FILL_ABI = [
  { type: "uint16" },
  { type: "uint16" },
  { type: "uint64" },
  { type: "uint64" },
  { type: "int64" },
  { type: "int64" },
] as const;

export interface ExchangeDomain extends TypedDataDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

export function exchangeDomain(chainId: number | bigint, verifyingContract: Address): ExchangeDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: Number(chainId), verifyingContract };
}

/** EIP-712 struct hash of an order (what the batch signature commits to). */
export function orderStructHash(order: Order): Hex {
  return hashStruct({ data: order, primaryType: "Order", types: ORDER_TYPES });
}

/** EIP-712 digest of an order: its identity on chain (FillSettled, OrderCancelled, orderState). */
export function hashOrder(domain: ExchangeDomain, order: Order): Hex {
  return hashTypedData({ domain, types: ORDER_TYPES, primaryType: "Order", message: order });
}

/** Something that signs EIP-712 data: a viem local account or a wallet client with an account. */
export type TypedDataSigner = LocalAccount | WalletClient;

interface SignArgs {
  domain: ExchangeDomain;
  types: Record<string, readonly { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

// The signer is either kind; the typed-data argument is the same object for both.
async function signTyped(signer: TypedDataSigner, args: SignArgs): Promise<Hex> {
  if ("type" in signer && signer.type === "local") return (signer as LocalAccount).signTypedData(args as never);
  const wallet = signer as WalletClient;
  if (!wallet.account) throw new Error("signTyped: wallet client has no account");
  return wallet.signTypedData({ ...args, account: wallet.account } as never);
}

/** Signs an order (by the account, an agent key of it, or the owner key of an ERC-1271 wallet). */
export function signOrder(signer: TypedDataSigner, domain: ExchangeDomain, order: Order): Promise<Hex> {
  return signTyped(signer, { domain, types: ORDER_TYPES, primaryType: "Order", message: order });
}

/** The `fills` bytes of the Batch type: each fill's six ABI words, concatenated. */
export function encodeFills(fills: readonly Fill[]): Hex {
  if (fills.length === 0) return "0x";
  return concat(
    fills.map((f) => encodeAbiParameters(FILL_ABI, [f.maker, f.taker, f.size, f.price, f.makerFee, f.takerFee])),
  );
}

export type BatchContent = Pick<Batch, "number" | "deadline" | "orders" | "fills">;

function batchMessage(b: BatchContent) {
  return { number: b.number, deadline: b.deadline, orders: b.orders, fills: encodeFills(b.fills) };
}

/** EIP-712 digest the operator signs for a batch. */
export function hashBatch(domain: ExchangeDomain, batch: BatchContent): Hex {
  return hashTypedData({ domain, types: BATCH_TYPES, primaryType: "Batch", message: batchMessage(batch) });
}

/** The operator's signature over a batch. */
export function signBatch(signer: TypedDataSigner, domain: ExchangeDomain, batch: BatchContent): Promise<Hex> {
  return signTyped(signer, { domain, types: BATCH_TYPES, primaryType: "Batch", message: batchMessage(batch) });
}

/** A fast withdrawal the operator co-signs (contracts/exchange/Withdrawals.sol, `withdraw`). */
export interface Withdrawal {
  account: Address;
  /** Quote units (6 decimals). */
  amount: bigint;
  to: Address;
  /** The account's next withdrawal nonce (`withdrawalState(account).nonce`). */
  nonce: bigint;
  /** Unix seconds; valid while block.timestamp <= deadline. */
  deadline: bigint;
}

export const WITHDRAWAL_TYPES = {
  Withdrawal: [
    { name: "account", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "to", type: "address" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export const WITHDRAWAL_TYPE_STRING =
  "Withdrawal(address account,uint256 amount,address to,uint64 nonce,uint64 deadline)";

/** The operator's co-signature of a fast withdrawal. */
export function signWithdrawal(signer: TypedDataSigner, domain: ExchangeDomain, w: Withdrawal): Promise<Hex> {
  return signTyped(signer, { domain, types: WITHDRAWAL_TYPES, primaryType: "Withdrawal", message: { ...w } });
}

/** keccak256 of the encoded fills (the contract's `fillsHash`). */
export function fillsHash(fills: readonly Fill[]): Hex {
  return keccak256(encodeFills(fills));
}

/**
 * Dense per-account nonces. Start each account at its on-chain minimum nonce (accountOf(...).minNonce)
 * or at the highest nonce it used + 1; never reuse a nonce for a different order.
 */
export class NonceAllocator {
  private readonly next = new Map<string, bigint>();

  constructor(initial?: Iterable<[Address, bigint]>) {
    if (initial) for (const [a, n] of initial) this.next.set(a.toLowerCase(), n);
  }

  /** Returns the account's next nonce and advances it. */
  take(account: Address): bigint {
    const key = account.toLowerCase();
    const n = this.next.get(key) ?? 0n;
    this.next.set(key, n + 1n);
    return n;
  }

  peek(account: Address): bigint {
    return this.next.get(account.toLowerCase()) ?? 0n;
  }

  /** Never hand out a nonce below `min` (after a mass cancel). */
  raise(account: Address, min: bigint): void {
    if (this.peek(account) < min) this.next.set(account.toLowerCase(), min);
  }
}

/** Maximum fee for a fill at `ratePpm` (negative rate: the smallest rebate owed); mirrors Margin.feeCap. */
export { feeCap } from "./margin";
