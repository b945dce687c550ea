// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Accounts} from "./Accounts.sol";
import {Markets} from "./Markets.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Funding
/// @notice Per-market cumulative funding indices, open interest, and the one place outside the settlement hot
///         path that changes a position: `_applyPositionChange` (liquidation, forced-exit serving) settles
///         the position's pending funding first. Issue 3.
/// @dev SKELETON: the bodies below are the funding-free behaviour; the funding work replaces them keeping
///      these signatures and meanings, which Liquidation, Withdrawals and Escape code against.
abstract contract Funding is Accounts, Markets {
    using Packing for uint256;
    using SafeCast for int256;

    /// @dev Funding `account`'s position word in `market` owes now (positive = pays, rounded against the
    ///      payer; negative = receives, rounded toward zero). Zero for a flat position.
    function _pendingFunding(uint256 market, uint256 positionWord) internal view virtual returns (int256 owed) {
        market;
        positionWord;
        return 0;
    }

    /// @dev Settles the position's pending funding into cash, then adds `sizeDelta` to the position and
    ///      `cashDelta` to the cash; keeps the open-market bit, the funding snapshot and open interest right;
    ///      writes both words once and emits PositionChanged. No margin check (the caller does it).
    function _applyPositionChange(
        address account,
        uint256 market,
        int256 sizeDelta,
        int256 cashDelta
    ) internal virtual returns (int256 newSize, int256 newCash) {
        uint256 w = _accounts[account];
        uint256 p = _positions[account][market];
        int256 oldSize = p.size();
        newSize = oldSize + sizeDelta;
        newCash = w.cash() - _pendingFunding(market, p) + cashDelta;
        uint64 open = w.openMarkets();
        open = newSize == 0 ? open & ~uint64(1 << market) : open | uint64(1 << market);
        _positions[account][market] = p.withSize(newSize.toInt64());
        _accounts[account] = Packing.packAccount(newCash.toInt120(), w.minNonce(), open, w.hasNonceBits());
        emit PositionChanged(account, uint32(market), oldSize, newSize, newCash);
    }

    /// @dev Settles the pending funding of every open position of `account` into its cash; returns the cash.
    function _settleFunding(address account) internal virtual returns (int256 cash) {
        return _accounts[account].cash();
    }

    /// @dev Charges `amount` quote units of uncovered bad debt to every position on one side of `market`,
    ///      pro rata to size, through that side's index (rounded up per position). Returns what was charged
    ///      (0 when that side has no open interest).
    function _socializeLoss(uint256 market, bool chargeLongs, uint256 amount) internal virtual returns (uint256) {
        market;
        chargeLongs;
        amount;
        return 0;
    }

    /// @dev The oracle mark used by the last funding update of `market` (0 if none): a recorded price for
    ///      markets whose feed is unusable at freeze.
    function _lastFundingMark(uint256 market) internal view virtual returns (uint256) {
        market;
        return 0;
    }
}
