"""The Celery side of `taskmill demo` (written into the demo's scratch dir and run from there;
scripts/e2e.sh uses it too). A small Celery app on the demo's private Redis whose tasks succeed,
fail, retry, run late (ETA) and form chains, groups and chords, so every Celery page of the
console has content within seconds.

    python taskmill_demo_celery.py traffic           publish a mix of tasks about once a second
    python taskmill_demo_celery.py send NAME [ARGS [QUEUE]]
                                                     publish one task (ARGS: a JSON list), print its id
    celery -A taskmill_demo_celery worker -E ...     the worker (the demo starts it)

The broker (also the result backend) comes from TASKMILL_DEMO_CELERY_BROKER: the demo passes
its own Redis, never a default one.
"""

import json
import os
import random
import sys
import time

from celery import Celery, chain, chord, group

BROKER = os.environ["TASKMILL_DEMO_CELERY_BROKER"]
# Celery lets these override the broker / backend given below: a user's CELERY_BROKER_URL must
# never send the demo's traffic to their Redis.
for name in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL",
             "CELERY_RESULT_BACKEND"):
    os.environ.pop(name, None)

app = Celery("taskmill_demo", broker=BROKER, backend=BROKER)
app.conf.update(
    # The console shows args / kwargs of finished tasks and can retry a failed one from them.
    result_extended=True,
    result_expires=3600,
    # Events feed the console's workers and tasks pages (the same as `celery worker -E`).
    worker_send_task_events=True,
    task_send_sent_event=True,
    task_track_started=True,
    # The console's "Restart pool" button works only with this.
    worker_pool_restarts=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


def pause(lo, hi):
    time.sleep(random.uniform(lo, hi))


@app.task(name="demo.add")
def add(x, y):
    pause(0.05, 0.3)
    return x + y


@app.task(name="demo.total")
def total(values):
    return sum(values)


@app.task(name="demo.thumbnail")
def thumbnail(path):
    pause(0.1, 0.8)
    return {"path": path, "width": 320}


@app.task(name="demo.charge_card")
def charge_card(amount):
    pause(0.05, 0.2)
    raise ValueError(f"card declined for amount {amount:.2f}")


@app.task(bind=True, name="demo.fetch", max_retries=2, default_retry_delay=3)
def fetch(self, url):
    pause(0.05, 0.3)
    if random.random() < 0.5:
        raise self.retry(exc=ConnectionError(f"{url}: upstream timed out after 30s"))
    return {"url": url, "status": 200}


@app.task(name="demo.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


def tick(n):
    """One second's worth of traffic."""
    if n == 0:
        # A queue nobody consumes: listed by the console with its count (Flower misses it).
        for i in range(3):
            thumbnail.apply_async((f"archive/{i}.png",), queue="archive")
    for _ in range(random.randint(1, 3)):
        add.delay(random.randint(1, 99), random.randint(1, 99))
    if random.random() < 0.5:
        thumbnail.apply_async((f"uploads/img_{random.randint(0, 99999):05}.jpg",), queue="images")
    if random.random() < 0.3:
        fetch.delay(f"https://api.example.com/items/{random.randint(1, 500)}")
    if random.random() < 0.1:
        charge_card.delay(round(random.uniform(5, 500), 2))
    if random.random() < 0.15:
        add.apply_async((n, n), countdown=random.randint(10, 60))
    if random.random() < 0.05:
        sleep.delay(random.randint(5, 15))
    if n % 10 == 2:
        chain(add.s(1, 2), add.s(3), add.s(4)).delay()
    if n % 10 == 5:
        group(thumbnail.s(f"gallery/{i}.jpg") for i in range(3)).delay()
    if n % 10 == 8:
        chord([add.s(i, i) for i in range(4)], total.s()).delay()


def traffic():
    n = 0
    while True:
        try:
            tick(n)
        except Exception as e:  # Redis restarting: say so and keep going
            print(f"demo celery traffic: {e}", file=sys.stderr, flush=True)
        n += 1
        pause(0.7, 1.3)


def send(name, args, queue=None):
    print(app.send_task(name, args=args, queue=queue).id, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["traffic"]:
        traffic()
    elif sys.argv[1:2] == ["send"] and len(sys.argv) in (3, 4, 5):
        args = json.loads(sys.argv[3]) if len(sys.argv) >= 4 else []
        send(sys.argv[2], args, sys.argv[4] if len(sys.argv) == 5 else None)
    else:
        sys.exit(__doc__)
