// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @notice Parameters of the exit machinery (seconds and quote units). Set at construction to the defaults
///         below; changed only by DEFAULT_ADMIN_ROLE (the timelock) within the bounds of ExitGuard, never
///         while frozen (ExitParams.setExitParams).
struct ExitParamsData {
    uint32 slowWithdrawalDelay; // request -> claim of a slow withdrawal
    uint32 forcedExitGracePeriod; // forced request -> anyone may freeze (at most 7 days)
    uint32 exitWindow; // freeze -> end of escape registration; claims open after it
    uint32 pauseDuration; // length of one guardian pause
    uint32 pauseCooldown; // from the end of a pause to the earliest next pause (>= pauseDuration)
    uint64 forcedExitFee; // quote units paid by a forced request to the insurance fund (anti-spam)
}

/// @notice ERC-7201 namespaced storage of withdrawals, forced exits, pause, freeze and escape.
/// @custom:storage-location erc7201:perpx.storage.Exit
library ExitStorage {
    /// @dev Per account, one word: the pending slow withdrawal and the fast-withdrawal nonce.
    struct Withdrawal {
        uint128 amount; // pending slow withdrawal (0 = none)
        uint64 claimableAt;
        uint64 nonce; // next fast-withdrawal nonce
    }

    /// @dev Per account, one word: the open forced request and the escape claim.
    struct Exit {
        uint64 freezableAfter; // open forced request: anyone may freeze once block.timestamp > this (0 = none)
        uint8 escape; // 0 = not registered, 1 = registered, 2 = claimed
        uint128 claim; // escape claim (quote units), fixed at registration
    }

    struct Layout {
        // One word, read by every settle and deposit.
        uint64 frozenAt; // 0 = not frozen
        uint64 pausedUntil; // paused while block.timestamp < pausedUntil
        uint64 nextPauseAt; // earliest time of the next pause
        bool poolFixed; // the escape pool was recorded (first escape claim)
        ExitParamsData params;
        uint128 totalClaims; // sum of registered escape claims
        uint128 pool; // collateral balance at the first escape claim
        mapping(address account => Withdrawal) withdrawals;
        mapping(address account => Exit) exits;
        mapping(uint256 market => uint256 price) finalPrice; // fixed at freeze (0 = pending, see Escape)
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("perpx.storage.Exit")) - 1)) & ~bytes32(uint256(0xff))
    ///      (checked by test/contracts/Escape.test.ts).
    bytes32 internal constant SLOT = 0x585899113e0b673291431b6020db3dda5528bb2387557cd4ac9342362d97ce00;

    function layout() internal pure returns (Layout storage s) {
        assembly ("memory-safe") {
            s.slot := SLOT
        }
    }
}

/// @title ExitGuard
/// @notice The freeze and pause guards every module may call, and the bounds of the exit parameters.
///         Frozen (after an unserved forced request, see Escape): settle, deposits, funding, liquidation,
///         fee and fast/slow withdrawals revert `ExchangeFrozen`; only the escape works. Paused (guardian, see
///         Pause): settle and fast withdrawals revert `ExchangePaused`; nothing else is paused.
abstract contract ExitGuard {
    error ExchangeFrozen(uint256 frozenAt);
    error ExchangePaused(uint256 pausedUntil);
    error NoForcedExit(address account);
    error NoPosition(address account);

    // Bounds and defaults of ExitParamsData (seconds; quote units for the fee).
    uint32 internal constant MIN_SLOW_WITHDRAWAL_DELAY = 5 minutes;
    uint32 internal constant MAX_SLOW_WITHDRAWAL_DELAY = 3 days;
    uint32 internal constant DEFAULT_SLOW_WITHDRAWAL_DELAY = 1 hours;
    uint32 internal constant MIN_GRACE_PERIOD = 1 hours;
    uint32 internal constant MAX_GRACE_PERIOD = 7 days;
    uint32 internal constant DEFAULT_GRACE_PERIOD = 2 days;
    uint32 internal constant MIN_EXIT_WINDOW = 1 days;
    uint32 internal constant MAX_EXIT_WINDOW = 30 days;
    uint32 internal constant DEFAULT_EXIT_WINDOW = 7 days;
    uint32 internal constant MIN_PAUSE_DURATION = 1 hours;
    uint32 internal constant MAX_PAUSE_DURATION = 3 days;
    uint32 internal constant DEFAULT_PAUSE_DURATION = 1 days;
    uint32 internal constant MAX_PAUSE_COOLDOWN = 30 days;
    uint32 internal constant DEFAULT_PAUSE_COOLDOWN = 2 days;
    uint64 internal constant MIN_FORCED_EXIT_FEE = 1e6; // 1 USD
    uint64 internal constant MAX_FORCED_EXIT_FEE = 1_000e6;
    uint64 internal constant DEFAULT_FORCED_EXIT_FEE = 10e6;

    /// @dev Sets the default parameters (Exchange constructor).
    function _initExitParams() internal {
        ExitStorage.layout().params = ExitParamsData({
            slowWithdrawalDelay: DEFAULT_SLOW_WITHDRAWAL_DELAY,
            forcedExitGracePeriod: DEFAULT_GRACE_PERIOD,
            exitWindow: DEFAULT_EXIT_WINDOW,
            pauseDuration: DEFAULT_PAUSE_DURATION,
            pauseCooldown: DEFAULT_PAUSE_COOLDOWN,
            forcedExitFee: DEFAULT_FORCED_EXIT_FEE
        });
    }

    /// @dev Reverts ExchangeFrozen once the Exchange is frozen.
    function _requireNotFrozen() internal view {
        uint256 f = ExitStorage.layout().frozenAt;
        if (f != 0) revert ExchangeFrozen(f);
    }

    /// @dev Reverts ExchangeFrozen or ExchangePaused (settle and fast withdrawals). One storage read.
    function _requireNotFrozenOrPaused() internal view {
        ExitStorage.Layout storage s = ExitStorage.layout();
        (uint256 f, uint256 p) = (s.frozenAt, s.pausedUntil);
        if (f != 0) revert ExchangeFrozen(f);
        if (block.timestamp < p) revert ExchangePaused(p);
    }

    function _isFrozen() internal view returns (bool) {
        return ExitStorage.layout().frozenAt != 0;
    }
}
