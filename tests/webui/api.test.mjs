// The web UI's api.js without a browser: error bodies become readable messages, and the event-stream reader
// handles what a server may send (CRLF, lines split across reads, comments, multi-line data, named events).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage, readEvents, withQuery } from '../../resources/webui/api.js';

test('error bodies of every shape become a sentence', () => {
  const openai = { error: { message: 'All providers exhausted', type: 'rate_limit_error', code: 'all_providers_exhausted' } };
  assert.equal(errorMessage(openai, 429), 'All providers exhausted');
  assert.equal(errorMessage({ error: 'Provider "groq" is used by chains: default' }, 409), 'Provider "groq" is used by chains: default');
  assert.equal(errorMessage({ error: { type: 'x' } }, 500, 'Internal Server Error'), 'HTTP 500 Internal Server Error');
  assert.equal(errorMessage('plain text answer', 502), 'plain text answer');
  assert.equal(errorMessage(null, 404), 'HTTP 404');
  assert.equal(errorMessage(null, 0), 'No answer from 429chain');
  for (const body of [openai, { error: {} }, { error: [] }, { nested: { error: 1 } }, 42]) {
    assert.doesNotMatch(errorMessage(body, 400), /\[object Object\]/);
  }
});

test('withQuery leaves out empty values', () => {
  assert.equal(withQuery('/v1/stats/requests', { limit: 50, chain: '', provider: null, status: '4xx' }),
    '/v1/stats/requests?limit=50&status=4xx');
  assert.equal(withQuery('/v1/x', {}), '/v1/x');
});

function streamOf(...pieces) {
  const encoder = new TextEncoder();
  return new Response(new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  }));
}

test('the event-stream reader', async () => {
  const response = streamOf(
    ': 429chain events\r\n\r\n',
    'event: cooldown\r\nid: 7\r\ndata: {"a":',
    '1}\r',
    '\n\r\n',
    'data: line one\ndata: line two\n\n',
    'data:no space\r\rdata: [DONE]\n\n');
  const events = [];
  for await (const event of readEvents(response)) events.push(event);
  assert.deepEqual(events, [
    { event: 'cooldown', data: '{"a":1}', id: '7' },
    { event: 'message', data: 'line one\nline two', id: null },
    { event: 'message', data: 'no space', id: null },
    { event: 'message', data: '[DONE]', id: null },
  ]);
});
