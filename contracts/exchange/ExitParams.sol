// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";
import {ExitGuard, ExitParamsData, ExitStorage} from "./ExitGuard.sol";

/// @title ExitParams
/// @notice Bounded setter of the exit parameters (DEFAULT_ADMIN_ROLE, i.e. the timelock), refused while
///         frozen, and the views of the exit state. When the caller is a TimelockController (it answers
///         `getMinDelay()`), the new grace period plus exit window must stay below its delay, so a user always
///         has time to force, freeze and register before a scheduled admin action executes.
abstract contract ExitParams is ExchangeRoles, ExitGuard {
    event ExitParamsSet(ExitParamsData params);

    /// @param index 0 slowWithdrawalDelay, 1 forcedExitGracePeriod, 2 exitWindow, 3 pauseDuration,
    ///              4 pauseCooldown, 5 forcedExitFee
    error ExitParamOutOfBounds(uint256 index, uint256 value, uint256 min, uint256 max);
    error AdminDelayTooShort(uint256 minDelay, uint256 gracePlusWindow);

    /// @notice Sets every exit parameter (each within its bounds; see ExitGuard).
    function setExitParams(ExitParamsData calldata p) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireNotFrozen();
        _bound(0, p.slowWithdrawalDelay, MIN_SLOW_WITHDRAWAL_DELAY, MAX_SLOW_WITHDRAWAL_DELAY);
        _bound(1, p.forcedExitGracePeriod, MIN_GRACE_PERIOD, MAX_GRACE_PERIOD);
        _bound(2, p.exitWindow, MIN_EXIT_WINDOW, MAX_EXIT_WINDOW);
        _bound(3, p.pauseDuration, MIN_PAUSE_DURATION, MAX_PAUSE_DURATION);
        _bound(4, p.pauseCooldown, p.pauseDuration, MAX_PAUSE_COOLDOWN);
        _bound(5, p.forcedExitFee, MIN_FORCED_EXIT_FEE, MAX_FORCED_EXIT_FEE);
        uint256 needed = uint256(p.forcedExitGracePeriod) + p.exitWindow;
        if (msg.sender.code.length != 0) {
            (bool ok, bytes memory ret) = msg.sender.staticcall(abi.encodeWithSignature("getMinDelay()"));
            if (ok && ret.length == 32) {
                uint256 minDelay = abi.decode(ret, (uint256));
                if (minDelay <= needed) revert AdminDelayTooShort(minDelay, needed);
            }
        }
        ExitStorage.layout().params = p;
        emit ExitParamsSet(p);
    }

    /// @notice The current exit parameters.
    function exitParams() external view returns (ExitParamsData memory) {
        return ExitStorage.layout().params;
    }

    /// @notice Freeze time (0 = not frozen), end of the current pause, earliest next pause.
    function exitStatus() external view returns (uint256 frozenAt, uint256 pausedUntil, uint256 nextPauseAt) {
        ExitStorage.Layout storage s = ExitStorage.layout();
        return (s.frozenAt, s.pausedUntil, s.nextPauseAt);
    }

    /// @notice True once the Exchange is frozen (forever).
    function frozen() external view returns (bool) {
        return _isFrozen();
    }

    function _bound(uint256 index, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert ExitParamOutOfBounds(index, value, min, max);
    }
}
