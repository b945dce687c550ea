// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {OrderSignatures} from "./OrderSignatures.sol";
import {Accounts} from "./Accounts.sol";
import {Order} from "../interfaces/ExchangeTypes.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Nonces
/// @notice Order lifecycle state without a storage slot per order:
///  - a per-account nonce bitmap, two bits per nonce (128 nonces per word): CLOSED (fully filled or
///    cancelled) and PARTIAL (partially filled; the filled amount lives in `_filled[orderHash]`);
///  - a per-account minimum nonce: every order below it is cancelled (O(1) mass cancel).
/// A nonce identifies one order: if an account signs two orders with the same nonce, closing one (full fill
/// or cancel) closes both. The sdk allocates dense nonces per account so bitmap words are shared.
abstract contract Nonces is OrderSignatures, Accounts {
    using Packing for uint256;

    /// @dev account => nonce >> 7 => two bits per nonce.
    mapping(address account => mapping(uint256 wordIndex => uint256 bits)) internal _nonceWords;
    /// @dev order hash => filled size, kept only while an order is partially filled.
    mapping(bytes32 orderHash => uint256 filled) internal _filled;

    /// @notice Cancels one order (closes its nonce). Callable by the account or a live agent of it.
    function cancelOrder(Order calldata order) external {
        _requireAccountOrAgent(order.account);
        bytes32 orderHash = hashOrder(order);
        (uint256 wi, uint256 shift) = Packing.nonceSlot(order.nonce);
        uint256 word = _nonceWords[order.account][wi];
        if ((word >> shift) & Packing.PARTIAL != 0) delete _filled[orderHash];
        _nonceWords[order.account][wi] = (word & ~(Packing.PARTIAL << shift)) | (Packing.CLOSED << shift);
        uint256 w = _accounts[order.account];
        if (!w.hasNonceBits()) _accounts[order.account] = w | Packing.NONCE_BITS;
        emit OrderCancelled(order.account, orderHash, order.nonce);
    }

    /// @notice Cancels every order of `account` with a nonce below `minNonce`; it must increase.
    ///         Callable by the account or a live agent of it. O(1) whatever the number of open orders.
    function raiseMinNonce(address account, uint64 minNonce) external {
        if (msg.sender != account) _requireAccountOrAgent(account);
        uint256 w = _accounts[account];
        uint64 current = w.minNonce();
        if (minNonce <= current) revert MinNonceNotIncreasing(current, minNonce);
        _accounts[account] = w.withMinNonce(minNonce);
        emit MinNonceRaised(account, minNonce);
    }

    /// @notice State of an order: `closed` (cancelled, fully filled or below the minimum nonce) and the
    ///         filled size while it is open.
    function orderState(
        address account,
        uint64 nonce,
        bytes32 orderHash
    ) external view returns (bool closed, uint256 filled) {
        (uint256 wi, uint256 shift) = Packing.nonceSlot(nonce);
        uint256 bits = (_nonceWords[account][wi] >> shift) & 3;
        if (bits & Packing.CLOSED != 0 || nonce < _accounts[account].minNonce()) return (true, 0);
        if (bits & Packing.PARTIAL != 0) filled = _filled[orderHash];
    }
}
