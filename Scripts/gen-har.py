#!/usr/bin/env python3
"""Writes a synthetic HAR 1.2 capture of Anthropic Messages API traffic, for
timing the capture reader on large files.

Usage: Scripts/gen-har.py OUT N [SEED]      (SEED defaults to 42; no dependencies)

N entries in `log.entries`, one every 0.2-3 s from 2026-10-01T00:00:00Z. Every
10th entry is a `/v1/messages/count_tokens` call whose prompt (model, system,
tools, messages) is repeated by the next entry, a `/v1/messages` call, so the
reader pairs the two. About one messages call in 100 is a 429 with retry-after;
the rest are 200s with a Messages API JSON body (id msg_..., model, usage with
input, output, cache creation and cache read tokens) and the response headers
request-id and anthropic-ratelimit-input-tokens-*. The same N and SEED give the
same bytes. About 1.1 KB an entry: 100,000 entries make about 110 MB.
"""
import json, random, sys
from datetime import datetime, timedelta, timezone

MODELS = [
    ('claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'),
    ('claude-haiku-4-5', 'claude-haiku-4-5-20251001'),
    ('claude-opus-4-1', 'claude-opus-4-1-20250805'),
]
SYSTEMS = ['You are terse.', 'You are a careful code reviewer.', 'Answer in one paragraph.']
WORDS = ('the cache token prompt model budget window limit request reply tool file diff '
         'test build error line value key index graph table order shard batch').split()
ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'


def ident(rng, n):
    return ''.join(rng.choice(ALPHABET) for _ in range(n))


def sentence(rng, n):
    return ' '.join(rng.choice(WORDS) for _ in range(n))


def stamp(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)


def prompt(rng, n):
    model = rng.choice(MODELS)
    turns = []
    for k in range(rng.choice([1, 1, 1, 2])):
        if k:
            turns.append({'role': 'assistant', 'content': sentence(rng, 3)})
        turns.append({'role': 'user', 'content': '#%d %s' % (n, sentence(rng, 3))})
    return model, {'model': model[0], 'system': rng.choice(SYSTEMS), 'messages': turns}


def entry(t, ms, url, body, status, resp_headers, resp_text):
    # Only the fields the reader looks at, plus mimeType: most HAR exporters
    # add cookies, timings and sizes, which cost bytes but no reading work.
    mime = 'application/json'
    return {
        'startedDateTime': stamp(t), 'time': ms,
        'request': {'method': 'POST', 'url': url,
                    'headers': [{'name': 'anthropic-version', 'value': '2023-06-01'}],
                    'postData': {'mimeType': mime, 'text': json.dumps(body, separators=(',', ':'))}},
        'response': {'status': status, 'headers': resp_headers,
                     'content': {'size': len(resp_text), 'mimeType': mime, 'text': resp_text}}}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit('usage: gen-har.py OUT N [SEED]')
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) == 4 else 42)
    t = datetime(2026, 10, 1, tzinfo=timezone.utc)
    base = 'https://api.anthropic.com/v1/messages'
    pending = None  # the prompt of the last count_tokens call, repeated by the next entry
    with open(out, 'w') as f:
        f.write('{"log": {"version": "1.2", "creator": {"name": "tokengap gen-har", "version": "1"}, '
                '"entries": [\n')
        for i in range(n):
            t += timedelta(milliseconds=rng.randint(200, 3000))
            if pending is None:
                model, body = prompt(rng, i)
            else:
                model, body = pending
            cached = rng.choice([0, 0, 2048, 4096, 20000])
            created = rng.choice([0, 0, 0, 1024, 3000])
            uncached = rng.randint(5, 4000)
            if i % 10 == 0 and i + 1 < n:
                pending = (model, body)
                text = json.dumps({'input_tokens': uncached + cached + created})
                headers = [{'name': 'request-id', 'value': 'req_' + ident(rng, 24)}]
                e = entry(t, rng.randint(40, 4000), base + '/count_tokens', body, 200, headers, text)
            elif pending is None and rng.random() < 0.01:
                headers = [{'name': 'request-id', 'value': 'req_' + ident(rng, 24)},
                           {'name': 'retry-after', 'value': str(rng.randint(1, 60))}]
                text = json.dumps({'type': 'error', 'error': {'type': 'rate_limit_error',
                                                              'message': 'rate limited'}})
                e = entry(t, rng.randint(40, 4000), base, dict(body, max_tokens=1024), 429, headers, text)
            else:
                pending = None
                output = rng.randint(1, 2000)
                reset = stamp(t + timedelta(seconds=rng.randint(1, 60)))
                headers = [
                    {'name': 'request-id', 'value': 'req_' + ident(rng, 24)},
                    {'name': 'anthropic-ratelimit-input-tokens-limit', 'value': '400000'},
                    {'name': 'anthropic-ratelimit-input-tokens-remaining',
                     'value': str(400000 - uncached - rng.randint(0, 100000))},
                    {'name': 'anthropic-ratelimit-input-tokens-reset', 'value': reset},
                ]
                response = {
                    'id': 'msg_' + ident(rng, 24), 'type': 'message', 'role': 'assistant',
                    'model': model[1],
                    'content': [{'type': 'text', 'text': sentence(rng, 3)}],
                    'stop_reason': 'end_turn',
                    'usage': {'input_tokens': uncached, 'cache_creation_input_tokens': created,
                              'cache_read_input_tokens': cached, 'output_tokens': output}}
                e = entry(t, rng.randint(40, 4000), base, dict(body, max_tokens=1024), 200, headers,
                          json.dumps(response, separators=(',', ':')))
            f.write(json.dumps(e, separators=(',', ':')))
            f.write(',\n' if i + 1 < n else '\n')
        f.write(']}}\n')


if __name__ == '__main__':
    main()
