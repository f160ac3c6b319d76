// A tiny OpenAI chat-completions provider on loopback for the end-to-end tests: the real 429chain binary
// points at it. It answers like a real provider: a first entry that is rate limited (429 with Retry-After)
// when asked to, tool calls when the request offers tools and no tool result is in the history yet (streamed
// as naming chunk + argument pieces, or whole), text otherwise, and float embeddings (whatever
// encoding_format says, as providers that ignore it do). Every request is kept for the test to look at.

import { createServer } from 'node:http';

export const REPLY = 'Hello from the fake upstream.';

function chunk(model, delta, finish = null) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1741290958, model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

// What the model "writes" with Codex's shell tool: a file in the working directory, so a test sees the tool ran.
export const CODEX_COMMAND = 'echo written-by-codex > proof.txt';

// The tool call the model "wants", once per conversation: with Codex's shell tool (exec_command) offered, the
// command above when the user asks for the "proof file" (else a plain answer); otherwise the first function
// tool, with a city.
function toolCallFor(body) {
  const tools = (body.tools || []).filter((t) => t.type === 'function');
  const messages = body.messages || [];
  if (!tools.length || messages.some((m) => m.role === 'tool')) return null;
  if (tools.some((t) => t.function.name === 'exec_command')) {
    const asked = messages.some((m) => m.role === 'user' && JSON.stringify(m.content).includes('proof file'));
    return asked ? { id: 'call_fake_1', name: 'exec_command', arguments: JSON.stringify({ cmd: CODEX_COMMAND }) } : null;
  }
  return { id: 'call_fake_1', name: tools[0].function.name, arguments: JSON.stringify({ city: 'Paris' }) };
}

function finalText(body) {
  const tool = (body.messages || []).filter((m) => m.role === 'tool').pop();
  return tool ? `The tool said: ${tool.content}` : REPLY;
}

function usage(body) {
  return { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 };
}

function answerChat(body, res) {
  const model = body.model;
  const call = toolCallFor(body);
  if (!body.stream) {
    const message = call
      ? { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] }
      : { role: 'assistant', content: finalText(body) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-fake', object: 'chat.completion', created: 1741290958, model,
      choices: [{ index: 0, message, finish_reason: call ? 'tool_calls' : 'stop' }], usage: usage(body),
    }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunk(model, { role: 'assistant', content: '' }));
  if (call) {
    res.write(chunk(model, { tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    const half = Math.floor(call.arguments.length / 2);
    for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)])
      res.write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    res.write(chunk(model, {}, 'tool_calls'));
  } else {
    for (const word of finalText(body).split(/(?= )/)) res.write(chunk(model, { content: word }));
    res.write(chunk(model, {}, 'stop'));
  }
  if (body.stream_options?.include_usage)
    res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1741290958, model, choices: [], usage: usage(body) })}\n\n`);
  res.end('data: [DONE]\n\n');
}

function answerEmbeddings(body, res) {
  const inputs = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    object: 'list', model: body.model,
    data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.5, -0.25, 0.125, index] })),
    usage: { prompt_tokens: 3, total_tokens: 3 },
  }));
}

// `limited`: this upstream answers every request with 429 (the first entry of a chain, to see the waterfall).
export async function startUpstream({ limited = false } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      requests.push({ path: req.url, body });
      if (limited) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
      } else if (req.url === '/v1/chat/completions') {
        answerChat(body, res);
      } else if (req.url === '/v1/embeddings') {
        answerEmbeddings(body, res);
      } else if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections?.();
    }),
  };
}
