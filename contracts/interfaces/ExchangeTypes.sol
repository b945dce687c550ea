// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice A trader's signed order (EIP-712 primary type `Order`). Units as in sdk/units.ts:
///         price in quote units (6 decimals) per whole base unit, size in 1e-8 base units.
/// @dev All fields are static, so `abi.encode(ORDER_TYPEHASH, order)` is the EIP-712 struct encoding.
struct Order {
    address account; // the trading account (signer, or the principal of the agent that signed)
    uint32 market; // market id
    bool isBuy; // side: true = buy (long), false = sell (short)
    bool reduceOnly; // fills may only shrink the account's position, never grow or flip it
    uint64 price; // limit price: a buy fills at or below, a sell at or above
    uint64 size; // total size; fills add up to at most this
    uint64 nonce; // dense per-account sequence; identifies the order for cancel and fill tracking
    uint64 expiry; // unix seconds; the order is valid while block.timestamp <= expiry
}

/// @notice One trade between two orders of a batch, referenced by index into `Batch.orders`.
/// @dev Static struct of six words; the batch signature hashes the raw calldata of the array.
struct Fill {
    uint16 maker; // index of the resting order
    uint16 taker; // index of the incoming order
    uint64 size; // base size traded (1e-8 units)
    uint64 price; // execution price (quote units per whole base unit)
    int64 makerFee; // quote units charged to the maker (negative = rebate)
    int64 takerFee; // quote units charged to the taker
}

/// @notice What the keeper submits: the distinct orders, one signature per order, the fills.
struct Batch {
    uint64 number; // must equal nextBatchNumber(): no replay, no gap, no reordering
    uint64 deadline; // unix seconds; settle reverts after it
    Order[] orders;
    bytes[] signatures; // signatures[i] authorises orders[i] (account, agent or ERC-1271)
    Fill[] fills;
}

/// @notice Market parameters set at listing. Rates are ppm of notional.
struct MarketParams {
    address oracle; // Chainlink AggregatorV3Interface, answer in quote per whole base unit
    uint32 maxStaleness; // seconds an oracle answer stays usable
    uint64 tickSize; // price granularity (quote units)
    uint64 lotSize; // size granularity (1e-8 base units)
    uint64 minSize; // smallest order size
    uint32 imfPpm; // initial margin fraction
    uint32 mmfPpm; // maintenance margin fraction, 0 < mmf < imf <= 1e6
    int32 makerFeePpm; // may be negative (rebate); makerFeePpm + takerFeePpm >= 0
    int32 takerFeePpm; // >= 0
    uint64 minPrice; // oracle sanity bounds, converted to 6-decimal price
    uint64 maxPrice;
}

/// @notice Why a fill was skipped (event FillSkipped). Checked before anything moves.
enum SkipReason {
    None,
    OrderIndexOutOfRange, // fill references an order index beyond the batch
    SameOrder, // maker and taker index the same order
    InvalidAccount, // order.account is the zero address
    BadSignature, // not signed by the account, a live agent of it, or its ERC-1271 wallet
    Expired, // block.timestamp > order.expiry
    Cancelled, // nonce below the account's minimum nonce
    OrderClosed, // nonce already cancelled or fully filled
    DuplicateOrder, // the same order appears twice in the batch
    UnknownMarket, // order's market is not listed
    InvalidOrderSize, // order size zero, below the minimum or not on the lot
    CrossMarket, // the two orders are for different markets
    SameSide, // both orders buy or both sell
    SelfTrade, // both orders belong to the same account
    PriceNotOnTick, // fill price zero or not a multiple of the tick
    PriceOutsideLimit, // fill price above the buy limit or below the sell limit
    InvalidFillSize, // fill size zero or not a multiple of the lot
    Overfill, // fill size above what remains of either order
    ReduceOnly, // a reduce-only order would grow or flip its position
    FeeTooHigh, // a fee above the market rate (rounded up)
    NegativeFees, // maker fee + taker fee < 0
    OracleUnavailable // the market's oracle is stale or out of bounds
}
