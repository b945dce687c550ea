// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Markets} from "./Markets.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {MarketParams} from "../interfaces/ExchangeTypes.sol";

/// @title MarketListing
/// @notice Listing markets and the market views (Exchange only: kept out of the bases the extension
///         inherits, so its code is not duplicated there).
abstract contract MarketListing is Markets {
    /// @notice Lists a market; returns its id.
    function listMarket(
        bytes32 symbol,
        MarketParams calldata p
    ) external onlyRole(MARKET_ADMIN_ROLE) returns (uint32 market) {
        if (_markets.length >= MAX_MARKETS) revert TooManyMarkets(MAX_MARKETS);
        if (p.oracle == address(0)) revert ZeroAddress();
        if (p.tickSize == 0 || p.lotSize == 0 || p.minSize < p.lotSize || p.minSize % p.lotSize != 0) {
            revert InvalidTickOrLot(p.tickSize, p.lotSize, p.minSize);
        }
        if (p.mmfPpm == 0 || p.mmfPpm >= p.imfPpm || p.imfPpm > RATE_ONE_PPM) {
            revert InvalidMarginFractions(p.imfPpm, p.mmfPpm);
        }
        if (p.takerFeePpm < 0 || p.takerFeePpm > MAX_FEE_PPM || p.makerFeePpm > MAX_FEE_PPM) {
            revert InvalidFeeRates(p.makerFeePpm, p.takerFeePpm);
        }
        if (p.makerFeePpm + p.takerFeePpm < 0) revert InvalidFeeRates(p.makerFeePpm, p.takerFeePpm);
        if (p.minPrice == 0 || p.minPrice >= p.maxPrice) revert InvalidPriceBounds(p.minPrice, p.maxPrice);
        if (p.maxStaleness == 0) revert InvalidStaleness(p.maxStaleness);
        uint8 dec = AggregatorV3Interface(p.oracle).decimals();
        if (dec > 18) revert InvalidOracleDecimals(dec);

        market = uint32(_markets.length);
        _markets.push(
            MarketConfig({
                oracle: p.oracle,
                maxStaleness: p.maxStaleness,
                oracleDecimals: dec,
                tickSize: p.tickSize,
                lotSize: p.lotSize,
                minSize: p.minSize,
                imfPpm: p.imfPpm,
                mmfPpm: p.mmfPpm,
                makerFeePpm: p.makerFeePpm,
                takerFeePpm: p.takerFeePpm,
                minPrice: p.minPrice,
                maxPrice: p.maxPrice
            })
        );
        marketSymbol[market] = symbol;
        emit MarketListed(market, symbol, p);
    }

    function marketCount() external view returns (uint256) {
        return _markets.length;
    }

    /// @notice Parameters of a listed market.
    function marketParams(uint32 market) external view returns (MarketParams memory p) {
        MarketConfig storage m = _marketConfig(market);
        p = MarketParams({
            oracle: m.oracle,
            maxStaleness: m.maxStaleness,
            tickSize: m.tickSize,
            lotSize: m.lotSize,
            minSize: m.minSize,
            imfPpm: m.imfPpm,
            mmfPpm: m.mmfPpm,
            makerFeePpm: m.makerFeePpm,
            takerFeePpm: m.takerFeePpm,
            minPrice: m.minPrice,
            maxPrice: m.maxPrice
        });
    }
}
