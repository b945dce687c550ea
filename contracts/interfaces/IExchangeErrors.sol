// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice Custom errors of the Exchange. Each carries the values that explain it.
interface IExchangeErrors {
    // --- general
    error ZeroAddress();
    error ZeroAmount();
    error UnsupportedCollateralDecimals(uint8 decimals);
    /// @notice The submitter supplied too little gas for an external call (feed or ERC-1271 wallet).
    error InsufficientGas(uint256 gasLeft);
    // --- vault
    error InsufficientMargin(address account, int256 equity, uint256 requirement);
    error InsufficientFees(uint256 requested, uint256 available);
    // --- markets and oracle
    error TooManyMarkets(uint256 max);
    error UnknownMarket(uint32 market);
    error InvalidTickOrLot(uint64 tickSize, uint64 lotSize, uint64 minSize);
    error InvalidMarginFractions(uint32 imfPpm, uint32 mmfPpm);
    error InvalidFeeRates(int32 makerFeePpm, int32 takerFeePpm);
    error InvalidPriceBounds(uint64 minPrice, uint64 maxPrice);
    error InvalidStaleness(uint32 maxStaleness);
    error InvalidOracleDecimals(uint8 decimals);
    error OracleStale(uint32 market, uint256 updatedAt, uint256 timestamp);
    error OraclePriceOutOfBounds(uint32 market, int256 answer);
    // --- orders, nonces, agents
    error NotAccountOrAgent(address caller, address account);
    error MinNonceNotIncreasing(uint64 current, uint64 requested);
    error AgentIsAccount(address agent);
    // --- settlement
    error BatchNumberMismatch(uint64 expected, uint64 got);
    error BatchExpired(uint64 deadline, uint256 timestamp);
    error BatchLengthMismatch(uint256 orders, uint256 signatures);
    error BatchTooLarge(uint256 orders, uint256 max);
    error NotOperatorSigned(address signer);
    // --- settlePacked payload (bounds-checked decoding; see contracts/README.md "Gas")
    /// @notice The payload ends before its fixed part (header, orders, fills, signature lengths) does.
    error PackedBatchTruncated(uint256 length, uint256 required);
    /// @notice Order `order`'s signature (length prefix `sigLength`) runs past the payload's end.
    error PackedSignatureTruncated(uint256 order, uint256 sigLength, uint256 end, uint256 length);
    /// @notice Bytes after the last order signature.
    error PackedBatchTrailingBytes(uint256 length, uint256 used);
    /// @notice Order `order`'s flags byte has bits other than isBuy (bit 0) and reduceOnly (bit 1).
    error PackedOrderFlagsInvalid(uint256 order, uint256 flags);
    error MarkPriceUnavailable(address account, uint32 market);
    /// @notice `account` fails its end-of-batch margin check; resubmit the batch without its fills.
    error AccountMarginCheckFailed(
        address account,
        int256 equity,
        uint256 initialRequirement,
        int256 healthBefore,
        int256 healthAfter
    );
}
