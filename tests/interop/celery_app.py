"""A small Celery 5.7 app for Taskmill's Celery tests (real workers, real broker).

The broker / backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND, so each test points
it at its own Redis database.
"""
import os
import time

from celery import Celery

BROKER = os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0')
app = Celery('celery_app', broker=BROKER,
             backend=os.environ.get('CELERY_RESULT_BACKEND', BROKER))
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_track_started=True,
    result_extended=True,
    worker_prefetch_multiplier=1,
)


@app.task(name='t.add')
def add(x, y):
    return x + y


@app.task(name='t.sleepy')
def sleepy(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name='t.fail')
def fail(msg='expected failure'):
    raise ValueError(msg)
