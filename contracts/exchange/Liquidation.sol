// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Risk} from "./Risk.sol";
import {Insurance} from "./Insurance.sol";
import {Margin} from "../libraries/Margin.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title LiquidationMath
/// @notice The liquidation formulas of sdk/liquidation.ts, mirrored exactly and tested against the shared
///         vectors of test/sdk/liquidation.vectors.json (contracts/mocks/LiquidationHarness.sol).
///
///   notional  = ceil(size * mark / SIZE_ONE)
///   penalty   = ceil(notional * mmf * PENALTY_SHARE / RATE_ONE^2)          (a share of the maintenance margin)
///   reward    = floor(penalty * LIQUIDATOR_SHARE / RATE_ONE)               (to the liquidator)
///   insurance = penalty - reward + (ceil - floor of size*mark/SIZE_ONE)    (the takeover's rounding remainder)
///   maxSize   = whole position if equity < 0 (bankrupt), else
///               min(|position|, lotCeil(ceil((maintenance - equity + HEALTH_BUFFER) * SIZE_ONE * RATE_ONE^2
///                                            / (mark * mmf * (RATE_ONE - PENALTY_SHARE)))))
///
/// Liquidating q of a position releases ceil-rounded maintenance margin q*mark*mmf and costs the penalty
/// q*mark*mmf*PENALTY_SHARE, each exact up to the roundings of notional and requirement: the health gain is
/// more than q*mark*mmf*(RATE_ONE - PENALTY_SHARE)/(SIZE_ONE*RATE_ONE^2) - 5 quote units. HEALTH_BUFFER = 5 makes
/// maxSize sufficient: after taking maxSize (when below the whole position) the account's health is >= 0.
library LiquidationMath {
    /// @notice Penalty as a share of the maintenance margin of the liquidated notional, ppm (< RATE_ONE).
    uint256 internal constant PENALTY_SHARE_PPM = 500_000;
    /// @notice Share of the penalty paid to the liquidator, ppm; the rest goes to the insurance fund.
    uint256 internal constant LIQUIDATOR_SHARE_PPM = 500_000;
    /// @notice Quote units of rounding slack in maxSize (see the bound above).
    uint256 internal constant HEALTH_BUFFER = 5;

    uint256 private constant SIZE_ONE = 1e8;
    uint256 private constant RATE_ONE = 1e6;

    /// @notice Cash moved by one liquidation. accountCashDelta + liquidatorCashDelta + insuranceCredit == 0.
    struct Amounts {
        /// @dev Takeover cash of the liquidated account (sells at the mark rounded down, buys rounded up)
        ///      minus the penalty.
        int256 accountCashDelta;
        /// @dev Takeover cash of the liquidator (the other side of the same trade) plus its reward.
        int256 liquidatorCashDelta;
        uint256 penalty;
        uint256 liquidatorReward;
        /// @dev The penalty's insurance share plus the takeover's rounding remainder (0 or 1).
        uint256 insuranceCredit;
    }

    /// @notice Penalty for liquidating `size` (1e-8 base units) at `mark` in a market of maintenance
    ///         fraction `mmfPpm`.
    function penalty(uint256 size, uint256 mark, uint256 mmfPpm) internal pure returns (uint256) {
        uint256 notional = _divCeil(size * mark, SIZE_ONE);
        return _divCeil(notional * mmfPpm * PENALTY_SHARE_PPM, RATE_ONE * RATE_ONE);
    }

    /// @notice (to the liquidator, to the insurance fund) of a penalty.
    function splitPenalty(uint256 penalty_) internal pure returns (uint256 toLiquidator, uint256 toInsurance) {
        toLiquidator = (penalty_ * LIQUIDATOR_SHARE_PPM) / RATE_ONE;
        toInsurance = penalty_ - toLiquidator;
    }

    /// @notice Cash moved when the liquidator takes over `size` of a long (`accountLong`) or short position at
    ///         `mark`. `size` and `mark` are below 2^64 (int64 positions, uint64 market price bounds).
    function amounts(
        bool accountLong,
        uint256 size,
        uint256 mark,
        uint256 mmfPpm
    ) internal pure returns (Amounts memory a) {
        (int256 pays, int256 gets) = Margin.tradeCash(uint64(size), uint64(mark));
        a.penalty = penalty(size, mark, mmfPpm);
        uint256 toInsurance;
        (a.liquidatorReward, toInsurance) = splitPenalty(a.penalty);
        if (accountLong) {
            a.accountCashDelta = gets - int256(a.penalty);
            a.liquidatorCashDelta = int256(a.liquidatorReward) - pays;
        } else {
            a.accountCashDelta = -pays - int256(a.penalty);
            a.liquidatorCashDelta = gets + int256(a.liquidatorReward);
        }
        a.insuranceCredit = toInsurance + uint256(pays - gets);
    }

    /// @notice Largest size (1e-8 base units) that may be liquidated from a position of `positionAbs` in a market
    ///         of lot `lotSize`, maintenance fraction `mmfPpm`, at `mark`, given the account's equity and
    ///         maintenance requirement over all its markets. 0 when the account is healthy.
    function maxSize(
        int256 equity,
        int256 maintenance,
        uint256 positionAbs,
        uint256 mark,
        uint256 mmfPpm,
        uint256 lotSize
    ) internal pure returns (uint256) {
        if (equity >= maintenance) return 0;
        if (equity < 0) return positionAbs;
        uint256 need = uint256(maintenance - equity) + HEALTH_BUFFER;
        uint256 q = _divCeil(need * (SIZE_ONE * RATE_ONE * RATE_ONE), mark * mmfPpm * (RATE_ONE - PENALTY_SHARE_PPM));
        q = _divCeil(q, lotSize) * lotSize;
        return q < positionAbs ? q : positionAbs;
    }

    /// @notice (covered by the insurance fund, left to socialise) of a bad debt.
    function badDebtSplit(uint256 debt, uint256 fund) internal pure returns (uint256 covered, uint256 rest) {
        covered = debt < fund ? debt : fund;
        rest = debt - covered;
    }

    function _divCeil(uint256 a, uint256 b) private pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }
}

/// @title Liquidation
/// @notice Permissionless liquidation at the oracle mark, with a penalty shared by the liquidator and the
///         insurance fund, "down to healthy" partial sizes, and bad debt covered by the insurance fund then
///         socialised on the profiting side of the market. Extension side (reached through the Exchange
///         fallback). Not stopped by the guardian pause. See contracts/README.md.
abstract contract Liquidation is Risk, Insurance {
    using Packing for uint256;
    using SafeCast for int256;

    /// @notice Penalty as a share of the maintenance margin of the liquidated notional, ppm.
    uint256 public constant LIQUIDATION_PENALTY_SHARE_PPM = LiquidationMath.PENALTY_SHARE_PPM;
    /// @notice Liquidator's share of the penalty, ppm (the rest goes to the insurance fund).
    uint256 public constant LIQUIDATOR_SHARE_PPM = LiquidationMath.LIQUIDATOR_SHARE_PPM;

    /// @notice `liquidator` took over `-sizeDelta` of `account`'s position in `market` at `mark`.
    /// @param sizeDelta the change of the liquidated account's position (negative when it was long); the
    ///        liquidator's position changed by -sizeDelta.
    /// @param amounts cash moved: account, liquidator, penalty, liquidator reward, insurance credit.
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        uint32 indexed market,
        int256 sizeDelta,
        uint256 mark,
        LiquidationMath.Amounts amounts
    );
    /// @notice `account` ended a liquidation in `market` with no position and `amount` of negative cash:
    ///         the insurance fund paid `coveredByInsurance`, `socialised` was charged to the other side of
    ///         `market` through its funding index. The account's cash rose by both.
    event BadDebt(
        address indexed account,
        uint32 indexed market,
        uint256 amount,
        uint256 coveredByInsurance,
        uint256 socialised
    );

    error SelfLiquidation(address account);
    error NoPositionToLiquidate(address account, uint32 market);
    error AccountHealthy(address account, int256 equity, int256 maintenanceRequirement);
    error InvalidLiquidationSize(uint64 size, uint64 lotSize);
    error LiquidationTooLarge(address account, uint32 market, uint64 size, uint256 maxSize);
    error LiquidatorMarginCheckFailed(
        address liquidator,
        int256 equity,
        int256 initialRequirement,
        int256 healthBefore,
        int256 healthAfter
    );

    /// @notice Takes over `size` (1e-8 base units, a lot multiple) of `account`'s position in `market` at the
    ///         oracle mark into the caller's account. `account` must be below its maintenance requirement;
    ///         `size` at most `maxLiquidationSize(account, market)`. The caller must pass the settlement
    ///         margin rule afterwards. Reverts, moving nothing, if a feed the account or the caller depends on
    ///         is stale or out of bounds.
    function liquidate(address account, uint32 market, uint64 size) external nonReentrant {
        _requireNotFrozen(); // never paused: the guardian pause does not stop liquidation
        if (account == msg.sender) revert SelfLiquidation(account);
        MarketConfig storage cfg = _marketConfig(market);
        int256 pos = _positions[account][market].size();
        if (pos == 0) revert NoPositionToLiquidate(account, market);
        uint64 lot = cfg.lotSize;
        if (size == 0 || size % lot != 0) revert InvalidLiquidationSize(size, lot);
        uint256 mark = markPrice(market);
        {
            uint256 w = _accounts[account];
            Margin.Totals memory t = _totalsAt(account, w.openMarkets(), w.cash());
            if (t.equityAfter >= t.mmAfter) revert AccountHealthy(account, t.equityAfter, t.mmAfter);
            uint256 maxSize = LiquidationMath.maxSize(
                t.equityAfter,
                t.mmAfter,
                uint256(pos < 0 ? -pos : pos),
                mark,
                cfg.mmfPpm,
                lot
            );
            if (size > maxSize) revert LiquidationTooLarge(account, market, size, maxSize);
        }
        bool long = pos > 0;
        LiquidationMath.Amounts memory a = LiquidationMath.amounts(long, size, mark, cfg.mmfPpm);
        int256 sizeDelta = long ? -int256(uint256(size)) : int256(uint256(size));
        _applyPositionChange(account, market, sizeDelta, a.accountCashDelta);
        _takeOver(msg.sender, market, -sizeDelta, a.liquidatorCashDelta);
        _creditInsurance(a.insuranceCredit);
        emit Liquidated(account, msg.sender, market, sizeDelta, mark, a);
        _coverBadDebt(account, market, long);
    }

    /// @notice Largest size `liquidate(account, market, size)` accepts now: 0 when the account is healthy or
    ///         flat in `market`, its whole position there when bankrupt (equity < 0). Reverts like `liquidate`
    ///         on an unusable feed.
    function maxLiquidationSize(address account, uint32 market) external view returns (uint256) {
        MarketConfig storage cfg = _marketConfig(market);
        int256 pos = _positions[account][market].size();
        if (pos == 0) return 0;
        uint256 w = _accounts[account];
        Margin.Totals memory t = _totalsAt(account, w.openMarkets(), w.cash());
        if (t.equityAfter >= t.mmAfter) return 0;
        return
            LiquidationMath.maxSize(
                t.equityAfter,
                t.mmAfter,
                uint256(pos < 0 ? -pos : pos),
                markPrice(market),
                cfg.mmfPpm,
                cfg.lotSize
            );
    }

    /// @dev Moves the position into the liquidator's account and applies the settlement rule to it (initial
    ///      margin if its risk grew, otherwise initial margin or maintenance health not worse).
    function _takeOver(address liquidator, uint256 market, int256 sizeDelta, int256 cashDelta) private {
        uint256 w = _accounts[liquidator];
        Margin.Totals memory b = _totalsAt(liquidator, w.openMarkets(), w.cash());
        int256 sizeBefore = _positions[liquidator][market].size();
        (int256 sizeAfter, int256 cashAfter) = _applyPositionChange(liquidator, market, sizeDelta, cashDelta);
        Margin.Totals memory t = _totalsAt(liquidator, _accounts[liquidator].openMarkets(), cashAfter);
        t.equityBefore = b.equityAfter;
        t.mmBefore = b.mmAfter;
        t.riskGrew = Margin.grew(sizeBefore, sizeAfter);
        if (!Margin.passesSettlementCheck(t)) {
            revert LiquidatorMarginCheckFailed(
                liquidator,
                t.equityAfter,
                t.imAfter,
                b.equityAfter - b.mmAfter,
                t.equityAfter - t.mmAfter
            );
        }
    }

    /// @dev Once `account` holds no position and its cash is negative, the insurance fund covers what it can
    ///      and the rest is charged to the side of `market` that profited (shorts when the account was long),
    ///      through that side's funding index.
    function _coverBadDebt(address account, uint256 market, bool accountWasLong) private {
        uint256 w = _accounts[account];
        int256 cash = w.cash();
        if (w.openMarkets() != 0 || cash >= 0) return;
        uint256 debt = uint256(-cash);
        uint256 covered = _debitInsurance(debt);
        uint256 socialised;
        if (covered < debt) {
            uint256 rest = debt - covered;
            uint256 charged = _socializeLoss(market, !accountWasLong, rest);
            // _socializeLoss charges `rest` (the side pays at least that: each position's share is rounded up,
            // the excess stays with the Exchange as dust) whenever the side has open interest, which it always
            // has here: the liquidator just took the account's side and sizes sum to zero. If nothing could be
            // charged (0), that part of the debt stays on the account.
            socialised = charged < rest ? charged : rest;
        }
        _accounts[account] = w.withCash((cash + int256(covered + socialised)).toInt120());
        emit BadDebt(account, uint32(market), debt, covered, socialised);
    }
}
