#!/usr/bin/env python3
"""Converts VCR cassettes (pydantic-ai's YAML recordings) into HAR 1.2 files and
paired JSON captures.

Superseded: tokengap reads cassettes natively (issue 13, item 9: `tokengap
analyze cassettes/`), gzip and deflate bodies included. This script is kept to
regenerate datasets/derived/, which the tests compare the native reader with
(the same requests, P and I from PyYAML's reading and from tokengap's).

Development tool only (needs PyYAML, which cannot load Ruby VCR's `!binary`);
its outputs are committed under datasets/. Compressed `!!binary` bodies
(Content-Encoding gzip or deflate, or gzip's magic bytes) are decompressed and
the header dropped.
Usage: Scripts/cassettes-to-har.py OUT_DIR CASSETTE.yaml ...
"""
import gzip, json, os, sys, zlib
import yaml

def encodings(part):
    for k, vs in (part.get('headers') or {}).items():
        if k.lower() == 'content-encoding':
            for v in (vs if isinstance(vs, list) else [vs]):
                return [e.strip().lower() for e in str(v).split(',') if e.strip()]
    return []

def decoded(data, codings):
    """Text of a body: bytes (`!!binary`) decompressed as declared, then UTF-8."""
    if not isinstance(data, bytes):
        return data
    if not codings and data[:2] == b'\x1f\x8b':
        codings = ['gzip']
    for c in reversed(codings):
        if c in ('gzip', 'x-gzip'):
            data = gzip.decompress(data)
        elif c == 'deflate':
            try:
                data = zlib.decompress(data)
            except zlib.error:
                data = zlib.decompress(data, -15)
        elif c != 'identity':
            raise ValueError('content-encoding %s not supported' % c)
    return data.decode('utf-8', 'replace')

def body_text(part):
    if part.get('parsed_body') is not None:
        return json.dumps(part['parsed_body'], separators=(',', ':'))
    b = part.get('body')
    if isinstance(b, dict):
        b = b.get('string')
    return decoded(b, encodings(part)) or ''

def headers(part):
    out = []
    for k, vs in (part.get('headers') or {}).items():
        if k.lower() == 'content-encoding':
            continue  # the body is written decompressed
        for v in (vs if isinstance(vs, list) else [vs]):
            out.append({'name': k, 'value': str(v)})
    return out

def convert(path, out_dir):
    d = yaml.safe_load(open(path))
    entries, pairs, pending = [], [], None
    base = 1767225600  # 2026-01-01T00:00:00Z: cassettes carry no times; keep order
    for n, it in enumerate(d.get('interactions', [])):
        req, resp = it['request'], it['response']
        started = '2026-01-01T00:00:%02d.000Z' % n
        status = resp.get('status', {})
        code = status.get('code', 200) if isinstance(status, dict) else 200
        text = body_text(resp)
        mime = 'text/event-stream' if text.startswith('event:') or text.startswith('data:') else 'application/json'
        entries.append({
            'startedDateTime': started, 'time': 0,
            'request': {'method': req.get('method', 'POST'), 'url': req['uri'], 'httpVersion': 'HTTP/1.1',
                        'headers': headers(req), 'queryString': [], 'cookies': [], 'headersSize': -1, 'bodySize': -1,
                        'postData': {'mimeType': 'application/json', 'text': body_text(req)}},
            'response': {'status': code, 'statusText': '', 'httpVersion': 'HTTP/1.1', 'headers': headers(resp),
                         'cookies': [], 'content': {'size': len(text), 'mimeType': mime, 'text': text},
                         'redirectURL': '', 'headersSize': -1, 'bodySize': -1},
            'cache': {}, 'timings': {'send': 0, 'wait': 0, 'receive': 0}})
        uri = req['uri'].split('?')[0]
        if uri.endswith('/v1/messages/count_tokens'):
            pending = resp.get('parsed_body')
        elif uri.endswith('/v1/messages') and pending is not None:
            hdrs = {k: (v[0] if isinstance(v, list) else v) for k, v in (resp.get('headers') or {}).items()}
            pairs.append({'time': started, 'count_tokens': pending, 'response': resp.get('parsed_body') or text, 'headers': hdrs})
            pending = None
    name = os.path.splitext(os.path.basename(path))[0]
    har = {'log': {'version': '1.2', 'creator': {'name': 'tokengap cassettes-to-har', 'version': '1'}, 'entries': entries}}
    with open(os.path.join(out_dir, name + '.har'), 'w') as f:
        json.dump(har, f, indent=1)
        f.write('\n')
    if pairs:
        with open(os.path.join(out_dir, name + '.pairs.jsonl'), 'w') as f:
            for p in pairs:
                f.write(json.dumps(p, separators=(',', ':')) + '\n')

if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for p in sys.argv[2:]:
        convert(p, out)
