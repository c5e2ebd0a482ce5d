"""Plants the hostile corpus of scripts/hostile.sh (issue #15) into one Redis database, and
prints what the checks need (pages to visit, texts they must show, API expectations) as JSON.

    hostile_corpus.py --redis URL --base-url URL --user NAME:PW --mode hostile|clean > seed.json

Everything the console reads gets markup, quotes, `javascript:` URLs, template syntax, a bidi
override, control characters, NUL, a 64 KiB string and invalid UTF-8. Real Python RQ writes
whatever its API can express (queues, jobs with both serializers, a SimpleWorker that finishes
and fails jobs, dependencies, scheduling, cancel); redis-py raw writes do the rest (registry and
queue entries that are no job id, undecodable payloads, worker hashes, audit records).

`--mode clean` plants the same shapes with the markup replaced by plain words (control
characters, lengths and invalid bytes stay), so the browser test can compare each hostile page
with its clean twin element by element.
"""
import argparse
import base64
import datetime
import json
import logging
import os
import sys
import urllib.parse
import urllib.request
import zlib

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import utcformat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the worker imports pytasks
os.environ['PYTHONDONTWRITEBYTECODE'] = '1'
LISTS = ['queued', 'started', 'finished', 'failed', 'deferred', 'scheduled', 'canceled']
TITLE_MAX = 120

# The payloads. Each one that could execute sets window.__xss to its own name.
HOSTILE = {
    'title': '</title><meta http-equiv=refresh content="0;url=https://elsewhere.example/">',
    'script': "</script><script>window.__xss='script'</script>",
    'img': "<img src=x onerror=\"window.__xss='img'\">",
    'svg': "<svg onload=\"window.__xss='svg'\"></svg>",
    'js': "javascript:window.__xss='js'",
    'attr': "\" onmouseover=\"window.__xss='attr'\" x='",
    'tmpl': '{{7*7}}${7*7}',
    'rtl': '\u202egnp.exe',
    'ctl': 'a\x00b\x07c\x1b[31md\re\nf\tg\x7f',
    'iframe': "<iframe src=\"javascript:window.__xss='iframe'\"></iframe>",
    # Quote-free, for the pages that echo input Debug-quoted (a quote would show as \").
    'bare': '<img src=x onerror=window.__xss=5>',
}


class Corpus:
    def __init__(self, mode):
        self.mode = mode

    def p(self, name):
        """Payload `name`, or its clean stand-in (same control characters, no markup)."""
        if self.mode == 'hostile' or name == 'ctl':
            return HOSTILE[name]
        return 'clean-%s' % name

    def text(self, *names, sep=' '):
        return sep.join(self.p(n) for n in names)

    def big(self):
        """A 64 KiB string (visible markup only at its start)."""
        head = self.text('img', 'tmpl') + ' big:'
        return head + 'x' * (64 * 1024 - len(head))

    def bad_utf8(self, tag):
        return b'inv\xff\xfe' + tag.encode() + b'\xc3(' + self.p('img').encode()


def visible(s):
    """What a page shows of `s` as text: NUL is dropped by the HTML parser."""
    return s.replace('\x00', '')


def title_of(text):
    """The document.title the console must produce (app/src/format.rs `title_text`)."""
    out = []
    for i, c in enumerate(text):
        if i == TITLE_MAX:
            out.append('\u2026')
            break
        bidi = c in '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c'
        out.append('\ufffd' if (ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or bidi) else c)
    return ''.join(out) + ' \u00b7 Taskmill'


def ts(delta_secs=0):
    return utcformat(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_secs))


def plant(r, c, base_url, user):
    pages, api = [], {'queues': [], 'jobs': {}, 'workers': [], 'audit': []}
    # Visitable queues (no control characters, <= 200 bytes), one per serializer and payload mix.
    visit = [
        ('q0', c.text('img', 'title'), None),
        ('q1', c.text('script', 'svg', 'tmpl'), JSONSerializer),
        ('q2', c.text('attr', 'js', 'rtl'), None),
    ]
    # Queues only the overview, the API and /metrics can show (their pages are a 400).
    ctl_queue = 'ctl"\\ ' + c.p('ctl') + ' ' + c.p('img')
    big_queue = c.big()
    for name in (ctl_queue, big_queue):
        Queue(name, connection=r).enqueue('pytasks.echo', 'x')
    api['queues'] += [ctl_queue, big_queue]
    r.sadd('rq:queues', b'rq:queue:' + c.bad_utf8('queue'))
    r.rpush(b'rq:queue:' + c.bad_utf8('queue'), b'\xff' + c.p('svg').encode())

    worker_name = c.text('img', 'rtl') + '.4242.w'
    for key, name, ser in visit:
        q = Queue(name, connection=r, serializer=ser)
        api['queues'].append(name)
        jid = lambda lst: 'h-%s-%s' % (key, lst)  # noqa: E731 (ids are [A-Za-z0-9_-] in RQ)
        desc = c.text('svg', 'tmpl', 'rtl') + ' ' + c.p('ctl')
        meta = {c.p('img'): c.p('script'), 'note': c.text('attr', 'js')}
        kwargs = {c.p('svg'): c.p('title'), 'big': c.big()}
        common = dict(description=desc, meta=meta)
        q.enqueue('pytasks.echo', args=(c.p('img'), c.p('script')), kwargs=kwargs, job_id=jid('finished'), **common)
        q.enqueue('pytasks.fail', c.text('img', 'script', 'title') + ' ' + c.p('ctl'), job_id=jid('failed'), **common)
        SimpleWorker([q], connection=r, serializer=ser, name='%s-%s' % (worker_name, key)).work(
            burst=True, logging_level='ERROR')
        func = 'pytasks.' + c.text('img', 'svg', sep='')
        q.enqueue(func, args=(c.p('js'),), kwargs=kwargs, job_id=jid('queued'), **common)
        q.enqueue(func, job_id=jid('deferred'), depends_on=jid('queued'), **common)
        q.enqueue_in(datetime.timedelta(hours=1), func, c.p('attr'), job_id=jid('scheduled'), **common)
        q.enqueue(func, job_id=jid('canceled'), **common).cancel()
        started = q.enqueue(func, job_id=jid('started'), **common)
        r.lrem('rq:queue:' + name, 0, started.id)
        started.set_status('started')
        r.hset(started.key, mapping={'worker_name': worker_name, 'started_at': ts()})
        r.zadd('rq:wip:' + name, {'%s:%s' % (started.id, 'e' * 32): 9e9})
        # Entries that are no job id at all: any bytes can sit in a list or registry.
        junk = b'\xff' + c.text('img', 'title').encode() + b'\x00'
        r.rpush('rq:queue:' + name, junk)
        for reg in ('failed', 'finished', 'deferred', 'scheduled', 'canceled'):
            r.zadd('rq:%s:%s' % (reg, name), {junk: 1})
        r.zadd('rq:wip:' + name, {junk + b':x': 9e9})
        for lst in LISTS:
            q_path = '/queues/%s?list=%s' % (urllib.parse.quote(name, safe=''), lst)
            pages.append({'key': 'queue-%s-%s' % (key, lst), 'path': q_path, 'status': 200,
                          'texts': [visible(name)], 'title': title_of('Queue ' + name)})
        for lst in LISTS:
            api['jobs'][jid(lst)] = {'description': desc, 'origin': name}
            if key == 'q0':
                pages.append({'key': 'job-%s' % lst, 'path': '/jobs/' + jid(lst), 'status': 200,
                              'texts': [visible(name), visible(desc)] + ([c.p('img')] if lst != 'deferred' else []),
                              'title': title_of('Job ' + jid(lst))})

    # One job hash RQ never wrote: hostile field names, an undecodable payload, a legacy
    # exc_info, an unknown status, dependents that are no ids.
    raw_id = 'h-raw'
    r.hset('rq:job:' + raw_id, mapping={
        'status': c.text('attr', 'img'),
        'origin': visit[0][1],
        'description': c.text('title', 'iframe'),
        'data': zlib.compress(b'\x80\x05not a pickle ' + c.p('script').encode())[:-3],
        'exc_info': zlib.compress(('Traceback: ' + c.text('img', 'svg') + c.p('ctl')).encode()),
        'meta': b'\xff\xfe' + c.p('svg').encode(),
        c.p('img'): b'\xff' + c.p('script').encode(),
        'created_at': ts(), 'enqueued_at': ts(),
    })
    r.rpush('rq:queue:' + visit[0][1], raw_id)
    r.sadd('rq:job:%s:dependents' % raw_id, c.p('img'), b'\xff\x00x')
    pages.append({'key': 'job-raw', 'path': '/jobs/' + raw_id, 'status': 200,
                  'texts': [c.text('title', 'iframe'), c.p('img')], 'title': title_of('Job ' + raw_id)})

    # Workers as RQ writes them (rq:worker:<name> + rq:workers), with hostile names and hosts.
    workers = [worker_name, c.text('svg', 'attr') + '\nforged log line', c.bad_utf8('worker')]
    for i, w in enumerate(workers):
        wkey = (b'rq:worker:' + w) if isinstance(w, bytes) else ('rq:worker:' + w).encode()
        r.hset(wkey, mapping={
            'birth': ts(-60), 'last_heartbeat': ts(), 'queues': ','.join([visit[0][1], c.p('svg')]),
            'pid': 4242 + i, 'hostname': c.text('img', 'title') + '.example', 'ip_address': c.p('attr'),
            'version': c.p('script'), 'python_version': c.text('iframe', 'ctl'),
            'state': c.text('attr', 'img') if i == 1 else 'busy',
            'current_job': 'h-q0-started' if i == 0 else c.p('img'),
            'successful_job_count': 1, 'failed_job_count': 1, 'total_working_time': 1.5,
        })
        r.expire(wkey, 3600)
        r.sadd('rq:workers', wkey)
        if not isinstance(w, bytes):
            api['workers'].append(w)

    # Audit: a real action by the (hostile) Basic user on the hostile worker, and records
    # written by something else (one readable, one not JSON at all).
    who, pw = user.split(':', 1)
    url = '%s/api/v1/workers/%s/shutdown' % (base_url, urllib.parse.quote(worker_name, safe=''))
    auth = 'Basic ' + base64.b64encode(('%s:%s' % (who, pw)).encode()).decode()
    if base_url != 'none':  # 'none': plant only (for trying the corpus without a server)
        req = urllib.request.Request(url, method='POST', data=b'', headers={'Authorization': auth})
        with urllib.request.urlopen(req, timeout=10) as res:
            assert res.status == 200, res.status
    forged = {'at': 1.0, 'who': c.text('img', 'rtl'), 'action': c.p('script'),
              'target': c.text('title', 'ctl'), 'count': 1}
    r.rpush('taskmill:audit', json.dumps(forged), b'\xff not json ' + c.p('svg').encode())
    api['audit'] = [{'who': who, 'target': worker_name}, forged]

    fixed = [
        ('overview', '/', 200, [n for _, n, _ in visit], 'Overview'),
        ('workers', '/workers', 200, [visible(worker_name), c.text('img', 'title') + '.example'], 'Workers'),
        ('failed', '/failed', 200, [visit[0][1], c.p('img')], 'Failed jobs'),
        ('audit', '/audit', 200, [who, visible(worker_name), c.text('img', 'rtl'), c.p('script')], 'Audit log'),
        ('not-found', '/no/' + urllib.parse.quote(c.text('img', 'title')), 404, ['Page not found'], 'Page not found'),
        ('bad-list', '/queues/%s?list=%s' % (urllib.parse.quote(visit[0][1], safe=''),
                                             urllib.parse.quote(c.text('tmpl', 'bare'))),
         400, [c.text('tmpl', 'bare')], 'Bad request'),
        ('bad-queue', '/queues/' + urllib.parse.quote(ctl_queue, safe=''), 400, ['Bad request'], 'Bad request'),
        ('bad-job', '/jobs/' + urllib.parse.quote(c.p('img') + ' !', safe=''), 400, ['Bad request'], 'Bad request'),
        ('bad-page', '/failed?page=' + urllib.parse.quote(c.p('bare')), 400, [c.p('bare')], 'Bad request'),
    ]
    for key, path, status, texts, title in fixed:
        pages.append({'key': key, 'path': path, 'status': status, 'texts': texts, 'title': title_of(title)})
    return {'mode': c.mode, 'pages': pages, 'api': api, 'payloads': HOSTILE,
            'flash': {'path': '/queues/%s?list=failed' % urllib.parse.quote(visit[0][1], safe=''),
                      'job': 'h-q0-failed'}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--redis', required=True)
    ap.add_argument('--base-url', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--mode', choices=['hostile', 'clean'], required=True)
    a = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    r = Redis.from_url(a.redis)
    r.flushdb()
    json.dump(plant(r, Corpus(a.mode), a.base_url, a.user), sys.stdout)


if __name__ == '__main__':
    main()
