"""The pipeline worker: ``python -m tradeboard.worker``.

Three threads: the heartbeat (every second), the ingestion loop (landing bucket, every
``TB_POLL_INTERVAL``) and the export loop. Each survives the database or the object store
going away: it logs, backs off (up to 5 s) and carries on.

``python -m tradeboard.worker --check`` exits 0 iff some worker's heartbeat is younger than
10 s (a readiness probe; it needs only ``TB_DATABASE_URL``). ``python -m tradeboard.probe`` is
the same check without the worker's imports, for probes that run often.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text

from . import db, export_jobs, feed, ingest, logs, probe, storage
from .config import ConfigError, Settings, load_settings
from .migrate import apply_migrations
from .storage import Storage

log = logging.getLogger("tradeboard.worker")
MAX_BACKOFF = 5.0


def describe(err: BaseException) -> str | None:
    """``database`` / ``storage`` when ``err`` means that dependency is away, else None."""
    if db.is_unavailable(err):
        return "database"
    if storage.is_unavailable(err):
        return "storage"
    return None


class Backoff:
    """Doubling delays from 0.2 s to MAX_BACKOFF; reset after a success."""

    def __init__(self) -> None:
        self.delay = 0.2

    def next(self) -> float:
        current = self.delay
        self.delay = min(self.delay * 2, MAX_BACKOFF)
        return current

    def reset(self) -> None:
        self.delay = 0.2


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.engine: Engine = db.make_engine(settings.database_url, pool_size=4, max_overflow=4)
        self.store = Storage(settings)
        self.redis = redis_client(settings.redis_url)
        self.stop = threading.Event()
        self.state = "starting"
        self.last_run: float | None = None  # monotonic time of the last complete scan
        self.next_listing = 0.0

    # --- the loops -----------------------------------------------------------------------

    def _guarded(self, name: str, step: Callable[[], bool]) -> None:
        """Run ``step`` until stopped; it returns True when it did work (no pause then)."""
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                busy = step()
                backoff.reset()
            except Exception as err:
                away = describe(err)
                delay = backoff.next()
                if away:
                    self.state = f"retrying: {away} unavailable"
                    log.warning("%s: %s unavailable (%s: %s); retry in %.1f s", name, away,
                                type(err).__name__, probe.first_line(err), delay)
                else:
                    log.error("%s: unexpected error; retry in %.1f s", name, delay,
                              exc_info=err)
                self.stop.wait(delay)
                continue
            if not busy:
                self.stop.wait(self.settings.poll_interval)

    def _ingest_step(self) -> bool:
        ingest.scan_uploads(self.engine, self.store)
        if time.monotonic() >= self.next_listing:
            started = time.monotonic()
            ingest.scan_landing(self.engine, self.store)
            took = time.monotonic() - started
            # Listing a big bucket is slow: never spend more than a third of the time on it.
            self.next_listing = time.monotonic() + 2 * took
            self.last_run = time.monotonic()
        loaded_any = False
        while not self.stop.is_set():
            result = ingest.load_next(self.engine, self.store)
            if result is None:
                break
            loaded_any = True
            self._log_load(result)
            self._publish(result)
        if self.state.startswith("retrying"):
            log.info("ingest: dependencies are back")
        self.state = "running"
        return loaded_any

    @staticmethod
    def _log_load(r: ingest.LoadResult) -> None:
        if r.status == "loaded":
            log.info("loaded %s: total=%d new=%d duplicate=%d rejected=%d in %.2f s", r.key,
                     r.rows_total, r.rows_new, r.rows_duplicate, r.rows_rejected, r.seconds)
        else:
            log.info("rejected %s: %s", r.key, r.error)

    def _publish(self, result: ingest.LoadResult) -> None:
        """Publish a committed load's new trades to the live feed. A failure (Redis away) is
        logged and never undoes the load: the API fills the gap from the database."""
        if not result.new_trades:
            return
        try:
            started = time.perf_counter()
            count = feed.publish_trades(self.redis, result.new_trades)
            log.info("published %d trades of %s in %.3f s", count, result.key,
                     time.perf_counter() - started)
        except Exception as err:  # noqa: BLE001 - the load stands; clients catch up from SQL
            log.warning("could not publish %d trades of %s (%s: %s); feeds will fill the gap "
                        "from the database", len(result.new_trades), result.key,
                        type(err).__name__, probe.first_line(err))

    def _export_step(self) -> bool:
        job = export_jobs.claim(self.engine, self.worker_id, self.settings.heartbeat_max_age)
        if job is None:
            return False
        try:
            export_jobs.run(self.engine, self.store, job, self.worker_id,
                            chunk_rows=self.settings.export_chunk_rows,
                            chunk_delay=self.settings.export_chunk_delay, stop=self.stop)
        except InterruptedError:
            export_jobs.requeue(self.engine, job, self.worker_id)
        except Exception as err:
            if describe(err):
                raise  # stays running for us; claimed again once the dependency is back
            log.error("export %s failed", job.id, exc_info=err)
            export_jobs.fail(self.engine, job, self.worker_id, f"{type(err).__name__}: {err}")
        return True

    def _heartbeat(self) -> None:
        failing = False
        while not self.stop.is_set():
            ago = None if self.last_run is None else time.monotonic() - self.last_run
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("""
                        INSERT INTO pipeline_heartbeats (worker_id, state, last_run_at)
                        VALUES (:id, :state, now() - make_interval(secs => :ago))
                        ON CONFLICT (worker_id) DO UPDATE SET beat_at = now(),
                            state = EXCLUDED.state, last_run_at = EXCLUDED.last_run_at
                    """), {"id": self.worker_id, "state": self.state, "ago": ago})
                if failing:
                    log.info("heartbeat: written again")
                failing = False
            except Exception as err:  # noqa: BLE001 - never let the heartbeat thread die
                if not failing:  # once per outage; the loops log their own retries
                    log.warning("heartbeat: cannot write (%s: %s); retrying every second",
                                type(err).__name__, probe.first_line(err))
                failing = True
            self.stop.wait(1.0)

    # --- lifecycle -----------------------------------------------------------------------

    def _migrate(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                applied = apply_migrations(self.engine)
                log.info("schema ready (%s)", ", ".join(applied) if applied else "up to date")
                return
            except Exception as err:  # noqa: BLE001 - retried until it works or we stop
                delay = backoff.next()
                log.warning("migrations: %s (%s); retry in %.1f s",
                            describe(err) or "error", probe.first_line(err), delay)
                self.stop.wait(delay)

    def run(self) -> int:
        log.info("worker %s starting (poll %.2f s, export chunks %d rows / %.2f s)",
                 self.worker_id, self.settings.poll_interval, self.settings.export_chunk_rows,
                 self.settings.export_chunk_delay)
        self._migrate()
        if self.stop.is_set():
            return 0
        try:
            with self.engine.begin() as conn:  # forget workers that are long gone
                conn.execute(text(
                    "DELETE FROM pipeline_heartbeats WHERE beat_at < now() - interval '1 hour'"))
        except Exception as err:  # noqa: BLE001 - housekeeping only
            log.warning("could not prune old heartbeats: %s", probe.first_line(err))
        self.state = "running"
        threads = [
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True),
            threading.Thread(target=self._guarded, args=("ingest", self._ingest_step),
                             name="ingest", daemon=True),
            threading.Thread(target=self._guarded, args=("exports", self._export_step),
                             name="exports", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self.stop.wait()
        log.info("worker %s stopping", self.worker_id)
        for thread in threads:
            thread.join(timeout=10)
        try:
            with self.engine.begin() as conn:
                conn.execute(text("DELETE FROM pipeline_heartbeats WHERE worker_id = :id"),
                             {"id": self.worker_id})
        except Exception as err:  # noqa: BLE001 - best effort on the way out
            log.warning("could not remove the heartbeat row: %s", probe.first_line(err))
        self.engine.dispose()
        return 0


def redis_client(url: str) -> Any:
    """A client that reconnects by itself on each command; short timeouts so that a Redis
    outage costs a load a moment, not a stall."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                health_check_interval=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tradeboard.worker",
                                     description="Run the Tradeboard pipeline worker.")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 0 iff a heartbeat is younger than {probe.MAX_AGE} s")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(require=("database_url",) if args.check else
                                 ("database_url", "s3_endpoint"))
    except ConfigError as err:
        print(f"tradeboard.worker: {err}", file=sys.stderr)
        return 2
    if args.check:
        return probe.check(settings.database_url)
    logs.setup("tradeboard.worker")
    worker = Worker(settings)

    def _stop(signum: int, _frame: object) -> None:
        log.info("received %s", signal.Signals(signum).name)
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
