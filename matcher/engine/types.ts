// Public types of the matching engine: input commands, acknowledgements, output events,
// reason codes. Units (see sdk/units.ts): prices in price units (6 decimals of quote per whole
// base unit), sizes in size units (1e-8 base), money in quote units (6 decimals), rates in ppm.
// All carried as JS numbers (safe integers); convert bigint <-> number at the edges
// (`toNum` in matcher/engine/market.ts). Time `ts` is an input: integer milliseconds.

export type Side = "BUY" | "SELL";
export type OrderType =
  | "LIMIT"
  | "MARKET"
  | "STOP" // stop-limit
  | "STOP_MARKET"
  | "TAKE_PROFIT" // take-profit limit
  | "TAKE_PROFIT_MARKET"
  | "TRAILING_STOP_MARKET";
export type TimeInForce = "GTC" | "IOC" | "FOK" | "GTX";
/** Which price triggers a conditional order: MARK_PRICE or CONTRACT_PRICE (last trade). */
export type WorkingType = "MARK_PRICE" | "CONTRACT_PRICE";
/** Self-trade prevention; the taker's mode decides. */
export type StpMode = "NONE" | "EXPIRE_TAKER" | "EXPIRE_MAKER" | "EXPIRE_BOTH";
export type MarketStatus = "TRADING" | "HALT";

// Every value of each enumeration above (the REST parameter checks, exchangeInfo and the journal codec read these).
export const SIDES: readonly Side[] = ["BUY", "SELL"];
export const ORDER_TYPES: readonly OrderType[] = [
  "LIMIT",
  "MARKET",
  "STOP",
  "STOP_MARKET",
  "TAKE_PROFIT",
  "TAKE_PROFIT_MARKET",
  "TRAILING_STOP_MARKET",
];
export const TIME_IN_FORCES: readonly TimeInForce[] = ["GTC", "IOC", "FOK", "GTX"];
export const WORKING_TYPES: readonly WorkingType[] = ["CONTRACT_PRICE", "MARK_PRICE"];
export const STP_MODES: readonly StpMode[] = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"];

interface CmdBase {
  /** Milliseconds; the only clock the engine knows. Must be non-decreasing. */
  ts: number;
}

/** Place an order. price/stopPrice/activationPrice in price units, qty in size units. */
export interface PlaceCmd extends CmdBase {
  type: "place";
  account: string;
  market: number;
  side: Side;
  orderType: OrderType;
  /** Default GTC. Market and triggered market orders are always IOC. */
  tif?: TimeInForce;
  /** Limit price (LIMIT, STOP, TAKE_PROFIT). */
  price?: number;
  /** Market types: the signed order's limit price; fills never cross it (omitted: the slippage cap alone). */
  limitPrice?: number;
  /** Size units; ignored (may be 0) when closePosition is set. */
  qty: number;
  /** Trigger price for STOP*, TAKE_PROFIT*. */
  stopPrice?: number;
  /** Default CONTRACT_PRICE (last trade), as on Binance. */
  workingType?: WorkingType;
  reduceOnly?: boolean;
  /** STOP_MARKET / TAKE_PROFIT_MARKET only: closes the whole position when triggered. */
  closePosition?: boolean;
  /** TRAILING_STOP_MARKET: price that activates tracking (omitted: active at once). */
  activationPrice?: number;
  /** TRAILING_STOP_MARKET: callback rate in ppm (1_000 = 0.1%) ... 100_000 (10%). */
  callbackRatePpm?: number;
  stp?: StpMode;
  clientOrderId?: string;
  /** EIP-712 order hash (opaque to the engine; carried into fills for settlement). */
  hash?: string;
}

/** Cancel by orderId, or by (market, clientOrderId). */
export interface CancelCmd extends CmdBase {
  type: "cancel";
  account: string;
  market: number;
  orderId?: number;
  clientOrderId?: string;
}

/** Mass cancel: every open and conditional order of the account (in one market if given). */
export interface CancelAllCmd extends CmdBase {
  type: "cancelAll";
  account: string;
  market?: number;
}

/** Cancel-on-disconnect: cancel all (in market if given) unless renewed within timeoutMs; 0 disarms. */
export interface CountdownCmd extends CmdBase {
  type: "countdown";
  account: string;
  market?: number;
  timeoutMs: number;
}

/** Advances time: fires countdowns, reopens halted markets. Sent by a timer, journaled. */
export interface TickCmd extends CmdBase {
  type: "tick";
}

/** Chain: balance change of an account (deposit > 0, any other credited/debited amount). */
export interface BalanceCmd extends CmdBase {
  type: "balance";
  account: string;
  delta: number;
}

/** Chain: withdrawal request; reserves `amount` (debits cash) if free collateral allows. */
export interface WithdrawCmd extends CmdBase {
  type: "withdraw";
  account: string;
  amount: number;
  withdrawalId: string;
}

/** Chain: result of a withdrawal; ok=false returns the reserved amount. */
export interface WithdrawResultCmd extends CmdBase {
  type: "withdrawResult";
  withdrawalId: string;
  ok: boolean;
}

/** Chain: an order cancelled on chain (by hash), or all orders of the account (no hash). */
export interface ChainCancelCmd extends CmdBase {
  type: "chainCancel";
  account: string;
  hash?: string;
}

/**
 * Chain: an account was liquidated in a market. All its orders are cancelled and its
 * position and cash move by the given (authoritative, chain-computed) deltas.
 */
export interface LiquidationCmd extends CmdBase {
  type: "liquidation";
  account: string;
  market: number;
  sizeDelta: number;
  cashDelta: number;
}

/**
 * Chain: funding index moved by indexDelta (quote units per whole base unit). Each position
 * pays ceil(size * indexDelta / SIZE_ONE) (longs pay when positive), rounding against it.
 */
export interface FundingCmd extends CmdBase {
  type: "funding";
  market: number;
  indexDelta: number;
}

/**
 * Chain: the account filed a forced exit (reduceOnly true: every order of the account is cancelled and
 * only reduce-only orders are accepted from it), or the request was served or cleared (false: released).
 * A position reopened while the request is open would let anyone freeze the Exchange.
 */
export interface RestrictCmd extends CmdBase {
  type: "restrict";
  account: string;
  reduceOnly: boolean;
}

/** Mark price update (price units). */
export interface MarkCmd extends CmdBase {
  type: "mark";
  market: number;
  price: number;
}

/** Chain: settlement result of a trade; ok=false reverts the trade's effect on both accounts. */
export interface SettlementCmd extends CmdBase {
  type: "settlement";
  tradeId: number;
  ok: boolean;
}

/** Operator: halt (cancel-only) or reopen a market. */
export interface SetStatusCmd extends CmdBase {
  type: "setStatus";
  market: number;
  status: MarketStatus;
}

export type Command =
  | PlaceCmd
  | CancelCmd
  | CancelAllCmd
  | CountdownCmd
  | TickCmd
  | BalanceCmd
  | WithdrawCmd
  | WithdrawResultCmd
  | ChainCancelCmd
  | LiquidationCmd
  | FundingCmd
  | MarkCmd
  | SettlementCmd
  | SetStatusCmd
  | RestrictCmd;

export type CommandType = Command["type"];

// ---------------------------------------------------------------------------------------
// Reason codes

export const Reason = {
  OK: "OK",
  INVALID_COMMAND: "INVALID_COMMAND",
  UNKNOWN_MARKET: "UNKNOWN_MARKET",
  MARKET_HALTED: "MARKET_HALTED",
  INVALID_SIDE: "INVALID_SIDE",
  INVALID_TYPE: "INVALID_TYPE",
  INVALID_TIF: "INVALID_TIF",
  INVALID_PRICE: "INVALID_PRICE",
  PRICE_NOT_ON_TICK: "PRICE_NOT_ON_TICK",
  INVALID_QTY: "INVALID_QTY",
  QTY_NOT_ON_LOT: "QTY_NOT_ON_LOT",
  QTY_TOO_LARGE: "QTY_TOO_LARGE",
  NOTIONAL_TOO_SMALL: "NOTIONAL_TOO_SMALL",
  PRICE_OUT_OF_BAND: "PRICE_OUT_OF_BAND",
  NO_MARK_PRICE: "NO_MARK_PRICE",
  TOO_MANY_OPEN_ORDERS: "TOO_MANY_OPEN_ORDERS",
  TOO_MANY_CONDITIONAL_ORDERS: "TOO_MANY_CONDITIONAL_ORDERS",
  INSUFFICIENT_MARGIN: "INSUFFICIENT_MARGIN",
  REDUCE_ONLY_REJECTED: "REDUCE_ONLY_REJECTED",
  POST_ONLY_WOULD_TAKE: "POST_ONLY_WOULD_TAKE",
  FOK_NOT_FILLABLE: "FOK_NOT_FILLABLE",
  WOULD_IMMEDIATELY_TRIGGER: "WOULD_IMMEDIATELY_TRIGGER",
  INVALID_STOP_PRICE: "INVALID_STOP_PRICE",
  INVALID_CALLBACK_RATE: "INVALID_CALLBACK_RATE",
  DUPLICATE_CLIENT_ORDER_ID: "DUPLICATE_CLIENT_ORDER_ID",
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
  INVALID_AMOUNT: "INVALID_AMOUNT",
  INSUFFICIENT_BALANCE: "INSUFFICIENT_BALANCE",
  DUPLICATE_WITHDRAWAL: "DUPLICATE_WITHDRAWAL",
  UNKNOWN_WITHDRAWAL: "UNKNOWN_WITHDRAWAL",
  UNKNOWN_TRADE: "UNKNOWN_TRADE",
  TIME_WENT_BACKWARDS: "TIME_WENT_BACKWARDS",
  // reasons that end an order (carried by order updates, never by a reject ack)
  USER_CANCEL: "USER_CANCEL",
  MASS_CANCEL: "MASS_CANCEL",
  COUNTDOWN: "COUNTDOWN",
  CHAIN_CANCEL: "CHAIN_CANCEL",
  LIQUIDATION: "LIQUIDATION",
  REDUCE_ONLY_CLOSED: "REDUCE_ONLY_CLOSED",
  REDUCE_ONLY_CLIPPED: "REDUCE_ONLY_CLIPPED",
  SELF_TRADE: "SELF_TRADE",
  IOC_REMAINDER: "IOC_REMAINDER",
  CIRCUIT_BREAKER: "CIRCUIT_BREAKER",
  TRIGGER_REJECTED: "TRIGGER_REJECTED",
} as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Binance fapi error code for each reject reason (for the gateway's {code, msg}). */
export const BINANCE_CODE: Partial<Record<ReasonCode, number>> = {
  INVALID_COMMAND: -1102,
  UNKNOWN_MARKET: -1121,
  MARKET_HALTED: -4067,
  INVALID_SIDE: -1117,
  INVALID_TYPE: -1116,
  INVALID_TIF: -1115,
  INVALID_PRICE: -4001,
  PRICE_NOT_ON_TICK: -4014,
  INVALID_QTY: -4003,
  QTY_NOT_ON_LOT: -4023,
  QTY_TOO_LARGE: -4005,
  NOTIONAL_TOO_SMALL: -4164,
  PRICE_OUT_OF_BAND: -4016,
  NO_MARK_PRICE: -1013,
  TOO_MANY_OPEN_ORDERS: -2025,
  TOO_MANY_CONDITIONAL_ORDERS: -4045,
  INSUFFICIENT_MARGIN: -2019,
  REDUCE_ONLY_REJECTED: -2022,
  POST_ONLY_WOULD_TAKE: -5022,
  FOK_NOT_FILLABLE: -5021,
  WOULD_IMMEDIATELY_TRIGGER: -2021,
  INVALID_STOP_PRICE: -4006,
  INVALID_CALLBACK_RATE: -2007,
  DUPLICATE_CLIENT_ORDER_ID: -4015,
  ORDER_NOT_FOUND: -2011,
  INVALID_AMOUNT: -1102,
  INSUFFICIENT_BALANCE: -2019,
  DUPLICATE_WITHDRAWAL: -1102,
  UNKNOWN_WITHDRAWAL: -1102,
  UNKNOWN_TRADE: -1102,
  TIME_WENT_BACKWARDS: -1021,
};

// ---------------------------------------------------------------------------------------
// Outputs

/** Exactly one per input command. */
export interface Ack {
  /** Input sequence number (position in the journal; assigned by the sequencer, or by the engine). */
  inSeq: number;
  type: CommandType;
  ok: boolean;
  reason: ReasonCode;
  /** For place: the engine-assigned order id (also on reject: 0). */
  orderId: number;
}

/** Binance-like order status. */
export type OrderStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH";
/** What happened in this update (Binance `x`), plus TRIGGERED and AMENDMENT (reduce-only clip). */
export type ExecType = "NEW" | "TRADE" | "CANCELED" | "EXPIRED" | "TRIGGERED" | "AMENDMENT";

export class OrderUpdateEvent {
  readonly kind = "order" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    public orderId: number,
    public clientOrderId: string,
    public account: string,
    public side: Side,
    /** Current type: a triggered STOP_MARKET is MARKET from then on; origType keeps STOP_MARKET. */
    public orderType: OrderType,
    public origType: OrderType,
    public tif: TimeInForce,
    public price: number,
    public stopPrice: number,
    /** Original quantity (size units); lowered by a reduce-only clip (AMENDMENT). */
    public qty: number,
    public filledQty: number,
    /** Σ size*price / SIZE_ONE of the fills, unrounded total via (lots*ticks) * factor: quote units, floor. */
    public filledQuote: number,
    public lastQty: number,
    public lastPrice: number,
    public status: OrderStatus,
    public execType: ExecType,
    public reason: ReasonCode,
    public reduceOnly: boolean,
    public closePosition: boolean,
    public workingType: WorkingType,
    public hash: string,
    public tradeId: number,
    public isMaker: boolean,
  ) {}
}

/**
 * A trade. It is both the public trade print and the fill for settlement: it carries both
 * orders (ids and EIP-712 hashes), both accounts, who was maker, size, price and fees.
 */
export class TradeEvent {
  readonly kind = "trade" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    /** Per-engine trade id (unique across the market set). */
    public tradeId: number,
    public price: number,
    public qty: number,
    /** Quote units moved: ceil for the buyer (paid), floor for the seller (received). */
    public buyerPays: number,
    public sellerGets: number,
    /** Side of the taker: BUY means the buyer was the taker (Binance `m` = !takerIsBuy). */
    public takerSide: Side,
    public makerOrderId: number,
    public takerOrderId: number,
    public makerHash: string,
    public takerHash: string,
    public makerAccount: string,
    public takerAccount: string,
    /** Fees in quote units; ceil toward +inf (a rebate is negative and rounds toward 0). */
    public makerFee: number,
    public takerFee: number,
  ) {}
}

/**
 * Book delta, one per command per market that touched the book. Binance diff semantics:
 * levels carry absolute quantities (0 = removed). U = pu + 1, u = this event's seq;
 * pu = u of the previous depth event of the market. Depth snapshots report lastUpdateId = u
 * of the last depth event they include; apply events with u > lastUpdateId; the first
 * must have U <= lastUpdateId + 1 (its pu == lastUpdateId), then each pu == previous u.
 */
export class DepthEvent {
  readonly kind = "depth" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    public U: number,
    public u: number,
    public pu: number,
    /** [price, qty] pairs, price units and size units. */
    public bids: [number, number][],
    public asks: [number, number][],
  ) {}
}

export class MarketStatusEvent {
  readonly kind = "status" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    public status: MarketStatus,
    public reason: string,
    /** When HALT by the circuit breaker: earliest reopen time (ms). */
    public reopenAt: number,
  ) {}
}

/** Mark price changes are state too (they drive triggers and margin). */
export class MarkEvent {
  readonly kind = "mark" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    public price: number,
  ) {}
}

/**
 * Account change (cash and/or one market's position). Not tied to one market's stream:
 * market = -1 and seq from the engine's account counter when the change is not from a market
 * (deposit, withdrawal); otherwise the market and that market's seq.
 */
export class AccountEvent {
  readonly kind = "account" as const;
  constructor(
    public market: number,
    public seq: number,
    public ts: number,
    public account: string,
    public reason: "BALANCE" | "WITHDRAW" | "WITHDRAW_FAILED" | "FUNDING" | "LIQUIDATION" | "SETTLEMENT_FAILED",
    public cash: number,
    public cashDelta: number,
    /** Position in `market` after (0 when market = -1). */
    public position: number,
    public ref: string,
  ) {}
}

export type EngineEvent = OrderUpdateEvent | TradeEvent | DepthEvent | MarketStatusEvent | MarkEvent | AccountEvent;

/**
 * A place command with every field present in one fixed order. Commands built this way share
 * one hidden class, which keeps the engine's property reads monomorphic (faster); use it in
 * the gateway. Missing optional fields are undefined.
 */
export function placeCommand(p: PlaceCmd): PlaceCmd {
  return {
    type: "place",
    ts: p.ts,
    account: p.account,
    market: p.market,
    side: p.side,
    orderType: p.orderType,
    tif: p.tif,
    price: p.price,
    limitPrice: p.limitPrice,
    qty: p.qty,
    stopPrice: p.stopPrice,
    workingType: p.workingType,
    reduceOnly: p.reduceOnly,
    closePosition: p.closePosition,
    activationPrice: p.activationPrice,
    callbackRatePpm: p.callbackRatePpm,
    stp: p.stp,
    clientOrderId: p.clientOrderId,
    hash: p.hash,
  };
}

/** A cancel command in one fixed shape (see placeCommand). */
export function cancelCommand(c: CancelCmd): CancelCmd {
  return {
    type: "cancel",
    ts: c.ts,
    account: c.account,
    market: c.market,
    orderId: c.orderId,
    clientOrderId: c.clientOrderId,
  };
}
