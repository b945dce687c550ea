// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";
import {ExitGuard, ExitStorage} from "./ExitGuard.sol";

/// @title Pause
/// @notice The guardian's emergency brake. `pause()` stops settlement and fast withdrawals for
///         `pauseDuration` (at most MAX_PAUSE_DURATION = 3 days); the next pause is possible only
///         `pauseCooldown` (>= pauseDuration) after the previous one ended, so pauses cannot be chained: trading
///         runs at least half the time whatever the guardian does. Slow withdrawals, forced requests and their
///         serving, freeze, escape and liquidation are never paused. The guardian may also revoke (never grant)
///         an operator key at once (key compromise); the admin (timelock) grants the replacement.
abstract contract Pause is ExchangeRoles, ExitGuard {
    event Paused(address indexed guardian, uint256 pausedUntil);
    event Unpaused(address indexed guardian);

    error PauseCooldown(uint256 nextPauseAt);
    error NotPaused();

    /// @notice Pauses settlement and fast withdrawals for `pauseDuration`.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        ExitStorage.Layout storage s = ExitStorage.layout();
        // nextPauseAt is past the end of the current pause, so this also refuses a pause while paused.
        if (block.timestamp < s.nextPauseAt) revert PauseCooldown(s.nextPauseAt);
        uint256 until = block.timestamp + s.params.pauseDuration;
        s.pausedUntil = uint64(until);
        s.nextPauseAt = uint64(until + s.params.pauseCooldown);
        emit Paused(msg.sender, until);
    }

    /// @notice Ends the current pause early; the cooldown runs from now.
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        ExitStorage.Layout storage s = ExitStorage.layout();
        if (block.timestamp >= s.pausedUntil) revert NotPaused();
        s.pausedUntil = uint64(block.timestamp);
        s.nextPauseAt = uint64(block.timestamp + s.params.pauseCooldown);
        emit Unpaused(msg.sender);
    }

    /// @notice Revokes an operator key at once (the guardian cannot grant one).
    function revokeOperator(address key) external onlyRole(GUARDIAN_ROLE) {
        _revokeRole(OPERATOR_ROLE, key);
    }
}
