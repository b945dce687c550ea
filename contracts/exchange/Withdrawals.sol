// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {OrderSignatures} from "./OrderSignatures.sol";
import {Risk} from "./Risk.sol";
import {Collateral} from "./Collateral.sol";
import {ExitGuard, ExitStorage} from "./ExitGuard.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Withdrawals
/// @notice Two ways out of an account's cash, both initial-margin-checked at oracle marks (unrealised profit
///         is withdrawable; an account without positions needs no feed):
///         - fast: `withdraw(amount, to, deadline, operatorSignature)` by the account, co-signed by an
///           OPERATOR_ROLE key over the EIP-712 `Withdrawal(account, amount, to, nonce, deadline)` (the
///           operator knows the margin the account's open orders need). Per-account nonce: each signature
///           pays once. Stopped by a guardian pause and by a freeze.
///         - slow: `requestWithdrawal(amount)` (one pending per account; a new one replaces it), then after
///           `slowWithdrawalDelay` `claimWithdrawal(to)`. No operator, never paused; stopped only by a freeze
///           (the escape pays everything out then). The matcher learns of the request from
///           `WithdrawalRequested` and stops counting that amount as free margin.
abstract contract Withdrawals is OrderSignatures, Risk, Collateral, ReentrancyGuardTransient, ExitGuard {
    using SafeERC20 for IERC20;
    using SafeCast for int256;
    using SafeCast for uint256;
    using Packing for uint256;

    bytes32 public constant WITHDRAWAL_TYPEHASH = keccak256(
        "Withdrawal(address account,uint256 amount,address to,uint64 nonce,uint64 deadline)"
    );

    event WithdrawalRequested(address indexed account, uint256 amount, uint256 claimableAt);
    event WithdrawalCancelled(address indexed account);

    error WithdrawalExpired(uint64 deadline, uint256 timestamp);
    error NoPendingWithdrawal(address account);
    error WithdrawalNotClaimable(address account, uint256 claimableAt, uint256 timestamp);

    /// @notice Fast withdrawal of `amount` of the caller's cash to `to`, co-signed by an operator key.
    function withdraw(
        uint256 amount,
        address to,
        uint64 deadline,
        bytes calldata operatorSignature
    ) external nonReentrant {
        _requireNotFrozenOrPaused();
        if (block.timestamp > deadline) revert WithdrawalExpired(deadline, block.timestamp);
        ExitStorage.Withdrawal storage wd = ExitStorage.layout().withdrawals[msg.sender];
        uint64 nonce = wd.nonce;
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(WITHDRAWAL_TYPEHASH, msg.sender, amount, to, nonce, deadline))
        );
        (address signer, , ) = ECDSA.tryRecoverCalldata(digest, operatorSignature);
        if (signer == address(0) || !hasRole(OPERATOR_ROLE, signer)) revert NotOperatorSigned(signer);
        wd.nonce = nonce + 1;
        _payOut(msg.sender, amount, to);
    }

    /// @notice Files a slow withdrawal of `amount`, claimable after `slowWithdrawalDelay`; replaces a pending one.
    function requestWithdrawal(uint256 amount) external {
        _requireNotFrozen();
        _fileWithdrawal(msg.sender, amount);
    }

    /// @notice Drops the caller's pending slow withdrawal.
    function cancelWithdrawal() external {
        ExitStorage.Withdrawal storage wd = ExitStorage.layout().withdrawals[msg.sender];
        if (wd.amount == 0) revert NoPendingWithdrawal(msg.sender);
        (wd.amount, wd.claimableAt) = (0, 0);
        emit WithdrawalCancelled(msg.sender);
    }

    /// @notice Pays the caller's pending slow withdrawal to `to` once its delay has passed (margin-checked now).
    function claimWithdrawal(address to) external nonReentrant {
        _requireNotFrozen();
        ExitStorage.Withdrawal storage wd = ExitStorage.layout().withdrawals[msg.sender];
        uint256 amount = wd.amount;
        if (amount == 0) revert NoPendingWithdrawal(msg.sender);
        if (block.timestamp < wd.claimableAt) {
            revert WithdrawalNotClaimable(msg.sender, wd.claimableAt, block.timestamp);
        }
        (wd.amount, wd.claimableAt) = (0, 0);
        _payOut(msg.sender, amount, to);
    }

    /// @notice The next fast-withdrawal nonce of `account` and its pending slow withdrawal.
    function withdrawalState(
        address account
    ) external view returns (uint64 nonce, uint256 pendingAmount, uint256 claimableAt) {
        ExitStorage.Withdrawal storage wd = ExitStorage.layout().withdrawals[account];
        return (wd.nonce, wd.amount, wd.claimableAt);
    }

    function _fileWithdrawal(address account, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        ExitStorage.Layout storage s = ExitStorage.layout();
        uint256 claimableAt = block.timestamp + s.params.slowWithdrawalDelay;
        s.withdrawals[account].amount = amount.toUint128();
        s.withdrawals[account].claimableAt = uint64(claimableAt);
        emit WithdrawalRequested(account, amount, claimableAt);
    }

    /// @dev Takes `amount` out of `account`'s cash (initial margin at oracle marks afterwards) and pays `to`.
    function _payOut(address account, uint256 amount, address to) private {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 w = _accounts[account];
        int256 cashAfter = w.cash() - amount.toInt256();
        _requireInitialMargin(account, w.openMarkets(), cashAfter);
        _accounts[account] = w.withCash(cashAfter.toInt120());
        collateral.safeTransfer(to, amount);
        emit Withdraw(account, to, amount);
    }
}
