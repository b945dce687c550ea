// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {MarketParams} from "../interfaces/ExchangeTypes.sol";

/// @title Markets
/// @notice Market listing by MARKET_ADMIN_ROLE. Market ids are 0, 1, 2, ... in listing order, at most 64
///         (an account's open markets fit a 64-bit mask).
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

    function _marketConfig(uint256 market) internal view returns (MarketConfig storage) {
        if (market >= _markets.length) revert UnknownMarket(uint32(market));
        return _markets[market];
    }
}
