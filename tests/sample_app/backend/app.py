"""Stand-in for the StickForStats Django backend (and its ASGI, worker and beat).

Run modes (first argument):
  web     HTTP API on :8000 (gunicorn's place): /api/v1/health/, /api/v1/items/
  asgi    the same API on :8001 (daphne's place)
  worker  consumes jobs from Redis (Celery worker's place)
  beat    enqueues a job every few seconds (Celery beat's place)
  migrate creates the schema and exits (manage.py migrate's place)

Configuration comes from the environment, as Django's settings do:
DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS.
APP_VERSION is baked into the image; APP_MODE=unhealthy makes the health
endpoint fail (503) while the process keeps running, APP_MODE=error makes it
answer 500, APP_MODE=hang makes it never answer, APP_MODE=crash exits at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg2
import redis

VERSION = os.environ.get("APP_VERSION", "unknown")
MODE = os.environ.get("APP_MODE", "normal")
STARTED = time.time()


def db_connect():
    return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)


IDLE: queue.LifoQueue = queue.LifoQueue()  # open connections, as Django's CONN_MAX_AGE keeps them


@contextlib.contextmanager
def db_cursor():
    """A cursor on a kept connection (a new one when none is idle), committed at the end."""
    try:
        conn = IDLE.get_nowait()
    except queue.Empty:
        conn = db_connect()
    try:
        with conn, conn.cursor() as cur:
            yield cur
    except Exception:
        conn.close()  # broken or mid-error: never reused
        raise
    if IDLE.qsize() < 16:
        IDLE.put(conn)
    else:
        conn.close()


CACHES: dict[str, redis.Redis] = {}


def cache_connect(url_var: str = "REDIS_URL", timeout: float = 2) -> redis.Redis:
    """One client per URL for the process: redis-py pools its connections."""
    key = f"{url_var}/{timeout}"
    if key not in CACHES:
        CACHES[key] = redis.Redis.from_url(
            os.environ[url_var], socket_timeout=timeout, socket_connect_timeout=2
        )
    return CACHES[key]


def check_database() -> str:
    try:
        with db_cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {type(exc).__name__}"


def check_cache() -> str:
    try:
        return "ok" if cache_connect().ping() else "error: no pong"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


def ensure_schema() -> None:
    with db_connect() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS items ("
            " id SERIAL PRIMARY KEY, name TEXT NOT NULL,"
            " version TEXT NOT NULL, created TIMESTAMPTZ DEFAULT now())"
        )


class Handler(BaseHTTPRequestHandler):
    server_version = "sfs-sample"

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        return

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _host_allowed(self) -> bool:
        allowed = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
        host = (self.headers.get("Host") or "").split(":")[0]
        return "*" in allowed or host in allowed

    def do_GET(self) -> None:
        if not self._host_allowed():
            self._send(400, {"error": "DisallowedHost"})
            return
        path = urlparse(self.path).path
        if path == "/api/v1/health/" and MODE == "hang":
            time.sleep(3600)  # never answers (the client gives up first)
            return
        if path == "/api/v1/health/" and MODE == "error":
            self._send(500, {"error": "Internal Server Error"})
            return
        if path == "/api/v1/health/":
            checks = {"database": check_database(), "cache": check_cache()}
            if MODE == "unhealthy":
                checks["application"] = "error: this build is broken on purpose"
            healthy = all(v == "ok" for v in checks.values())
            self._send(
                200 if healthy else 503,
                {
                    "status": "ok" if healthy else "error",
                    "version": VERSION,
                    "checks": checks,
                    "uptime_s": round(time.time() - STARTED, 1),
                },
            )
        elif path == "/api/v1/items/":
            with db_cursor() as cur:
                cur.execute("SELECT id, name, version FROM items ORDER BY id")
                rows = [{"id": r[0], "name": r[1], "version": r[2]} for r in cur.fetchall()]
            self._send(200, {"items": rows})
        elif path == "/api/v1/slow/":
            seconds = min(float(parse_qs(urlparse(self.path).query).get("s", ["5"])[0]), 60.0)
            time.sleep(seconds)
            self._send(200, {"version": VERSION, "slept_s": seconds})
        elif path == "/api/v1/version/":
            self._send(200, {"version": VERSION})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        if urlparse(self.path).path != "/api/v1/items/":
            self._send(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            name = str(json.loads(self.rfile.read(length) or b"{}")["name"])
        except (ValueError, KeyError):
            self._send(400, {"error": "body must be JSON with a name"})
            return
        with db_cursor() as cur:
            cur.execute(
                "INSERT INTO items (name, version) VALUES (%s, %s) RETURNING id", (name, VERSION)
            )
            item_id = cur.fetchone()[0]
        self._send(201, {"id": item_id, "name": name, "version": VERSION})


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the requests in flight
    request_queue_size = 128  # listen backlog (gunicorn's is 2048; the stdlib's 5 drops bursts)


STOPPING = threading.Event()


def on_sigterm(action) -> None:
    def handler(_signum, _frame) -> None:
        STOPPING.set()
        action()

    signal.signal(signal.SIGTERM, handler)


def serve(port: int) -> None:
    for _ in range(30):  # the database may still be starting
        try:
            ensure_schema()
            break
        except psycopg2.OperationalError:
            time.sleep(1)
    for _ in range(4):  # a few connections open before the first request, as a warm pool
        with contextlib.suppress(psycopg2.OperationalError):
            IDLE.put(db_connect())
    server = Server(("0.0.0.0", port), Handler)
    # shutdown() blocks until serve_forever returns: call it from another thread.
    on_sigterm(lambda: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()  # stop listening, then wait for the requests in flight
    print(f"sample app {VERSION}: stopped after finishing requests in flight", flush=True)


def lifecycle(broker: redis.Redis, role: str, event: str) -> None:
    broker.rpush(f"lifecycle:{role}", f"{event} {socket.gethostname()} {time.time():.3f} {VERSION}")


def worker() -> None:
    broker = cache_connect("CELERY_BROKER_URL", timeout=10)
    on_sigterm(lambda: None)
    lifecycle(broker, "worker", "start")
    while not STOPPING.is_set():
        job = broker.blpop(["jobs"], timeout=1)
        if job:
            broker.incr("jobs_done")
    lifecycle(broker, "worker", "stop")


def beat() -> None:
    broker = cache_connect("CELERY_BROKER_URL")
    on_sigterm(lambda: None)
    lifecycle(broker, "beat", "start")
    while not STOPPING.is_set():
        broker.rpush("jobs", json.dumps({"at": time.time(), "by": VERSION}))
        STOPPING.wait(5)
    lifecycle(broker, "beat", "stop")


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else "web"
    if MODE == "crash":
        print(f"sample app {VERSION}: crashing at start on purpose", file=sys.stderr)
        sys.exit(3)
    print(f"sample app {VERSION} ({role}) starting", flush=True)
    if role == "web":
        serve(8000)
    elif role == "asgi":
        serve(8001)
    elif role == "worker":
        worker()
    elif role == "beat":
        beat()
    elif role == "migrate":
        ensure_schema()
        print(f"sample app {VERSION}: schema is up to date", flush=True)
    else:
        sys.exit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
