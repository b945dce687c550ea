// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Risk} from "./Risk.sol";
import {Collateral} from "./Collateral.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Vault
/// @notice Collateral custody in the token's own units (a 6-decimal USD token). Deposits credit what
///         actually arrived (balance difference), so a fee-on-transfer token is credited net of its fee.
///         Withdrawal is a plain margin-checked withdraw; issue 3 replaces it with fast (operator
///         co-signed) and slow (request, delay, claim) withdrawals.
abstract contract Vault is Risk, Collateral, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for int256;
    using SafeCast for uint256;
    using Packing for uint256;

    /// @notice Deposits `amount` from the caller into the caller's account.
    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    /// @notice Deposits `amount` from the caller into `account`; credits what the Exchange received.
    function depositFor(address account, uint256 amount) public nonReentrant {
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

    /// @notice Withdraws `amount` of the caller's cash to `to`. The account must meet its initial margin
    ///         requirement at current oracle marks afterwards (cash alone when it holds no position).
    function withdraw(uint256 amount, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        _beforeWithdraw(msg.sender, amount);
        uint256 w = _accounts[msg.sender];
        int256 cashAfter = w.cash() - amount.toInt256();
        _requireInitialMargin(msg.sender, w.openMarkets(), cashAfter);
        _accounts[msg.sender] = w.withCash(cashAfter.toInt120());
        collateral.safeTransfer(to, amount);
        emit Withdraw(msg.sender, to, amount);
    }

    /// @notice Pays accrued fees to `to`.
    function withdrawFees(address to, uint256 amount) external onlyRole(TREASURER_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 available = _ledger.fees;
        if (amount == 0 || amount > available) revert InsufficientFees(amount, available);
        unchecked {
            _ledger.fees = uint128(available - amount);
        }
        collateral.safeTransfer(to, amount);
        emit FeesWithdrawn(to, amount);
    }

    /// @dev Seam for issue 3 (pause of fast withdrawals, slow-withdrawal rules). No-op for now.
    function _beforeWithdraw(address account, uint256 amount) internal virtual {}
}
