-- The live feed (compose/CONTRACT.md, feed.*): every trade gets a per-symbol sequence number
-- 1, 2, 3, ... without gaps, assigned by the worker in the transaction that inserts it, so that
-- a WebSocket client that reconnects with its last seq can be sent exactly what it missed.
ALTER TABLE trades ADD COLUMN seq bigint;
-- Rows loaded before this migration are numbered by (trade time, trade id).
UPDATE trades t SET seq = n.seq
FROM (SELECT trade_id, row_number() OVER (PARTITION BY symbol ORDER BY ts, trade_id) AS seq
      FROM trades) n
WHERE t.trade_id = n.trade_id;
ALTER TABLE trades ALTER COLUMN seq SET NOT NULL;
ALTER TABLE trades ADD CONSTRAINT trades_seq_positive CHECK (seq > 0);
ALTER TABLE trades ADD CONSTRAINT trades_symbol_seq_key UNIQUE (symbol, seq);

-- The last seq given per symbol: the counter the worker advances under a lock.
CREATE TABLE symbol_sequences (
    symbol      text PRIMARY KEY REFERENCES symbols (symbol),
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO symbol_sequences (symbol, last_seq)
SELECT s.symbol, coalesce((SELECT max(t.seq) FROM trades t WHERE t.symbol = s.symbol), 0)
FROM symbols s;

CREATE TRIGGER symbol_sequences_touch BEFORE UPDATE ON symbol_sequences
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
