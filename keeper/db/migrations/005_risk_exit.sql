-- Issue 3 events (funding, liquidation, insurance, slow/forced withdrawals, freeze, escape, pause). Same
-- convention as 002: keyed by (block_number, log_index), so a reorg rollback is a DELETE above the ancestor.
-- Columns marked "computed" are derived by the listener when the row is written (from the rows before it),
-- so the matcher commands of a row, and their inverse on a rollback, follow from the row alone.

-- Withdraw: 'fast' (operator co-signed) or 'claim' (pays a pending slow request; computed: the account had
-- a pending request of exactly this amount).
ALTER TABLE ev_withdrawals ADD COLUMN kind text NOT NULL DEFAULT 'fast';

CREATE TABLE ev_withdrawal_requests (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, amount numeric(78, 0) NOT NULL, claimable_at numeric(78, 0) NOT NULL,
  replaced_amount numeric(78, 0) NOT NULL DEFAULT 0, -- computed: the pending request this one replaced
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_withdrawal_requests_account ON ev_withdrawal_requests (account, block_number, log_index);

CREATE TABLE ev_withdrawal_cancels (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL,
  amount numeric(78, 0) NOT NULL DEFAULT 0, -- computed: the pending amount cancelled
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_withdrawal_cancels_account ON ev_withdrawal_cancels (account, block_number, log_index);
CREATE INDEX ev_withdrawals_account_pos ON ev_withdrawals (account, block_number, log_index);

CREATE TABLE ev_liquidations (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, liquidator text NOT NULL, market integer NOT NULL,
  size_delta numeric(78, 0) NOT NULL, mark numeric(78, 0) NOT NULL,
  account_cash_delta numeric(78, 0) NOT NULL, liquidator_cash_delta numeric(78, 0) NOT NULL,
  penalty numeric(78, 0) NOT NULL, liquidator_reward numeric(78, 0) NOT NULL, insurance_credit numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_liquidations_account ON ev_liquidations (account);

CREATE TABLE ev_bad_debts (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, market integer NOT NULL, amount numeric(78, 0) NOT NULL,
  covered numeric(78, 0) NOT NULL, socialised numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_loss_socialized (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  market integer NOT NULL, charge_longs boolean NOT NULL, amount numeric(78, 0) NOT NULL,
  index_delta numeric(78, 0) NOT NULL,
  charges jsonb NOT NULL DEFAULT '[]', -- computed: [[account, amount charged]] of the charged side's positions
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_funding (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  market integer NOT NULL, requested_rate numeric(78, 0) NOT NULL, applied_rate numeric(78, 0) NOT NULL,
  mark numeric(78, 0) NOT NULL, long_index numeric(78, 0) NOT NULL, short_index numeric(78, 0) NOT NULL,
  -- computed: the funding move of both indices (long index change since the previous update, minus the
  -- socialised losses charged to longs in between), 1e-6 quote per whole base unit
  index_delta numeric(78, 0) NOT NULL DEFAULT 0,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_funding_market ON ev_funding (market, block_number, log_index);

CREATE TABLE ev_forced_exits (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, fee numeric(78, 0) NOT NULL, withdraw_amount numeric(78, 0) NOT NULL,
  freezable_after numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_forced_exit_takeovers (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, taker text NOT NULL, market integer NOT NULL, size numeric(78, 0) NOT NULL,
  price numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_freezes (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  by_addr text NOT NULL, account text NOT NULL, frozen_at numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_escapes (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  kind text NOT NULL, -- 'register' (EscapeRegistered) or 'claim' (EscapeClaimed)
  account text NOT NULL, to_addr text, equity numeric(78, 0), claim numeric(78, 0) NOT NULL, paid numeric(78, 0),
  PRIMARY KEY (block_number, log_index)
);

-- Every other Exchange event (roles, parameters, pause, insurance, final prices, forced-exit served...):
-- name and arguments, so nothing the contract says is dropped.
CREATE TABLE ev_other (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  name text NOT NULL, args jsonb NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_other_name ON ev_other (name);
