-- Listener (keeper/listener): blocks by hash, Exchange events keyed by block, so a reorg rollback is a
-- DELETE of everything above the common ancestor. The checkpoint is the highest row of chain_blocks.
CREATE TABLE chain_blocks (
  number bigint PRIMARY KEY,
  hash text NOT NULL,
  parent_hash text,
  processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ev_deposits (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, from_addr text NOT NULL, amount numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_deposits_account ON ev_deposits (account);

CREATE TABLE ev_withdrawals (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, to_addr text NOT NULL, amount numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_withdrawals_account ON ev_withdrawals (account);

CREATE TABLE ev_fills (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  batch bigint NOT NULL, maker text NOT NULL, taker text NOT NULL,
  maker_order_hash text NOT NULL, taker_order_hash text NOT NULL, market integer NOT NULL,
  taker_is_buy boolean NOT NULL, size numeric(78, 0) NOT NULL, price numeric(78, 0) NOT NULL,
  maker_fee numeric(78, 0) NOT NULL, taker_fee numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_fills_batch ON ev_fills (batch);

CREATE TABLE ev_fill_skips (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  batch bigint NOT NULL, fill_index integer NOT NULL, reason integer NOT NULL, reason_name text NOT NULL,
  order_hash text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_fill_skips_batch ON ev_fill_skips (batch);

CREATE TABLE ev_positions (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, market integer NOT NULL, old_size numeric(78, 0) NOT NULL, new_size numeric(78, 0) NOT NULL,
  cash numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_positions_account ON ev_positions (account, market, block_number DESC, log_index DESC);

-- Latest position and cash per (account, market), from the history (so a rollback needs no undo log).
CREATE VIEW positions AS
  SELECT DISTINCT ON (account, market) account, market, new_size AS size, cash, block_number
  FROM ev_positions ORDER BY account, market, block_number DESC, log_index DESC;

CREATE TABLE ev_cancels (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, order_hash text NOT NULL, nonce numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_min_nonces (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, min_nonce numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_agents (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  account text NOT NULL, agent text NOT NULL, expiry numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_batches (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  batch bigint NOT NULL, settled integer NOT NULL, skipped integer NOT NULL, fees numeric(78, 0) NOT NULL,
  submitter text NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX ev_batches_batch ON ev_batches (batch);

CREATE TABLE ev_fees_withdrawn (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  to_addr text NOT NULL, amount numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE ev_markets (
  block_number bigint NOT NULL, log_index integer NOT NULL, block_hash text NOT NULL, tx_hash text NOT NULL,
  market integer NOT NULL, symbol text NOT NULL, params jsonb NOT NULL,
  PRIMARY KEY (block_number, log_index)
);

CREATE TABLE listener_reorgs (
  id bigserial PRIMARY KEY,
  old_tip bigint NOT NULL,
  ancestor bigint NOT NULL,
  depth integer NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: messages written in the same transaction as the rows they describe, then
-- published to the bus and deleted. A crash between commit and publish loses nothing.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL, -- 'stream' (durable append) or 'channel' (pub/sub)
  topic text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
