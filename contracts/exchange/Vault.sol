// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Risk} from "./Risk.sol";
import {Collateral} from "./Collateral.sol";
import {ExitGuard} from "./ExitGuard.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Vault
/// @notice Collateral custody in the token's own units (a 6-decimal USD token). Deposits credit what
///         actually arrived (balance difference), so a fee-on-transfer token is credited net of its fee.
///         Withdrawals live in the extension (Withdrawals.sol: fast operator co-signed, slow request/claim;
///         Escape.sol after a freeze). Deposits and fee withdrawals stop once the Exchange is frozen.
abstract contract Vault is Risk, Collateral, ReentrancyGuardTransient, ExitGuard {
    using SafeERC20 for IERC20;
    using SafeCast for int256;
    using Packing for uint256;

    /// @notice Deposits `amount` from the caller into the caller's account.
    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    /// @notice Deposits `amount` from the caller into `account`; credits what the Exchange received.
    function depositFor(address account, uint256 amount) public nonReentrant {
        _requireNotFrozen();
        if (account == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 before = collateral.balanceOf(address(this));
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = collateral.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        uint256 w = _accounts[account];
        _accounts[account] = w.withCash((w.cash() + int256(received)).toInt120());
        emit Deposit(account, msg.sender, received);
    }

    /// @notice Pays accrued fees to `to`. Not once frozen: the escape pool is the whole balance.
    function withdrawFees(address to, uint256 amount) external onlyRole(TREASURER_ROLE) nonReentrant {
        _requireNotFrozen();
        if (to == address(0)) revert ZeroAddress();
        uint256 available = _ledger.fees;
        if (amount == 0 || amount > available) revert InsufficientFees(amount, available);
        unchecked {
            _ledger.fees = uint128(available - amount);
        }
        collateral.safeTransfer(to, amount);
        emit FeesWithdrawn(to, amount);
    }
}
