// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Risk} from "./Risk.sol";
import {Collateral} from "./Collateral.sol";
import {ExitGuard, ExitStorage} from "./ExitGuard.sol";
import {Packing} from "../libraries/Packing.sol";
import {Units} from "../libraries/Units.sol";

/// @title Escape
/// @notice Freeze and the escape hatch.
///
/// `freeze(account)`: anyone, once `account`'s forced request is past its grace period and the account still
/// holds a position. From then on nothing settles, deposits, accrues funding, liquidates or withdraws
/// (ExchangeFrozen), forever. Each listed market gets a final price by a fixed rule no role can bend: (1) the
/// oracle mark at freeze if the feed is usable; else (2) the mark of the market's last funding update; else
/// (3) pending: the first usable oracle mark read by anyone through `fixFinalPrice(market)` before the exit
/// window ends.
///
/// Escape, two transactions per account: `escapeRegister(account)` (anyone, within `exitWindow` after the
/// freeze) fixes the account's claim = max(0, equity at final prices) with equity = cash - pending funding +
/// sum floor(size * finalPrice / 1e8), and adds it to the total; `escapeClaim(to)` (the account, after the
/// window) pays claim * min(1, pool / totalClaims) (rounded down) where pool = the collateral balance at the
/// first claim (fees and insurance included: they back the users first). Dust: sum paid <= pool, and when
/// pro rata, pool - sum paid < number of claimants (each payment loses < 1 unit).
abstract contract Escape is Risk, Collateral, ReentrancyGuardTransient, ExitGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using Packing for uint256;

    /// @param source 0 = oracle mark at freeze, 1 = last funding mark, 2 = oracle mark read after the freeze
    event FinalPriceSet(uint32 indexed market, uint256 price, uint8 source);
    event Frozen(address indexed by, address indexed account, uint256 timestamp);
    event EscapeRegistered(address indexed account, int256 equity, uint256 claim);
    event EscapeClaimed(address indexed account, address indexed to, uint256 claim, uint256 paid);

    error GracePeriodNotOver(address account, uint256 freezableAfter, uint256 timestamp);
    error NotFrozen();
    error ExitWindowClosed(uint256 windowEnd, uint256 timestamp);
    error ExitWindowOpen(uint256 windowEnd, uint256 timestamp);
    error FinalPricePending(uint32 market);
    error FinalPriceAlreadySet(uint32 market);
    error AlreadyRegistered(address account);
    error NotRegistered(address account);
    error AlreadyClaimed(address account);

    /// @notice Freezes the Exchange because `account`'s forced request was not served within the grace period.
    function freeze(address account) external {
        _requireNotFrozen();
        ExitStorage.Layout storage s = ExitStorage.layout();
        uint256 t = s.exits[account].freezableAfter;
        if (t == 0) revert NoForcedExit(account);
        if (block.timestamp <= t) revert GracePeriodNotOver(account, t, block.timestamp);
        if (_accounts[account].openMarkets() == 0) revert NoPosition(account);
        s.frozenAt = uint64(block.timestamp);
        emit Frozen(msg.sender, account, block.timestamp);
        uint256 n = _markets.length;
        for (uint256 m = 0; m < n; m++) {
            (PriceStatus st, int256 price, , ) = _readPrice(_markets[m]);
            if (st == PriceStatus.Ok) {
                _setFinalPrice(s, m, uint256(price), 0);
            } else {
                uint256 last = _lastFundingMark(m);
                if (last != 0) _setFinalPrice(s, m, last, 1);
            }
        }
    }

    /// @notice Fixes a pending final price to the oracle mark now (reverts while the feed is unusable).
    function fixFinalPrice(uint32 market) external {
        ExitStorage.Layout storage s = ExitStorage.layout();
        _requireWindowOpen(s);
        if (s.finalPrice[market] != 0) revert FinalPriceAlreadySet(market);
        _setFinalPrice(s, market, markPrice(market), 2);
    }

    /// @notice Records `account`'s escape claim at the final prices (anyone may register any account).
    function escapeRegister(address account) external {
        ExitStorage.Layout storage s = ExitStorage.layout();
        _requireWindowOpen(s);
        ExitStorage.Exit storage e = s.exits[account];
        if (e.escape != 0) revert AlreadyRegistered(account);
        uint256 w = _accounts[account];
        int256 equity = w.cash();
        uint64 open = w.openMarkets();
        for (uint256 m = 0; open != 0; (m, open) = (m + 1, open >> 1)) {
            if (open & 1 == 0) continue;
            uint256 price = s.finalPrice[m];
            if (price == 0) revert FinalPricePending(uint32(m));
            uint256 p = _positions[account][m];
            equity += Units.positionValue(p.size(), int256(price)) - _pendingFunding(m, p);
        }
        uint256 claim = equity > 0 ? uint256(equity) : 0;
        e.escape = 1;
        e.claim = claim.toUint128();
        s.totalClaims += uint128(claim);
        emit EscapeRegistered(account, equity, claim);
    }

    /// @notice Pays the caller's registered claim (pro rata if the pool is short) to `to`, after the window.
    function escapeClaim(address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        ExitStorage.Layout storage s = ExitStorage.layout();
        uint256 f = s.frozenAt;
        if (f == 0) revert NotFrozen();
        uint256 end = f + s.params.exitWindow;
        if (block.timestamp <= end) revert ExitWindowOpen(end, block.timestamp);
        ExitStorage.Exit storage e = s.exits[msg.sender];
        if (e.escape == 0) revert NotRegistered(msg.sender);
        if (e.escape == 2) revert AlreadyClaimed(msg.sender);
        uint256 pool;
        if (s.poolFixed) {
            pool = s.pool;
        } else {
            pool = collateral.balanceOf(address(this));
            (s.pool, s.poolFixed) = (pool.toUint128(), true);
        }
        uint256 claim = e.claim;
        uint256 total = s.totalClaims;
        // claim <= total < 2^128 and pool < 2^128: the product fits.
        uint256 paid = total <= pool ? claim : (claim * pool) / total;
        e.escape = 2;
        if (paid != 0) collateral.safeTransfer(to, paid);
        emit EscapeClaimed(msg.sender, to, claim, paid);
    }

    /// @notice `account`'s forced request (freezable after; 0 = none) and escape state (0 none, 1 registered,
    ///         2 claimed) with its claim.
    function exitOf(address account) external view returns (uint256 freezableAfter, uint8 escape, uint256 claim) {
        ExitStorage.Exit storage e = ExitStorage.layout().exits[account];
        return (e.freezableAfter, e.escape, e.claim);
    }

    /// @notice Final price of `market` (0 = not frozen or pending), total of claims, pool (once fixed).
    function escapeState(
        uint32 market
    ) external view returns (uint256 finalPrice, uint256 totalClaims, uint256 pool, bool poolFixed) {
        ExitStorage.Layout storage s = ExitStorage.layout();
        return (s.finalPrice[market], s.totalClaims, s.pool, s.poolFixed);
    }

    function _requireWindowOpen(ExitStorage.Layout storage s) private view {
        uint256 f = s.frozenAt;
        if (f == 0) revert NotFrozen();
        uint256 end = f + s.params.exitWindow;
        if (block.timestamp > end) revert ExitWindowClosed(end, block.timestamp);
    }

    function _setFinalPrice(ExitStorage.Layout storage s, uint256 market, uint256 price, uint8 source) private {
        s.finalPrice[market] = price;
        emit FinalPriceSet(uint32(market), price, source);
    }
}
