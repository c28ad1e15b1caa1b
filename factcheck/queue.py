"""Checks on a real queue: the caller enqueues stories on Redis, `factcheck worker` processes on
any number of machines run them, and the caller collects the reports.

```
caller (batch `check --from`; later the web app and `feed`)       Redis
  1. enqueue   one RQ job per BatchJob, Retry(max=2)  ------------>  queue "factcheck"
                                                                         |
worker (`factcheck worker`, one per core, on every machine)              |
  2. build     its pipeline once (batch.worker_context), a Gate on       |
               a RedisClock: the services' rates and the per-site gaps   |
               hold for all workers on all machines together             |
  3. check     batch.run_job, the same function the local batch runs  <--+
  4. answer    the BatchResult as JSON, pushed on the run's result list ---> results:RUN
                                                                         |
caller                                                                   |
  5. collect   each result as it arrives (first one per story wins) <----+
               and the store: the caller is its one writer; workers never open it
  6. sweep     every few seconds: jobs whose worker stopped beating are handed back to the
               queue (RQ's StartedJobRegistry cleanup), a job out of retries becomes a
               failed story (WorkerDied), so every story arrives exactly once
```

Why RQ, not Celery or Dramatiq: a check is synchronous and CPU-bound (spaCy), and RQ's workers
are plain synchronous processes that call one function per job, which is what the pipeline
already is; it needs Redis and nothing else (no broker plus result backend to configure, as
Celery has), it is small enough to read (the abandoned-job handling below was checked in its
source, rq 3.0.0), and it has job retry (`Retry`) and a registry of running jobs whose expiry
hands a dead worker's job back. Dramatiq would do as well but adds a middleware layer we would
not use; Celery's prefork pool, acks_late and visibility timeouts are far more machinery for
the same guarantees.

Why `CheckWorker` is a `SimpleWorker`: RQ's default `Worker` forks a work horse per job, so
every job would start from the parent's memory and lose what the last one built (HTTP
connections, the cache's SQLite connection, the resolver's state), and sockets or SQLite
handles must not cross a fork at all. A SimpleWorker runs the jobs in its own process, so the
pipeline is built once per worker process, as the local batch's workers do. What the work horse
gave, a dead job noticed quickly, comes from a heartbeat thread instead: RQ's SimpleWorker keeps
a job in the StartedJobRegistry for job_timeout + 60 s without a beat, so a SIGKILLed worker's
story would wait minutes; CheckWorker beats every `heartbeat` seconds with a TTL of three beats,
so a killed worker's job is handed back about 3 beats after it died (rq calls this an
AbandonedJobError and retries the job when it has retries left; see
rq/registry.py::StartedJobRegistry.cleanup).

A story is checked at most 3 times (Retry(max=2)): a story that kills three workers is reported
as failed (WorkerDied), as the local batch does after its second death.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .batch import BatchJob, BatchResult, BatchStats, died_report_json, failed_report, run_job
from .config import Settings
from .errors import EXIT_UPSTREAM, FactcheckError

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

logger = logging.getLogger(__name__)

QUEUE_NAME = "factcheck"
RETRIES = 2  # a story is checked at most this many times again after its worker died
HEARTBEAT = 5.0  # seconds between a busy worker's beats; a job is abandoned after 3 missed
RESULT_TTL = 86_400  # seconds a run's result list outlives its last result
_SWEEP_EVERY = 2.0  # seconds between the caller's sweeps for abandoned and failed jobs


class QueueUnavailable(FactcheckError):
    """The queue's Redis cannot be reached (the URL, and what to do)."""

    stage = "queue"
    exit_status = EXIT_UPSTREAM

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


def connect(url: str) -> Redis:
    """A Redis connection to the queue at `url`, checked with a PING.

    Raises:
        QueueUnavailable: nothing answers at `url`, or it is not a redis:// URL.
    """
    import redis
    try:
        connection = redis.Redis.from_url(url)
        connection.ping()
    except ValueError as exc:
        raise QueueUnavailable(f"the queue URL {url!r} is not a redis:// URL ({exc}); fix "
                               "FACTCHECK_QUEUE_URL or [queue] url", url) from exc
    except redis.RedisError as exc:
        raise QueueUnavailable(f"cannot reach the queue at {_safe(url)}: {exc}; start "
                               "redis-server there or fix FACTCHECK_QUEUE_URL / [queue] url",
                               url) from exc
    return connection


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def job_timeout(settings: Settings) -> int:
    """Seconds RQ lets one job run before it stops it: the check's own budget, with room."""
    return int(settings.check_budget + 120) if settings.check_budget > 0 else 900


# -- the caller ---------------------------------------------------------------------------------


def run_queue(jobs: list[BatchJob], settings: Settings, url: str | None = None,
              on_result: Callable[[BatchResult], None] | None = None,
              stats: BatchStats | None = None) -> Iterator[BatchResult]:
    """Enqueue `jobs` for `factcheck worker` processes; yield each result as it arrives.

    Every job yields exactly one result, in the order they complete: the first result for a
    story wins (a worker killed after answering but before RQ marked its job done has the job
    run again), and a story whose workers died on every try yields a WorkerDied report.

    Args:
        jobs: the stories, with their index in the caller's list.
        settings: the run's Settings (`queue_url` unless `url` is given; the job timeout).
        url: the queue's Redis (default: settings.queue_url).
        on_result: called for each result before it is yielded (optional).
        stats: filled in with the stories checked again after their worker stopped.

    Raises:
        QueueUnavailable: the queue cannot be reached.
        KeyboardInterrupt: after the results so far were yielded; the stories still waiting
            are taken off the queue.
    """
    import redis
    from rq import Queue
    url = url or settings.queue_url
    connection = connect(url)
    queue = Queue(QUEUE_NAME, connection=connection)
    run = uuid.uuid4().hex[:16]
    results_key = f"factcheck:results:{run}"
    by_id = {f"fc-{run}-{job.index}": job for job in jobs}
    _enqueue(queue, by_id, results_key, job_timeout(settings))
    if not worker_count(connection):
        logger.warning("no factcheck worker is listening on the queue at %s; the %s stories wait "
                       "there until one starts", _safe(url), len(jobs))
    waiting = dict(by_id)
    by_index = {job.index: job_id for job_id, job in by_id.items()}
    next_sweep = time.monotonic() + _SWEEP_EVERY
    try:
        yield from _collect(queue, results_key, waiting, by_index, on_result, next_sweep, url)
    finally:
        try:
            _finish(queue, results_key, waiting, stats)
        except redis.RedisError as exc:
            logger.warning("could not tidy the run on the queue: %s", exc)


def _collect(queue: Queue, results_key: str, waiting: dict[str, BatchJob],
             by_index: dict[int, str], on_result: Callable[[BatchResult], None] | None,
             next_sweep: float, url: str) -> Iterator[BatchResult]:
    import redis
    connection = queue.connection
    try:
        while waiting:
            popped = connection.blpop([results_key], timeout=1)
            results: list[BatchResult] = []
            if popped is not None:
                result = BatchResult(**json.loads(popped[1]))
                if by_index.get(result.index) in waiting:
                    results.append(result)
            if time.monotonic() >= next_sweep or (popped is None and waiting):
                results += _sweep(queue, waiting)
                next_sweep = time.monotonic() + _SWEEP_EVERY
            for result in results:
                if waiting.pop(by_index[result.index], None) is None:
                    continue  # already answered (a job run twice)
                if on_result is not None:
                    on_result(result)
                yield result
    except redis.RedisError as exc:
        raise QueueUnavailable(f"lost the queue at {_safe(url)} with {len(waiting)} stories "
                               f"unanswered: {exc}", url) from exc


def _finish(queue: Queue, results_key: str, waiting: dict[str, BatchJob],
            stats: BatchStats | None) -> None:
    """Take unanswered stories off the queue (interrupted: nobody would collect them) and
    count the stories that were checked again."""
    connection = queue.connection
    if waiting:
        with connection.pipeline() as pipe:
            for job_id in waiting:
                queue.remove(job_id, pipeline=pipe)
            pipe.execute()
        logger.info("took %s waiting stories off the queue", len(waiting))
    if stats is not None:
        attempts = connection.hgetall(results_key + ":attempts")
        again = sum(max(0, int(n) - 1) for n in attempts.values())
        stats.retried, stats.restarts = again, again
    connection.delete(results_key + ":attempts")


def _enqueue(queue: Queue, by_id: dict[str, BatchJob], results_key: str, timeout: int) -> None:
    from rq import Retry
    datas = [queue.prepare_data(perform, args=(job, results_key), job_id=job_id,
                                description=job.source, timeout=timeout,
                                # not 0: rq 3.0.0 deletes a result_ttl=0 job by fetching each of
                                # its executions, and fails a retried job whose killed execution
                                # expired ("Execution ... not found"), so it ran a third time
                                result_ttl=600,
                                failure_ttl=RESULT_TTL, retry=Retry(max=RETRIES,
                                                                    enqueue_at_front=True))
             for job_id, job in by_id.items()]
    for start in range(0, len(datas), 500):  # one pipeline each, not one round trip per story
        with queue.connection.pipeline() as pipe:
            queue.enqueue_many(datas[start:start + 500], pipeline=pipe)
            pipe.execute()


def _sweep(queue: Queue, waiting: dict[str, BatchJob]) -> list[BatchResult]:
    """Hand abandoned jobs back to the queue; a job out of retries becomes a failed result."""
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    # the workers' maintenance lock (briefly), or a worker's clean-up and ours would both hand
    # the same abandoned job back to the queue and it would run twice
    if queue.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=30):
        try:
            StartedJobRegistry(queue=queue).cleanup()  # retries or fails the silent jobs
        finally:
            queue.connection.delete(queue.registry_cleaning_key)
    failed = [job_id for job_id in FailedJobRegistry(queue=queue).get_job_ids()
              if job_id in waiting]
    results = []
    for job_id in failed:
        job = waiting[job_id]
        reason = _failure(queue, job_id)
        if "AbandonedJobError" in reason:
            report = died_report_json(job.source)
        else:
            from .serialize import report_to_json
            report = report_to_json(failed_report(
                job.source, "check", "WorkerFailed",
                f"the queue worker checking this story failed ({reason}); see its log"),
                indent=None)
        results.append(BatchResult(job.index, job.source, report, EXIT_UPSTREAM, 0.0))
    return results


def _failure(queue: Queue, job_id: str) -> str:
    from rq.job import Job
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except Exception:  # gone already: all we know is that it failed
        return "unknown"
    text = job.exc_info or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown"


def worker_count(connection: Redis) -> int:
    """`factcheck worker` processes listening on the queue now."""
    from rq import Queue, Worker
    return int(Worker.count(queue=Queue(QUEUE_NAME, connection=connection)))


# -- the worker ---------------------------------------------------------------------------------

_CONTEXT: dict[str, Any] = {}


def perform(job: BatchJob, results_key: str) -> None:
    """The RQ job: check one story with this worker's Context and push its BatchResult."""
    from rq import get_current_job
    from rq.timeouts import BaseTimeoutException
    current = get_current_job()
    assert current is not None, "perform runs inside an RQ worker"
    connection = current.connection
    connection.hincrby(results_key + ":attempts", str(job.index), 1)
    connection.expire(results_key + ":attempts", RESULT_TTL)
    # a job timeout is RQ's to handle (it retries the job), not a story's problem
    result = run_job(job, _CONTEXT["ctx"], passthrough=(BaseTimeoutException,))
    with connection.pipeline() as pipe:
        pipe.rpush(results_key, json.dumps(dataclasses.asdict(result)))
        pipe.expire(results_key, RESULT_TTL)
        pipe.execute()
    logger.info("queue worker %s: checked %s", os.getpid(), job.source)


def _worker_class() -> Any:
    from rq import SimpleWorker
    from rq.worker import WorkerStatus

    class CheckWorker(SimpleWorker):
        """Runs jobs in this process (the pipeline is built once) and beats while it does."""

        heartbeat_interval = HEARTBEAT

        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            # three missed beats and the job is abandoned, instead of job_timeout + 60 s
            return max(2, int(self.heartbeat_interval * 3 + 0.999))

        def execute_job(self, job: Any, queue: Any) -> None:
            execution = self.prepare_execution(job)
            stop = threading.Event()
            beat = threading.Thread(target=self._beat, args=(job, execution, stop),
                                    name="heartbeat", daemon=True)
            beat.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                stop.set()
                beat.join()
            self.set_state(WorkerStatus.IDLE)

        def _beat(self, job: Any, execution: Any, stop: threading.Event) -> None:
            import redis
            while not stop.wait(self.heartbeat_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except redis.RedisError as exc:  # the next beat tries again
                    logger.warning("heartbeat failed: %s", exc)

    return CheckWorker


def run_worker(settings: Settings, url: str | None = None, burst: bool = False,
               heartbeat: float = HEARTBEAT, log_level: str = "WARNING") -> bool:
    """Build this process's pipeline once, then check the queue's stories until stopped.

    Args:
        settings: this machine's Settings (its cache, its API keys, its service rates).
        url: the queue's Redis (default: settings.queue_url).
        burst: quit once the queue is empty instead of waiting for more.
        heartbeat: seconds between beats while a story is checked; a worker silent for three
            beats has its story handed to another worker.
        log_level: RQ's own log level (a line per job at INFO).

    Returns:
        True if it checked any story.

    Raises:
        QueueUnavailable: the queue cannot be reached.
    """
    from rq import Queue

    from .batch import worker_context
    from .gate import RedisClock
    url = url or settings.queue_url
    connection = connect(url)
    _CONTEXT["ctx"] = worker_context(settings, RedisClock(connection))
    cls = _worker_class()
    cls.heartbeat_interval = heartbeat
    # worker_ttl 60: RQ blocks on the queue for worker_ttl - 15 s, and runs its maintenance
    # (which also hands back abandoned jobs) between those waits
    worker = cls([Queue(QUEUE_NAME, connection=connection)], connection=connection,
                 worker_ttl=60, maintenance_interval=max(10, int(heartbeat * 6)),
                 job_monitoring_interval=max(1, int(heartbeat)))
    logger.info("queue worker %s ready on %s", os.getpid(), _safe(url))
    return bool(worker.work(burst=burst, logging_level=log_level))


__all__ = ["HEARTBEAT", "QUEUE_NAME", "QueueUnavailable", "connect", "perform", "run_queue",
           "run_worker", "worker_count"]
