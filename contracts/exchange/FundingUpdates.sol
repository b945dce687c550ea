// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Risk} from "./Risk.sol";
import {FundingStorage} from "./Funding.sol";
import {ExitGuard} from "./ExitGuard.sol";
import {Packing} from "../libraries/Packing.sol";
import {FundingMath} from "../libraries/FundingMath.sol";

/// @title FundingUpdates
/// @notice Extension side of funding (sdk/funding.ts): `updateFunding` by FUNDING_ROLE, the bounded funding
///         parameters (DEFAULT_ADMIN_ROLE), and the funding views.
///
/// `updateFunding(market, rateE9)`: `rateE9` is the funding rate for one funding interval in 1e-9 (positive:
/// longs pay shorts). It is clamped, never refused: first to within `maxRateChange * min(elapsed, interval) /
/// interval` of the last applied rate (so the rate moves at most `maxRateChange` per interval of time,
/// however often it is updated), then to `|rate| <= maxRate`. The clamped rate accrues over the time since
/// the last update, capped at one interval: both indices move by `mark * rate * min(elapsed, interval) /
/// (interval * 1000)` (1e-6 quote units per whole base unit, rounded toward zero) at the oracle mark, which must
/// be usable (OracleStale / OraclePriceOutOfBounds revert and nothing changes). The first update of a market
/// accrues nothing: it starts the clock. Refused while the Exchange is frozen.
abstract contract FundingUpdates is Risk, ExitGuard {
    using Packing for uint256;
    using SafeCast for int256;

    uint32 public constant DEFAULT_FUNDING_INTERVAL = 1 hours;
    uint32 public constant MIN_FUNDING_INTERVAL = 5 minutes;
    uint32 public constant MAX_FUNDING_INTERVAL = 1 days;
    /// @notice 1e-9 per interval: 0.1% per hour by default, at most 1% per interval.
    uint32 public constant DEFAULT_MAX_FUNDING_RATE = 1_000_000;
    uint32 public constant MAX_FUNDING_RATE_BOUND = 10_000_000;
    /// @notice 1e-9 per interval, per interval of elapsed time.
    uint32 public constant DEFAULT_MAX_FUNDING_RATE_CHANGE = 250_000;
    uint32 public constant MAX_FUNDING_RATE_CHANGE_BOUND = 20_000_000;

    /// @notice A funding update: the rate asked for, the rate applied after clamping, the oracle mark used
    ///         and both indices afterwards.
    event FundingUpdated(
        uint32 indexed market,
        int64 requestedRate,
        int64 appliedRate,
        uint256 mark,
        int256 longIndex,
        int256 shortIndex
    );
    event FundingParamsSet(uint32 interval, uint32 maxRate, uint32 maxRateChange);

    /// @param index 0 interval, 1 maxRate, 2 maxRateChange
    error FundingParamOutOfBounds(uint256 index, uint256 value, uint256 min, uint256 max);

    /// @notice Accrues funding of `market` at `rateE9` per interval (clamped) since the last update.
    function updateFunding(uint32 market, int64 rateE9) external onlyRole(FUNDING_ROLE) {
        _requireNotFrozen();
        uint256 mark = markPrice(market); // UnknownMarket, OracleStale, OraclePriceOutOfBounds
        (uint256 interval, uint256 maxRate, uint256 maxRateChange) = _fundingParams();
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        (int256 applied, int256 delta) = FundingMath.update(
            rateE9,
            f.lastRate,
            f.lastTime,
            mark,
            block.timestamp,
            interval,
            maxRate,
            maxRateChange
        );
        int256 longIndex = f.longIndex;
        int256 shortIndex = f.shortIndex;
        if (delta != 0) {
            longIndex += delta;
            shortIndex += delta;
            f.longIndex = longIndex.toInt128();
            f.shortIndex = shortIndex.toInt128();
        }
        f.lastMark = uint64(mark); // <= the market's uint64 maxPrice
        f.lastTime = uint40(block.timestamp);
        f.lastRate = int56(applied); // |applied| <= maxRate < 2^31
        emit FundingUpdated(market, rateE9, int64(applied), mark, longIndex, shortIndex);
    }

    /// @notice Sets the funding interval (seconds), the largest rate per interval and the largest rate change
    ///         per interval of time (both 1e-9), each within its bound. Not while frozen.
    function setFundingParams(
        uint32 interval,
        uint32 maxRate,
        uint32 maxRateChange
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireNotFrozen();
        if (interval < MIN_FUNDING_INTERVAL || interval > MAX_FUNDING_INTERVAL) {
            revert FundingParamOutOfBounds(0, interval, MIN_FUNDING_INTERVAL, MAX_FUNDING_INTERVAL);
        }
        if (maxRate == 0 || maxRate > MAX_FUNDING_RATE_BOUND) {
            revert FundingParamOutOfBounds(1, maxRate, 1, MAX_FUNDING_RATE_BOUND);
        }
        if (maxRateChange == 0 || maxRateChange > MAX_FUNDING_RATE_CHANGE_BOUND) {
            revert FundingParamOutOfBounds(2, maxRateChange, 1, MAX_FUNDING_RATE_CHANGE_BOUND);
        }
        FundingStorage.Layout storage s = FundingStorage.layout();
        (s.interval, s.maxRate, s.maxRateChange) = (interval, maxRate, maxRateChange);
        emit FundingParamsSet(interval, maxRate, maxRateChange);
    }

    /// @notice Funding interval (seconds), largest rate and largest rate change per interval (1e-9).
    function fundingParams() external view returns (uint256 interval, uint256 maxRate, uint256 maxRateChange) {
        return _fundingParams();
    }

    /// @notice Funding indices (1e-6 quote units per whole base unit), the last applied rate (1e-9 per interval),
    ///         the time and the oracle mark of the last update (zeros before the first).
    function fundingState(
        uint32 market
    ) external view returns (int256 longIndex, int256 shortIndex, int256 lastRate, uint256 lastTime, uint256 lastMark) {
        _marketConfig(market);
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        return (f.longIndex, f.shortIndex, f.lastRate, f.lastTime, f.lastMark);
    }

    /// @notice Sum of the long sizes of `market` (= sum of the short sizes), 1e-8 base units.
    function openInterest(uint32 market) external view returns (uint256) {
        _marketConfig(market);
        return _fundingMarket(market).openInterest;
    }

    /// @notice Funding `account` owes in `market` now, not yet settled into its cash (positive = pays).
    function pendingFunding(address account, uint32 market) external view returns (int256) {
        _marketConfig(market);
        return _pendingFunding(market, _positions[account][market]);
    }

    function _fundingParams() internal view returns (uint256 interval, uint256 maxRate, uint256 maxRateChange) {
        FundingStorage.Layout storage s = FundingStorage.layout();
        (interval, maxRate, maxRateChange) = (s.interval, s.maxRate, s.maxRateChange);
        if (interval == 0) interval = DEFAULT_FUNDING_INTERVAL;
        if (maxRate == 0) maxRate = DEFAULT_MAX_FUNDING_RATE;
        if (maxRateChange == 0) maxRateChange = DEFAULT_MAX_FUNDING_RATE_CHANGE;
    }
}
