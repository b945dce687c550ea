-- Candles (keeper/listener/candles.ts): OHLCV per market and interval from settled fills (FillSettled),
-- timed by their block. Kept incrementally by the listener (one upsert per interval and bucket of a
-- block's new fills); a reorg rollback recomputes the touched buckets from the fills that remain.
ALTER TABLE ev_fills ADD COLUMN block_time bigint; -- block timestamp in ms (null: stored before 004)
ALTER TABLE ev_fills ADD COLUMN trade_id bigint; -- the matcher's tradeId when this keeper's settler built the batch
CREATE INDEX ev_fills_market_time ON ev_fills (market, block_time);

CREATE SEQUENCE candle_version;

CREATE TABLE candles (
  market integer NOT NULL,
  interval text NOT NULL, -- 1m, 5m, 15m, 1h, 4h, 1d
  open_time bigint NOT NULL, -- ms, a multiple of the interval
  open numeric(78, 0) NOT NULL,
  high numeric(78, 0) NOT NULL,
  low numeric(78, 0) NOT NULL,
  close numeric(78, 0) NOT NULL,
  volume numeric(78, 0) NOT NULL, -- base, 1e-8 units
  quote numeric(78, 0) NOT NULL, -- quote, 6 decimals: sum of floor(size * price / 1e8)
  trades integer NOT NULL,
  taker_buy_volume numeric(78, 0) NOT NULL,
  taker_buy_quote numeric(78, 0) NOT NULL,
  -- chain order of the first and last fill: block_number * 2^20 + log_index
  first_key bigint NOT NULL,
  last_key bigint NOT NULL,
  first_trade bigint, -- matcher tradeIds when known
  last_trade bigint,
  -- increases with every write of the row (a reader keeps the highest it has seen)
  version bigint NOT NULL DEFAULT nextval('candle_version'),
  PRIMARY KEY (market, interval, open_time)
);
