// End to end with the official Anthropic SDK (@anthropic-ai/sdk, from package-lock.json) against the real
// 429chain binary and a fake OpenAI upstream: messages.create, messages.stream, a tool round trip,
// countTokens, and an error the SDK must recognise as its own type.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from './messages-upstream.mjs';
import { PROXY_KEY, startProxy } from './messages-proxy.mjs';

let upstream;
let proxy;
let client;

before(async () => {
  upstream = await startFakeUpstream({ toolArguments: { get_weather: { location: 'Paris' } } });
  proxy = await startProxy(upstream.baseUrl);
  client = new Anthropic({ apiKey: PROXY_KEY, baseURL: proxy.url, maxRetries: 0 });
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

test('messages.create answers with the upstream text and the client model name', async () => {
  const message = await client.messages.create({
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 1024,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'Hello' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.model, 'claude-sonnet-4-5-20250929');
  assert.match(message.id, /^msg_/);
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from the fake upstream.' }]);
  assert.equal(message.usage.input_tokens, 12);
  assert.equal(message.usage.output_tokens, 5);
  const sent = upstream.requests.at(-1);
  assert.equal(sent.model, 'fake-model');
  assert.deepEqual(sent.messages[0], { role: 'system', content: 'Be brief.' });
});

test('messages.stream delivers text events and a final message', async () => {
  const stream = client.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 64000,
    messages: [{ role: 'user', content: 'Hello' }],
  });
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const message = await stream.finalMessage();
  assert.equal(text, 'Hello from the fake upstream.');
  assert.equal(message.model, 'claude-haiku-4-5');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.content[0].text, 'Hello from the fake upstream.');
  assert.equal(message.usage.output_tokens, 5);
  assert.equal(upstream.requests.at(-1).stream, true);
});

for (const streamed of [false, true]) {
  test(`a tool round trip (${streamed ? 'streamed' : 'whole'})`, async () => {
    const question = { role: 'user', content: 'What is the weather in Paris?' };
    const ask = (messages) => {
      const params = { model: 'claude-sonnet-4-5', max_tokens: 1024, tools: [weatherTool], messages };
      return streamed ? client.messages.stream(params).finalMessage() : client.messages.create(params);
    };
    const first = await ask([question]);
    assert.equal(first.stop_reason, 'tool_use');
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    assert.ok(toolUse, JSON.stringify(first.content));
    assert.equal(toolUse.name, 'get_weather');
    assert.deepEqual(toolUse.input, { location: 'Paris' });

    const second = await ask([
      question,
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '15 degrees, sunny' }] },
    ]);
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0].text, 'The tool said: 15 degrees, sunny');
    const sent = upstream.requests.at(-1);
    const toolMessage = sent.messages.find((m) => m.role === 'tool');
    assert.equal(toolMessage.tool_call_id, toolUse.id);
    assert.equal(sent.messages.find((m) => m.tool_calls).tool_calls[0].id, toolUse.id);
  });
}

test('countTokens answers without asking the upstream', async () => {
  const before = upstream.requests.length;
  const count = await client.messages.countTokens({
    model: 'claude-sonnet-4-5',
    system: 'You are a helpful assistant.',
    tools: [weatherTool],
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  });
  assert.ok(count.input_tokens > 10, JSON.stringify(count));
  assert.equal(upstream.requests.length, before);
});

test('errors are the SDK\'s own types', async () => {
  const stranger = new Anthropic({ apiKey: 'wrong-key', baseURL: proxy.url, maxRetries: 0 });
  await assert.rejects(
    stranger.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (error) => error instanceof Anthropic.AuthenticationError && error.status === 401 &&
      error.error?.error?.type === 'authentication_error');
  await assert.rejects(
    client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'robot', content: 'x' }] }),
    (error) => error instanceof Anthropic.BadRequestError && /messages\.0\.role/.test(error.message));
});
