"""Small HTTP helpers for tests that drive `taskmill serve` like a browser without JavaScript."""
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from harness import free_port, wait_for


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def serve(ctx):
    """Starts `taskmill serve` on a free port against ctx's Redis; returns its base URL."""
    port = free_port()
    ctx.spawn_tm('serve', '--bind', '127.0.0.1:%d' % port, '--site-root', ctx.tmp, name='serve')
    base = 'http://127.0.0.1:%d' % port
    wait_for(lambda: get(base + '/healthz')[0] == 200, 30, 'taskmill serve /healthz')
    return base


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode('utf-8')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode('utf-8', 'replace')
    except OSError:
        return 0, ''


class Forms(HTMLParser):
    """Collects every <form> with its hidden inputs, and which button submits which form."""

    def __init__(self):
        super().__init__()
        self.forms = []          # dicts: id, action, method, fields (list of (name, value))
        self._open = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'form':
            self._open = {'id': a.get('id'), 'action': a.get('action'), 'method': a.get('method'),
                          'fields': [], 'buttons': []}
            self.forms.append(self._open)
        elif tag == 'input' and a.get('name'):
            target = self._find(a.get('form')) or self._open
            if target is not None and a.get('type') in ('hidden', None):
                target['fields'].append((a['name'], a.get('value', '')))
        elif tag == 'button':
            target = self._find(a.get('form')) or self._open
            if target is not None:
                target['buttons'].append(a)

    def handle_endtag(self, tag):
        if tag == 'form':
            self._open = None

    def _find(self, form_id):
        if not form_id:
            return None
        return next((f for f in self.forms if f['id'] == form_id), None)


def click(base, page_path, action_suffix, extra_fields=()):
    """Submits, as a browser without JS would, the form on `page_path` whose action ends with
    `action_suffix`. Returns (status, location)."""
    status, html = get(base + page_path)
    assert status == 200, '%s -> %s' % (page_path, status)
    parser = Forms()
    parser.feed(html)
    forms = [f for f in parser.forms if (f['action'] or '').endswith(action_suffix)]
    assert forms, 'no form posting to %s on %s' % (action_suffix, page_path)
    form = forms[0]
    assert (form['method'] or '').lower() == 'post', form
    body = urllib.parse.urlencode(list(form['fields']) + list(extra_fields)).encode()
    req = urllib.request.Request(
        urllib.parse.urljoin(base, form['action']), data=body, method='POST',
        headers={'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'text/html',
                 'Origin': base, 'Referer': base + page_path})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, resp.headers.get('Location')
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Location')
