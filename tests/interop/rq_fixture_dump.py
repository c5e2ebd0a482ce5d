#!/usr/bin/env python3
"""`rq_fixture.py dump`: every key of a Redis DB, decoded (pickle / JSON payloads, zlib, results
streams, zset scores as UTC times). Split out of the vendored `../shared/rq-fixture.py` (whose
other half is `rq_fixture.py`) so each file holds one concept; the code is unchanged.
"""
import base64
import datetime as dt
import json
import os
import pickle
import pickletools
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt_ts(score):
    try:
        s = float(score)
    except (TypeError, ValueError):
        return ''
    if s in (float('inf'), float('-inf')):
        return ''
    if 1e9 < s < 1e10:
        return dt.datetime.fromtimestamp(s, dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return ''


def short(value, limit=400):
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= limit else f'{s[:limit]}... <{len(s)} chars>'


def raw_repr(b, limit=120):
    rep = repr(b)
    return rep if len(rep) <= limit else f'{rep[:limit]}... <{len(b)} bytes>'


def decode_payload(b):
    """Decode a serializer payload: pickle (starts with 0x80) or JSON."""
    if b[:1] == b'\x80':
        try:
            return 'pickle', pickle.loads(b)
        except Exception as e:  # noqa
            return 'pickle(undecodable)', f'{type(e).__name__}: {e}'
    try:
        return 'json', json.loads(b.decode('utf-8'))
    except Exception:  # noqa
        return 'raw', b


def describe_value(label, obj):
    if isinstance(obj, (list, tuple)) and len(obj) == 4 and isinstance(obj[0], str):
        f, inst, args, kwargs = obj
        return (f'{label} {type(obj).__name__}(func_name={f!r}, instance={inst!r}, args={short(repr(args), 300)}, '
                f'kwargs={short(repr(kwargs), 300)})')
    return f'{label} {short(repr(obj), 500)}'


JOB_BINARY_FIELDS = {'data', 'meta', 'result', 'exc_info'}


def dump_job_hash(h, out):
    for f in sorted(h):
        v = h[f]
        name = f.decode()
        if name == 'data':
            try:
                plain = zlib.decompress(v)
                how = f'zlib({len(v)} bytes) -> {len(plain)} bytes'
            except zlib.error:
                plain, how = v, f'NOT compressed, {len(v)} bytes'
            kind, obj = decode_payload(plain)
            out(f'    data: {how}, {kind}; raw head {raw_repr(plain[:60])}')
            out('      ' + describe_value('=', obj))
        elif name in ('meta', 'result'):
            kind, obj = decode_payload(v)
            out(f'    {name}: {kind} {raw_repr(v, 80)}')
            out(f'      = {short(repr(obj))}')
        elif name == 'exc_info':
            try:
                text = zlib.decompress(v).decode()
                out(f'    exc_info: zlib({len(v)} bytes) -> {text!r}')
            except zlib.error:
                out(f'    exc_info: (not zlib) {raw_repr(v)}')
        else:
            try:
                s = v.decode('utf-8')
            except UnicodeDecodeError:
                s = raw_repr(v)
            out(f'    {name}: {short(repr(s))}')


def dump_stream(r, key, out):
    for entry_id, fields in r.xrange(key):
        eid = entry_id.decode()
        ms = int(eid.split('-')[0])
        created = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
        out(f'    entry {eid}  (created_at from id: {created})')
        for f, v in fields.items():
            name, s = f.decode(), v.decode()
            if name == 'type':
                names = {1: 'SUCCESSFUL', 2: 'FAILED', 3: 'STOPPED', 4: 'RETRIED', 5: 'MAX_RETRIES_EXCEEDED'}
                out(f'      type: {s} ({names.get(int(s), "?")})')
            elif name == 'return_value':
                kind, obj = decode_payload(base64.b64decode(s))
                out(f'      return_value: base64 {short(s, 80)!r} -> {kind} {short(repr(obj), 200)}')
            elif name == 'exc_string':
                text = zlib.decompress(base64.b64decode(s)).decode()
                out(f'      exc_string: base64(zlib) {len(s)} chars -> text:')
                for line in text.rstrip('\n').split('\n'):
                    out(f'        | {line}')
            elif name.startswith('execution_') and name.endswith('_at'):
                out(f'      {name}: {s}  ({fmt_ts(s)})')
            else:
                out(f'      {name}: {s!r}')


def dump(url, path=None):
    from redis import Redis

    sys.path.insert(0, HERE)
    r = Redis.from_url(url)
    lines = []
    out = lines.append
    now = time.time()
    out(f'# Redis dump of {url} at {dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat()} '
        f'(unix {now:.3f}); server {r.info("server")["redis_version"]}')
    out('# Format: KEY  TYPE  TTL(seconds, -1 = no expiry) then decoded contents.')
    out('# zset members are shown as "score [score as UTC time] member".')
    keys = sorted(k.decode() for k in r.scan_iter('*', count=1000))
    out(f'# {len(keys)} keys\n')
    for key in keys:
        typ = r.type(key).decode()
        ttl = r.ttl(key)
        out(f'{key}  {typ.upper()}  TTL={ttl}')
        if typ == 'string':
            v = r.get(key)
            out(f'    value: {raw_repr(v)}' + (f'  ({fmt_ts(v)})' if fmt_ts(v) else ''))
        elif typ == 'list':
            items = r.lrange(key, 0, -1)
            out(f'    {len(items)} items, index 0 = head (LPOP/LMOVE LEFT end):')
            for i, v in enumerate(items):
                out(f'    [{i}] {v.decode()}')
        elif typ == 'set':
            for v in sorted(r.smembers(key)):
                out(f'    {v.decode()}')
        elif typ == 'zset':
            for member, score in r.zrange(key, 0, -1, withscores=True):
                t = fmt_ts(score)
                out(f'    {score!r:>16} {("[" + t + "]") if t else "":<30} {member.decode()}')
        elif typ == 'hash':
            h = r.hgetall(key)
            if key.startswith('rq:job:') and b'data' in h:
                dump_job_hash(h, out)
            else:
                for f in sorted(h):
                    v = h[f].decode('utf-8', 'backslashreplace')
                    name = f.decode()
                    extra = fmt_ts(v) if name in ('created_at', 'last_heartbeat') else ''
                    if name == 'cron_jobs':
                        out(f'    {name}: (JSON)')
                        for job in json.loads(v):
                            out(f'      {json.dumps(job, ensure_ascii=False)}')
                        continue
                    out(f'    {name}: {short(repr(v))}' + (f'  ({extra})' if extra else ''))
        elif typ == 'stream':
            dump_stream(r, key, out)
        out('')

    # Appendix: byte-level view of two pickled payloads, for non-Python implementers
    out('#' * 100)
    out('# Appendix A: pickletools disassembly of the zlib-decompressed `data` of fx-default-queued')
    raw = r.hget('rq:job:fx-default-queued', 'data')
    if raw:
        import io
        buf = io.StringIO()
        plain = zlib.decompress(raw)
        out(f'# raw bytes ({len(plain)}): {plain.hex()}')
        pickletools.dis(plain, out=buf)
        lines += ['#   ' + line for line in buf.getvalue().rstrip().split('\n')]
    out('# Appendix B: the same for fx-json-queued (JSON serializer): raw UTF-8 JSON text')
    raw = r.hget('rq:job:fx-json-queued', 'data')
    if raw:
        out('#   ' + zlib.decompress(raw).decode('utf-8'))
    text = '\n'.join(lines) + '\n'
    if path:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        print(f'wrote {len(keys)} keys to {path}')
    else:
        sys.stdout.write(text)
