// The fake OpenAI upstream of the Anthropic end-to-end tests (anthropic_sdk, claude_code): tool calls scripted per
// request. tests/e2e/fakeupstream.mjs is the one of the OpenAI SDK and Codex tests; the two should become one.
// A tiny fake OpenAI chat-completions provider for the end-to-end tests of the client protocols: answers
// whole or streamed (role chunk, one chunk per word, finish chunk, usage chunk, [DONE]), and calls a tool when
// the request offers one named in `toolArguments` (with those arguments) and no tool result has come back yet;
// after a tool result it answers "The tool said: <the results>".

import { createServer } from 'node:http';

export function startFakeUpstream({ reply = 'Hello from the fake upstream.', toolArguments = {} } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (data) => { raw += data; });
    req.on('end', () => {
      if (req.method === 'GET' && req.url.endsWith('/models')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
        return;
      }
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      const body = JSON.parse(raw);
      requests.push(body);
      const messages = body.messages || [];
      const toolResults = messages.filter((m) => m.role === 'tool');
      const tool = (body.tools || []).find((t) => t.function && t.function.name in toolArguments);
      let text = reply;
      let toolCalls = [];
      if (tool && toolResults.length === 0) {
        text = '';
        const args = toolArguments[tool.function.name];
        toolCalls = [{ id: `call_${requests.length}`, type: 'function',
          function: { name: tool.function.name, arguments: JSON.stringify(args) } }];
      } else if (toolResults.length > 0) {
        text = `The tool said: ${toolResults.map((m) => m.content).join(', ')}`;
      }
      const finish = toolCalls.length ? 'tool_calls' : 'stop';
      const usage = { prompt_tokens: 12, completion_tokens: text.split(' ').length, total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const base = { id: `chatcmpl-${requests.length}`, created: 1, model: body.model };
      if (!body.stream) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', usage, choices: [{ index: 0,
          finish_reason: finish,
          message: { role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) } }] }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const send = (delta, finishReason = null) => res.write(`data: ${JSON.stringify({ ...base,
        object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`);
      send({ role: 'assistant', content: '' });
      for (const word of text.match(/\s*\S+/g) || []) send({ content: word });
      toolCalls.forEach((call, index) => {
        send({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
        const args = call.function.arguments;
        const half = Math.floor(args.length / 2);
        send({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] });
        send({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] });
      });
      send({}, finish);
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ port, baseUrl: `http://127.0.0.1:${port}/v1`, requests,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(done); }) });
    });
  });
}
