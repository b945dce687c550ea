// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Withdrawals} from "./Withdrawals.sol";
import {Insurance} from "./Insurance.sol";
import {ExitStorage} from "./ExitGuard.sol";
import {Margin} from "../libraries/Margin.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title ForcedExit
/// @notice A user the operator ignores forces the way out on chain. `requestForcedExit(withdrawAmount)` by an
///         account holding a position: pays `forcedExitFee` from its cash into the insurance fund (anti-spam;
///         no margin check), opens one request per account (a second is refused while the first is open),
///         and files a slow withdrawal of `withdrawAmount` if non-zero. The request is served once the account
///         holds no position: the operator's batches close it (then anyone calls `clearForcedExit`), or ANY
///         account calls `serveForcedExit(account, market)` and takes over that whole position at the oracle
///         mark, no penalty (buyer pays the rounded-up notional, seller gets it rounded down, the remainder
///         goes to the fee pool), subject to the settlement margin rule for the taker. If the request is still
///         open with a position after `forcedExitGracePeriod`, anyone may `freeze` (Escape). Never paused.
/// @dev The matcher must not open new positions for an account with an open request (event
///      ForcedExitRequested) before clearing it: a reopened position would make the old request freezable.
abstract contract ForcedExit is Withdrawals, Insurance {
    using SafeCast for int256;
    using Packing for uint256;

    event ForcedExitRequested(address indexed account, uint256 fee, uint256 withdrawAmount, uint256 freezableAfter);
    event ForcedExitServed(address indexed account);
    /// @notice `taker` took over `account`'s whole position `size` in `market` at the oracle mark `price`.
    event ForcedExitTakeover(
        address indexed account,
        address indexed taker,
        uint32 indexed market,
        int256 size,
        uint256 price
    );

    error ForcedExitOpen(address account, uint256 freezableAfter);
    error CannotServeSelf(address account);
    error AccountHasPositions(address account);

    /// @notice Files the caller's forced exit (and a slow withdrawal of `withdrawAmount` when non-zero).
    function requestForcedExit(uint256 withdrawAmount) external {
        _requireNotFrozen();
        ExitStorage.Layout storage s = ExitStorage.layout();
        ExitStorage.Exit storage e = s.exits[msg.sender];
        if (e.freezableAfter != 0) revert ForcedExitOpen(msg.sender, e.freezableAfter);
        uint256 w = _accounts[msg.sender];
        if (w.openMarkets() == 0) revert NoPosition(msg.sender);
        uint256 fee = s.params.forcedExitFee;
        _accounts[msg.sender] = w.withCash((w.cash() - int256(fee)).toInt120());
        _creditInsurance(fee);
        uint256 freezableAfter = block.timestamp + s.params.forcedExitGracePeriod;
        e.freezableAfter = uint64(freezableAfter);
        if (withdrawAmount != 0) _fileWithdrawal(msg.sender, withdrawAmount);
        emit ForcedExitRequested(msg.sender, fee, withdrawAmount, freezableAfter);
    }

    /// @notice The caller takes over `account`'s whole position in `market` at the oracle mark.
    function serveForcedExit(address account, uint32 market) external {
        _requireNotFrozen();
        if (account == msg.sender) revert CannotServeSelf(account);
        ExitStorage.Exit storage e = ExitStorage.layout().exits[account];
        if (e.freezableAfter == 0) revert NoForcedExit(account);
        int256 size = _positions[account][market].size();
        if (size == 0) revert NoPosition(account);
        uint256 price = markPrice(market);
        _takeOverAtMark(account, market, size, price);
        emit ForcedExitTakeover(account, msg.sender, market, size, price);
        if (_accounts[account].openMarkets() == 0) {
            e.freezableAfter = 0;
            emit ForcedExitServed(account);
        }
    }

    /// @dev The caller takes `account`'s whole position (`size`) at `price` (the buyer pays the notional rounded
    ///      up, the seller gets it rounded down, the remainder to the fee pool), then must pass the settlement
    ///      rule. Split from serveForcedExit to keep the non-IR (coverage) build within the stack.
    function _takeOverAtMark(address account, uint32 market, int256 size, uint256 price) private {
        (int256 pays, int256 gets) = Margin.tradeCash(uint64(uint256(size > 0 ? size : -size)), uint64(price));
        _ledger.fees += uint128(uint256(pays - gets));
        uint256 tw = _accounts[msg.sender];
        Margin.Totals memory before = _totalsAt(msg.sender, tw.openMarkets(), tw.cash());
        int256 takerBefore = _positions[msg.sender][market].size();
        (int256 takerAfter, int256 takerCash) = _applyPositionChange(msg.sender, market, size, size > 0 ? -pays : gets);
        _applyPositionChange(account, market, -size, size > 0 ? gets : -pays);
        _requireTakerMargin(before, Margin.grew(takerBefore, takerAfter), takerCash);
    }

    /// @dev The settlement rule for the taker: totals now (with `takerCash`) against `before`.
    function _requireTakerMargin(Margin.Totals memory before, bool riskGrew, int256 takerCash) private view {
        Margin.Totals memory t = _totalsAt(msg.sender, _accounts[msg.sender].openMarkets(), takerCash);
        (t.equityBefore, t.mmBefore, t.riskGrew) = (before.equityAfter, before.mmAfter, riskGrew);
        if (!Margin.passesSettlementCheck(t)) revert InsufficientMargin(msg.sender, t.equityAfter, uint256(t.imAfter));
    }

    /// @notice Closes `account`'s forced request once it holds no position (the operator's batches served it).
    function clearForcedExit(address account) external {
        ExitStorage.Exit storage e = ExitStorage.layout().exits[account];
        if (e.freezableAfter == 0) revert NoForcedExit(account);
        if (_accounts[account].openMarkets() != 0) revert AccountHasPositions(account);
        e.freezableAfter = 0;
        emit ForcedExitServed(account);
    }
}
