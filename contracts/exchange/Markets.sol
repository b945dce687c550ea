// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";

/// @title Markets
/// @notice Market storage; listing (MARKET_ADMIN_ROLE) is in MarketListing. Market ids are 0, 1, 2, ... in
///         listing order, at most 64 (an account's open markets fit a 64-bit mask).
abstract contract Markets is ExchangeRoles {
    uint256 public constant MAX_MARKETS = 64;
    int32 internal constant MAX_FEE_PPM = 100_000; // 10% of notional
    uint32 internal constant RATE_ONE_PPM = 1_000_000;

    /// @dev Three storage words, read once per market per batch.
    struct MarketConfig {
        address oracle;
        uint32 maxStaleness;
        uint8 oracleDecimals;
        uint64 tickSize;
        uint64 lotSize;
        uint64 minSize;
        uint32 imfPpm;
        uint32 mmfPpm;
        int32 makerFeePpm;
        int32 takerFeePpm;
        uint64 minPrice;
        uint64 maxPrice;
    }

    MarketConfig[] internal _markets;
    mapping(uint256 market => bytes32 symbol) public marketSymbol;

    function _marketConfig(uint256 market) internal view returns (MarketConfig storage) {
        if (market >= _markets.length) revert UnknownMarket(uint32(market));
        return _markets[market];
    }
}
