"""The live feed's sequence numbers in SQL: a load numbers its new trades per symbol right after the
symbol's last number, without gaps, in (time, trade id) order; a resent trade keeps its number
(compose/CONTRACT.md feed.seq)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline_e2e.support.loading import valid_ids

pytestmark = [pytest.mark.integrity, pytest.mark.contract("feed.seq")]


def _seqs(db, ids):
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT symbol, seq, trade_id, ts FROM trades WHERE trade_id = ANY(:ids) ORDER BY symbol, seq"),
            {"ids": list(ids)})]


def _last(db, symbol):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT last_seq FROM symbol_sequences WHERE symbol = :s"),
                            {"s": symbol}).scalar_one()


def test_loaded_trades_get_consecutive_seq_per_symbol_in_time_order(trade_files, loader, db):
    tf = trade_files.build(120, symbols=("AMZN", "GOOG"), spread_minutes=30)
    loader.upload(tf)
    rows = _seqs(db, valid_ids(tf))
    assert len(rows) == 120
    for symbol in ("AMZN", "GOOG"):
        mine = [r for r in rows if r[0] == symbol]
        seqs = [r[1] for r in mine]
        # One load holds the numbering lock: its trades of a symbol are one unbroken block.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        assert [(r[3], r[2]) for r in mine] == sorted((r[3], r[2]) for r in mine)
        assert _last(db, symbol) >= seqs[-1]


def test_resent_trades_keep_their_seq_and_take_no_new_number(trade_files, loader, db):
    tf = trade_files.build(30, symbols=("NFLX",))
    loader.upload(tf)
    before = _seqs(db, valid_ids(tf))
    again = loader.upload(tf)
    assert again["rows_new"] == 0
    assert _seqs(db, valid_ids(tf)) == before


def test_no_symbol_has_a_seq_repeated_or_beyond_its_last_seq(db):
    with db.connect() as conn:
        bad = conn.execute(sa.text(
            "SELECT t.symbol, count(*) AS n, count(DISTINCT t.seq) AS distinct_seqs, max(t.seq) AS top,"
            " s.last_seq FROM trades t JOIN symbol_sequences s USING (symbol)"
            " GROUP BY t.symbol, s.last_seq"
            " HAVING count(*) <> count(DISTINCT t.seq) OR max(t.seq) > s.last_seq")).all()
    assert bad == [], bad
