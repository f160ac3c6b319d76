// End to end with the real `openai` SDK against the real 429chain binary ($CHAIN_BINARY), whose chain's first
// entry is always rate limited and whose second is a fake upstream on loopback (fakeupstream.mjs): every call
// below also goes through the waterfall. Covers responses.create (plain, streamed with the SDK's own event
// accumulator, a function-call round trip), embeddings.create (the SDK asks for base64 by default and
// decodes it) and models.retrieve.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { REPLY, startUpstream } from './fakeupstream.mjs';
import { startProxy } from './proxy.mjs';

let limited;
let upstream;
let proxy;
let client;

before(async () => {
  limited = await startUpstream({ limited: true });
  upstream = await startUpstream();
  proxy = await startProxy([limited.url, upstream.url]);
  client = new OpenAI({ baseURL: proxy.url, apiKey: proxy.key, maxRetries: 0 });
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await limited?.close();
});

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather of a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

test('responses.create answers, and output_text works', async () => {
  const response = await client.responses.create({ model: 'default', input: 'Say hello.', instructions: 'Be brief.' });
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.equal(response.model, 'default');
  assert.match(response.id, /^resp_/);
  assert.equal(response.output_text, REPLY);
  assert.ok(limited.requests.length >= 1, 'the first entry was tried (and 429ed)');
  assert.equal(response.usage.input_tokens, 12);
  assert.equal(response.usage.output_tokens, 7);
  assert.equal(response.usage.total_tokens, 19);
  const sent = upstream.requests.at(-1).body;
  assert.deepEqual(sent.messages.map((m) => m.role), ['system', 'user']);
});

test('responses.stream: the SDK accumulates the events into the final response', async () => {
  const stream = client.responses.stream({ model: 'default', input: [{ role: 'user', content: 'Say hello.' }] });
  const types = [];
  let text = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.ok(types.includes('response.output_text.done'));
  assert.equal(text, REPLY);
  assert.equal(final.output_text, REPLY);
  assert.equal(final.usage.total_tokens, 19);
});

test('a function call round trip (streamed call, whole answer)', async () => {
  const input = [{ role: 'user', content: 'Weather in Paris?' }];
  const stream = client.responses.stream({ model: 'default', input, tools: [weatherTool, { type: 'web_search' }] });
  let argumentsText = '';
  for await (const event of stream) {
    if (event.type === 'response.function_call_arguments.delta') argumentsText += event.delta;
  }
  const first = await stream.finalResponse();
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');
  assert.equal(call.call_id, 'call_fake_1');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
  assert.equal(argumentsText, call.arguments);
  // Only the function tool reached the chat upstream.
  assert.deepEqual(upstream.requests.at(-1).body.tools.map((t) => t.function.name), ['get_weather']);

  const second = await client.responses.create({
    model: 'default',
    tools: [weatherTool],
    input: [...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: '14C and sunny' }],
  });
  assert.equal(second.output_text, 'The tool said: 14C and sunny');
  const messages = upstream.requests.at(-1).body.messages;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(messages[1].tool_calls[0].id, 'call_fake_1');
});

test('previous_response_id gets a clear 400', async () => {
  await assert.rejects(
    client.responses.create({ model: 'default', input: 'And then?', previous_response_id: 'resp_abc' }),
    (error) => error.status === 400 && /previous_response_id/.test(error.message),
  );
});

test('embeddings.create: base64 by default, decoded by the SDK', async () => {
  const result = await client.embeddings.create({ model: 'default', input: ['first', 'second'] });
  assert.equal(upstream.requests.at(-1).body.encoding_format, 'base64');
  assert.equal(result.model, 'default');
  assert.equal(result.data.length, 2);
  assert.deepEqual(Array.from(result.data[0].embedding), [0.5, -0.25, 0.125, 0]);
  assert.deepEqual(Array.from(result.data[1].embedding), [0.5, -0.25, 0.125, 1]);
  assert.equal(result.usage.prompt_tokens, 3);

  const floats = await client.embeddings.create({ model: 'default', input: 'x', encoding_format: 'float' });
  assert.deepEqual(floats.data[0].embedding, [0.5, -0.25, 0.125, 0]);
});

test('models.retrieve: a chain, a model, and 404 for anything else', async () => {
  const chain = await client.models.retrieve('default');
  assert.equal(chain.id, 'default');
  assert.equal(chain.object, 'model');
  const model = await client.models.retrieve('fake-model');
  assert.equal(model.id, 'fake-model');
  await assert.rejects(client.models.retrieve('gpt-9'), (error) => error.status === 404);
});
