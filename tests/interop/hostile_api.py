"""The hostile corpus through the JSON API and /metrics (scripts/hostile.sh, issue #15).

    hostile_api.py --base-url URL --user NAME:PW --seed seed.json

Every GET route under /api/v1 must answer valid JSON as application/json, and each planted
string must come back as the same JSON string (control characters, NUL, quotes and all). The
/metrics scrape must parse with the Prometheus client's own parser, and every queue and worker
name must round-trip through its label values (plus `promtool check metrics` when installed).
Prints `ok - ` / `not ok - ` per check and `(api) N passed, N failed`; exits 1 on failure.
"""
import argparse
import base64
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

LISTS = ['queued', 'started', 'finished', 'failed', 'deferred', 'scheduled', 'canceled']


class Api:
    def __init__(self, base, user):
        self.base = base
        self.auth = 'Basic ' + base64.b64encode(user.encode()).decode()

    def get(self, path):
        req = urllib.request.Request(self.base + path, headers={'Authorization': self.auth})
        try:
            with urllib.request.urlopen(req, timeout=20) as res:
                return res.status, res.headers.get('Content-Type', ''), res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get('Content-Type', ''), e.read()

    def json(self, path, status=200):
        code, ctype, body = self.get(path)
        assert code == status, '%s: status %d, expected %d: %r' % (path, code, status, body[:300])
        assert ctype.startswith('application/json'), '%s: Content-Type %r' % (path, ctype)
        return json.loads(body.decode('utf-8'))


def strings(v):
    """Every string in a JSON value, keys included."""
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)


def has(doc, s, where):
    assert s in set(strings(doc)), '%s: %r is not among its JSON strings' % (where, s[:120])


def seg(s):
    return urllib.parse.quote(s, safe='')


def checks(api, seed):
    a = seed['api']
    ctl_queue, big_queue = a['queues'][0], a['queues'][1]
    visit = a['queues'][2:]

    def overview():
        doc = api.json('/api/v1/overview')
        for q in a['queues']:
            has(doc, q, 'overview')
        assert any('\ufffd' in s and 'inv' in s for s in strings(doc)), 'overview: invalid UTF-8 queue name missing'

    def queues():
        doc = api.json('/api/v1/queues')
        for q in a['queues']:
            has(doc, q, 'queues')

    def queue_pages():
        for q in visit:
            for lst in LISTS:
                api.json('/api/v1/queues/%s?list=%s' % (seg(q), lst))
        doc = api.json('/api/v1/queues/%s?list=failed' % seg(visit[0]))
        has(doc, 'h-q0-failed', 'queue q0 failed')
        assert any(s.startswith('\ufffd') for s in strings(doc)), 'q0 failed: the junk registry entry is missing'
        err = api.json('/api/v1/queues/%s' % seg(ctl_queue), status=400)
        assert set(err) >= {'code', 'message'}, err
        # 64 KiB percent-encoded is a ~200 KB URL: hyper refuses it before any route (414).
        code, _, _ = api.get('/api/v1/queues/%s' % seg(big_queue))
        assert code == 414, 'the 64 KiB queue name: status %d, expected 414' % code

    def jobs():
        for jid, want in a['jobs'].items():
            doc = api.json('/api/v1/jobs/' + jid)
            has(doc, want['description'], 'job ' + jid)
            has(doc, want['origin'], 'job ' + jid)
        doc = api.json('/api/v1/jobs/h-raw')
        has(doc, seed['payloads']['img'] if seed['mode'] == 'hostile' else 'clean-img', 'raw job fields')
        api.json('/api/v1/jobs/' + seg(seed['payloads']['img']), status=400)

    def workers():
        doc = api.json('/api/v1/workers')
        for w in a['workers']:
            has(doc, w, 'workers')

    def failed():
        doc = api.json('/api/v1/failed')
        has(doc, 'h-q0-failed', 'failed')

    def audit():
        doc = api.json('/api/v1/audit')
        for entry in a['audit']:
            has(doc, entry['who'], 'audit who')
            has(doc, entry['target'], 'audit target')

    def metrics():
        code, ctype, body = api.get('/metrics')
        assert code == 200, 'metrics: status %d' % code
        assert ctype.startswith('text/plain'), ctype
        text = body.decode('utf-8')
        labels = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                for k, v in s.labels.items():
                    labels.setdefault((s.name, k), set()).add(v)
        queues = labels.get(('rq_jobs', 'queue'), set())
        for q in a['queues']:
            assert q in queues, 'metrics: queue label %r did not round-trip' % q[:120]
        assert any('\ufffd' in q for q in queues), 'metrics: the invalid UTF-8 queue is missing'
        names = labels.get(('rq_workers', 'name'), set())
        for w in a['workers']:
            assert w in names, 'metrics: worker label %r did not round-trip' % w[:120]
        promtool = shutil.which('promtool')
        if promtool:
            p = subprocess.run([promtool, 'check', 'metrics'], input=body, capture_output=True)
            # promtool exits 1 for lint findings (names, HELP text) and 3 for parse errors.
            assert b'error while linting' not in p.stderr and p.returncode != 3, p.stderr.decode()[:2000]

    return [overview, queues, queue_pages, jobs, workers, failed, audit, metrics]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base-url', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--seed', required=True)
    a = ap.parse_args()
    with open(a.seed) as f:
        seed = json.load(f)
    api = Api(a.base_url, a.user)
    passed = failed = 0
    for check in checks(api, seed):
        try:
            check()
            passed += 1
            print('ok - api %s' % check.__name__)
        except Exception as e:  # noqa: BLE001 (any failure is a failed check)
            failed += 1
            print('not ok - api %s\n    %s' % (check.__name__, str(e).replace('\n', '\n    ')))
    print('(api) %d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == '__main__':
    main()
