// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Accounts} from "./Accounts.sol";
import {Markets} from "./Markets.sol";
import {Packing} from "../libraries/Packing.sol";
import {FundingMath} from "../libraries/FundingMath.sol";

/// @title FundingStorage
/// @notice ERC-7201 namespace "perpx.storage.Funding": per-market funding indices, open interest and the
///         last funding update; the funding parameters (0 = the default of FundingUpdates).
library FundingStorage {
    /// @dev Two words per market. Word 0: both indices (read once per market per settled batch). Word 1:
    ///      open interest (written once per market per batch when it changes) and the last update.
    ///      Bit layout of word 1: openInterest 0..95, lastMark 96..159, lastTime 160..199, lastRate 200..255.
    struct MarketFunding {
        int128 longIndex;
        int128 shortIndex;
        uint96 openInterest;
        uint64 lastMark;
        uint40 lastTime;
        int56 lastRate;
    }

    /// @custom:storage-location erc7201:perpx.storage.Funding
    struct Layout {
        MarketFunding[64] markets; // market m at SLOT + 2m (indices) and SLOT + 2m + 1 (OI, last update)
        uint32 interval; // seconds; 0 = default
        uint32 maxRate; // 1e-9 per interval; 0 = default
        uint32 maxRateChange; // 1e-9 per interval, per interval of elapsed time; 0 = default
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("perpx.storage.Funding")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0x4d04118010e47204c1ad4798c210281cf27162b9a81a1d5f99fd8efcb0f4bb00;

    function layout() internal pure returns (Layout storage $) {
        assembly {
            $.slot := SLOT
        }
    }
}

// File-level events: they enter the ABI of a contract only where it emits them (the extension's cold
// paths), so the core Exchange ABI, which the subgraph indexes event by event, does not change.

/// @notice Pending funding of a position settled into its account's cash (positive = paid).
event FundingSettled(address indexed account, uint32 indexed market, int256 amount, int256 cash);
/// @notice Uncovered loss `amount` charged to one side of `market` through its index (moved by `indexDelta`).
event LossSocialized(uint32 indexed market, bool chargeLongs, uint256 amount, int256 indexDelta);

/// @title Funding
/// @notice Per-market cumulative funding indices, open interest, and the one place outside the settlement hot
///         path that changes a position: `_applyPositionChange` (liquidation, forced-exit serving) settles
///         the position's pending funding first.
///
/// Indices: `longIndex` and `shortIndex` (int128) in 1e-6 quote units (1e-12 USD) per whole base unit (price units x
/// 1e6). A position of signed size `s` whose snapshot is `k` owes `ceil(s * (index - k) / (SIZE_ONE * 1e6))`
/// where `index` is its side's index: positive = pays (rounded up, against the payer), negative = receives
/// (rounded toward zero, so the receiver gets no more than its exact share). A funding update moves both
/// indices by the same delta (positive: longs pay shorts); a socialised loss moves only the charged side's
/// index (longs: longIndex up; shorts: shortIndex down). Open interest is the sum of long sizes (= the sum
/// of short sizes, as positions sum to zero), maintained by settlement and `_applyPositionChange`.
abstract contract Funding is Accounts, Markets {
    using Packing for uint256;
    using SafeCast for int256;
    using SafeCast for uint256;

    error OpenInterestOverflow(uint32 market);

    function _fundingMarket(uint256 market) internal view returns (FundingStorage.MarketFunding storage) {
        return FundingStorage.layout().markets[market];
    }

    /// @dev Funding `account`'s position word in `market` owes now (positive = pays, rounded against the
    ///      payer; negative = receives, rounded toward zero). Zero for a flat position.
    function _pendingFunding(uint256 market, uint256 positionWord) internal view virtual returns (int256 owed) {
        int256 s = positionWord.size();
        if (s == 0) return 0;
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        return FundingMath.pending(s, f.longIndex, f.shortIndex, positionWord.fundingSnapshot());
    }

    /// @dev The position word of size `newSize` with its side's current index as snapshot (zero when flat).
    function _positionWordAt(int256 newSize, int128 longIndex, int128 shortIndex) internal pure returns (uint256) {
        if (newSize == 0) return 0;
        return Packing.packPosition(newSize.toInt64(), newSize > 0 ? longIndex : shortIndex);
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
        uint256 p = _positions[account][market];
        int256 oldSize = p.size();
        newSize = oldSize + sizeDelta;
        (int256 owed, uint256 word) = _repositioned(market, p, newSize);
        _positions[account][market] = word;
        newCash = _writeAccount(account, market, newSize, cashDelta - owed);
        emit PositionChanged(account, uint32(market), oldSize, newSize, newCash);
    }

    /// @dev For position word `p` becoming `newSize`: the funding it owes, and its new word (fresh snapshot);
    ///      updates open interest.
    function _repositioned(uint256 market, uint256 p, int256 newSize) private returns (int256 owed, uint256 word) {
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        (int128 longIndex, int128 shortIndex) = (f.longIndex, f.shortIndex);
        int256 oldSize = p.size();
        owed = FundingMath.pending(oldSize, longIndex, shortIndex, p.fundingSnapshot());
        int256 oiDelta = (newSize > 0 ? newSize : int256(0)) - (oldSize > 0 ? oldSize : int256(0));
        if (oiDelta != 0) _addOpenInterest(f, market, oiDelta);
        word = _positionWordAt(newSize, longIndex, shortIndex);
    }

    /// @dev Adds `cashChange` to the account's cash and sets its open bit of `market` from `newSize`.
    function _writeAccount(
        address account,
        uint256 market,
        int256 newSize,
        int256 cashChange
    ) private returns (int256 newCash) {
        uint256 w = _accounts[account];
        newCash = w.cash() + cashChange;
        uint64 open = w.openMarkets();
        open = newSize == 0 ? open & ~uint64(1 << market) : open | uint64(1 << market);
        _accounts[account] = Packing.packAccount(newCash.toInt120(), w.minNonce(), open, w.hasNonceBits());
    }

    /// @dev openInterest += delta, reverting below zero or above uint96 (never for consistent books).
    function _addOpenInterest(FundingStorage.MarketFunding storage f, uint256 market, int256 delta) internal {
        int256 oi = int256(uint256(f.openInterest)) + delta;
        if (oi < 0 || oi > int256(uint256(type(uint96).max))) revert OpenInterestOverflow(uint32(market));
        f.openInterest = uint96(uint256(oi));
    }

    /// @dev Settles the pending funding of every open position of `account` into its cash; returns the cash.
    ///      Emits FundingSettled for each position that owed or received something.
    function _settleFunding(address account) internal virtual returns (int256 cash) {
        uint256 w = _accounts[account];
        cash = w.cash();
        uint256 open = w.openMarkets();
        bool changed;
        for (uint256 m = 0; open != 0; (m, open) = (m + 1, open >> 1)) {
            if (open & 1 == 0) continue;
            uint256 p = _positions[account][m];
            int256 owed = _pendingFunding(m, p);
            if (owed == 0) continue;
            FundingStorage.MarketFunding storage f = _fundingMarket(m);
            _positions[account][m] = _positionWordAt(p.size(), f.longIndex, f.shortIndex);
            cash -= owed;
            changed = true;
            emit FundingSettled(account, uint32(m), owed, cash);
        }
        if (changed) _accounts[account] = w.withCash(cash.toInt120());
    }

    /// @dev Charges `amount` quote units of uncovered bad debt to every position on one side of `market`,
    ///      pro rata to size, through that side's index: it moves by ceil(amount * SIZE_ONE * 1e6 / OI) (and
    ///      each position's share is rounded up again), so the side pays at least `amount` in total. Returns
    ///      `amount`, or 0 when there is no open interest (nothing charged).
    function _socializeLoss(uint256 market, bool chargeLongs, uint256 amount) internal virtual returns (uint256) {
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        uint256 oi = f.openInterest;
        if (amount == 0 || oi == 0) return 0;
        if (amount > type(uint128).max) revert SafeCast.SafeCastOverflowedUintToInt(amount);
        int256 delta = FundingMath.socialLossDelta(amount, oi);
        if (chargeLongs) f.longIndex = (int256(f.longIndex) + delta).toInt128();
        else f.shortIndex = (int256(f.shortIndex) - delta).toInt128();
        emit LossSocialized(uint32(market), chargeLongs, amount, chargeLongs ? delta : -delta);
        return amount;
    }

    /// @dev The oracle mark used by the last funding update of `market` (0 if none): a recorded price for
    ///      markets whose feed is unusable at freeze.
    function _lastFundingMark(uint256 market) internal view virtual returns (uint256) {
        return _fundingMarket(market).lastMark;
    }
}
