-- Tradeboard's schema. Audit timestamps come from the database (DEFAULT now(), and the
-- tb_touch_updated_at trigger for updated_at), never from the application's clock.

CREATE FUNCTION tb_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TABLE symbols (
    symbol      text PRIMARY KEY CHECK (symbol ~ '^[A-Z][A-Z0-9.]{0,11}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash  text NOT NULL,
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- One row per login. Refresh rotates refresh_jti; only the current refresh token is valid.
CREATE TABLE sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_jti  text NOT NULL,
    access_ttl   integer NOT NULL CHECK (access_ttl > 0),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Failed logins per account (lower-cased email, known or not, so probing reveals nothing).
-- In the database so that a lockout survives an API restart.
CREATE TABLE login_failures (
    email_key          text PRIMARY KEY,
    failures           integer NOT NULL CHECK (failures >= 0),
    window_started_at  timestamptz NOT NULL,
    locked_until       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE watchlists (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT watchlists_user_name_key UNIQUE (user_id, name)
);

CREATE TABLE watchlist_symbols (
    watchlist_id  uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    symbol        text NOT NULL REFERENCES symbols (symbol),
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (watchlist_id, symbol)
);

-- The warehouse: one row per source trade; trade_id is the idempotency key.
CREATE TABLE trades (
    trade_id   text PRIMARY KEY CHECK (length(trade_id) BETWEEN 1 AND 128),
    symbol     text NOT NULL REFERENCES symbols (symbol),
    price      numeric NOT NULL CHECK (price > 0),
    quantity   numeric NOT NULL CHECK (quantity > 0),
    ts         timestamptz NOT NULL,
    file_key   text,                       -- the landing object the row first came from
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trades_symbol_ts_idx ON trades (symbol, ts, trade_id);

-- 1-minute bars; minute is date_bin('1 minute', ts, '2000-01-01Z'). open/close are the
-- first/last trade by (ts, trade_id).
CREATE TABLE bars_1m (
    symbol      text NOT NULL REFERENCES symbols (symbol),
    minute      timestamptz NOT NULL,
    open        numeric NOT NULL CHECK (open > 0),
    high        numeric NOT NULL,
    low         numeric NOT NULL,
    close       numeric NOT NULL CHECK (close > 0),
    volume      numeric NOT NULL CHECK (volume > 0),
    trades      integer NOT NULL CHECK (trades > 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, minute),
    CHECK (low > 0 AND low <= high)
);

-- Every object seen in the landing bucket. A row is inserted 'pending' when the worker
-- discovers the object; loading it and turning it 'loaded' is one transaction.
CREATE TABLE landing_files (
    key             text PRIMARY KEY,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'loaded', 'rejected')),
    size_bytes      bigint CHECK (size_bytes >= 0),
    landed_at       timestamptz NOT NULL,      -- the object's LastModified
    loaded_at       timestamptz,               -- when its rows became queryable (commit)
    rows_total      integer NOT NULL DEFAULT 0,
    rows_loaded     integer NOT NULL DEFAULT 0,
    rows_rejected   integer NOT NULL DEFAULT 0,
    rows_new        integer NOT NULL DEFAULT 0,
    rows_duplicate  integer NOT NULL DEFAULT 0,
    error           text,
    quarantine_key  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (rows_total = rows_loaded + rows_rejected),
    CHECK (rows_loaded = rows_new + rows_duplicate),
    CHECK (rows_new >= 0 AND rows_duplicate >= 0 AND rows_rejected >= 0),
    CHECK ((status = 'pending') = (loaded_at IS NULL))
);
CREATE INDEX landing_files_pending_idx ON landing_files (landed_at) WHERE status = 'pending';

CREATE TABLE quarantine_rows (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_key    text NOT NULL REFERENCES landing_files (key) ON DELETE CASCADE,
    line        integer NOT NULL CHECK (line > 0),
    reason      text NOT NULL CHECK (reason IN ('malformed', 'unknown_symbol',
                    'non_positive_price', 'non_positive_quantity', 'bad_timestamp')),
    raw         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quarantine_rows_file_line_key UNIQUE (file_key, line)
);

-- A user's upload. Its status and counts are those of the landing file with the same key
-- (no foreign key: the worker may see the object before this row commits).
CREATE TABLE uploads (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    object_key    text NOT NULL UNIQUE,
    content_type  text,
    size_bytes    bigint NOT NULL CHECK (size_bytes >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_user_created_idx ON uploads (user_id, created_at DESC);

CREATE TABLE exports (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    symbol       text NOT NULL REFERENCES symbols (symbol),
    from_ts      timestamptz NOT NULL,
    to_ts        timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress     integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    row_count    integer NOT NULL DEFAULT 0 CHECK (row_count >= 0),
    object_key   text,
    error        text,
    worker_id    text,                      -- who runs it, to take over from a dead worker
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (to_ts > from_ts)
);
CREATE INDEX exports_user_created_idx ON exports (user_id, created_at DESC);
CREATE INDEX exports_active_idx ON exports (created_at) WHERE status IN ('queued', 'running');

CREATE TABLE pipeline_heartbeats (
    worker_id    text PRIMARY KEY,
    beat_at      timestamptz NOT NULL DEFAULT now(),
    state        text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    last_run_at  timestamptz                  -- end of its last complete landing scan
);

CREATE TRIGGER symbols_touch BEFORE UPDATE ON symbols
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER sessions_touch BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER login_failures_touch BEFORE UPDATE ON login_failures
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER watchlists_touch BEFORE UPDATE ON watchlists
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER bars_1m_touch BEFORE UPDATE ON bars_1m
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER landing_files_touch BEFORE UPDATE ON landing_files
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER uploads_touch BEFORE UPDATE ON uploads
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
CREATE TRIGGER exports_touch BEFORE UPDATE ON exports
    FOR EACH ROW EXECUTE FUNCTION tb_touch_updated_at();
