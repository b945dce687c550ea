// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Markets} from "./Markets.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title Oracle
/// @notice Mark prices from Chainlink AggregatorV3Interface feeds, converted to 6-decimal quote per whole
///         base unit (rounded down), refused when stale (older than maxStaleness) or outside the market's
///         [minPrice, maxPrice] sanity bounds.
abstract contract Oracle is Markets {
    /// @notice Gas handed to a feed. The caller must hold enough that the feed really gets it, so a
    ///         submitter cannot make a healthy feed look broken by under-supplying gas.
    uint256 internal constant ORACLE_GAS = 100_000;

    enum PriceStatus {
        Ok,
        Stale,
        OutOfBounds
    }

    /// @notice Current mark price of `market`; reverts OracleStale / OraclePriceOutOfBounds when unusable.
    function markPrice(uint32 market) public view returns (uint256) {
        MarketConfig storage m = _marketConfig(market);
        (PriceStatus s, int256 price, int256 answer, uint256 updatedAt) = _readPrice(m);
        if (s == PriceStatus.Stale) revert OracleStale(market, updatedAt, block.timestamp);
        if (s == PriceStatus.OutOfBounds) revert OraclePriceOutOfBounds(market, answer);
        return uint256(price);
    }

    /// @dev Never reverts on a broken feed (except when the caller supplied too little gas): returns a status.
    function _readPrice(
        MarketConfig storage m
    ) internal view returns (PriceStatus status, int256 price, int256 answer, uint256 updatedAt) {
        if (gasleft() < ORACLE_GAS + ORACLE_GAS / 63 + 5_000) revert InsufficientGas(gasleft());
        try AggregatorV3Interface(m.oracle).latestRoundData{gas: ORACLE_GAS}() returns (
            uint80,
            int256 a,
            uint256,
            uint256 u,
            uint80
        ) {
            answer = a;
            updatedAt = u;
        } catch {
            return (PriceStatus.Stale, 0, 0, 0);
        }
        if (updatedAt == 0 || updatedAt + m.maxStaleness < block.timestamp) {
            return (PriceStatus.Stale, 0, answer, updatedAt);
        }
        if (answer <= 0) return (PriceStatus.OutOfBounds, 0, answer, updatedAt);
        uint8 dec = m.oracleDecimals;
        // answer > 0 and below 2^255; scaling up by at most 1e6 cannot overflow for any real feed, and
        // checked arithmetic reverts rather than wraps if one tried.
        price = dec >= 6 ? answer / int256(10 ** (dec - 6)) : answer * int256(10 ** (6 - dec));
        if (price < int256(uint256(m.minPrice)) || price > int256(uint256(m.maxPrice))) {
            return (PriceStatus.OutOfBounds, 0, answer, updatedAt);
        }
        return (PriceStatus.Ok, price, answer, updatedAt);
    }
}
