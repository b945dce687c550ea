// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {OrderSignatures} from "./OrderSignatures.sol";
import {Accounts} from "./Accounts.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Nonces
/// @notice Order lifecycle state without a storage slot per order:
///  - a per-account nonce bitmap, two bits per nonce (128 nonces per word): CLOSED (fully filled or
///    cancelled) and PARTIAL (partially filled; the filled amount lives in `_filled[orderHash]`);
///  - a per-account minimum nonce: every order below it is cancelled (O(1) mass cancel).
/// A nonce identifies one order: if an account signs two orders with the same nonce, closing one (full fill
/// or cancel) closes both. The sdk allocates dense nonces per account so bitmap words are shared.
/// Storage and internals only (shared with ExchangeExtension); the cancel functions are in Cancels.
abstract contract Nonces is OrderSignatures, Accounts {
    using Packing for uint256;

    /// @dev account => nonce >> 7 => two bits per nonce.
    mapping(address account => mapping(uint256 wordIndex => uint256 bits)) internal _nonceWords;
    /// @dev order hash => filled size, kept only while an order is partially filled.
    mapping(bytes32 orderHash => uint256 filled) internal _filled;
}
