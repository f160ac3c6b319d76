// End to end with the real Claude Code CLI (@anthropic-ai/claude-code from package-lock.json, installed by
// scripts/test with --ignore-scripts, so it runs through the package's own cli-wrapper.cjs) in headless mode
// against the real 429chain binary and a fake OpenAI upstream: a plain answer, and a tool round trip in which
// the upstream asks for a file to be written, Claude Code writes it, and the final answer arrives. HOME and the
// working folder are temporary; Claude Code is told to send nothing but its API calls.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFakeUpstream } from './messages-upstream.mjs';
import { PROXY_KEY, startProxy } from './messages-proxy.mjs';

const require = createRequire(import.meta.url);
const WRAPPER = join(dirname(require.resolve('@anthropic-ai/claude-code/package.json')), 'cli-wrapper.cjs');

let work;
let upstream;
let proxy;

before(async () => {
  work = mkdtempSync(join(tmpdir(), '429chain-claude-'));
  upstream = await startFakeUpstream({
    reply: 'PONG from 429chain',
    toolArguments: { Write: { file_path: join(work, 'hello.txt'), content: 'written through 429chain\n' } },
  });
  proxy = await startProxy(upstream.baseUrl);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// Runs `claude -p <prompt> --output-format json …` and resolves with its parsed result.
function claude(prompt, extraArgs = []) {
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    ANTHROPIC_BASE_URL: proxy.url,
    ANTHROPIC_API_KEY: PROXY_KEY,
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
  const child = spawn(process.execPath, [WRAPPER, '-p', prompt, '--output-format', 'json', ...extraArgs], {
    cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (data) => { out += data; });
  child.stderr.on('data', (data) => { err += data; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`claude did not finish in 120 s\nstdout: ${out}\nstderr: ${err}\nproxy: ${proxy.log()}`));
    }, 120000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve({ code, result: JSON.parse(out), stderr: err });
      } catch {
        reject(new Error(`claude exited ${code} without a JSON result\nstdout: ${out}\nstderr: ${err}`));
      }
    });
  });
}

test('claude -p gets a plain answer through 429chain', async () => {
  const before = upstream.requests.length;
  // No tool named in the fake upstream's script is offered when tools are off: a plain text answer.
  const { code, result } = await claude('Say PONG', ['--tools', '']);
  assert.equal(code, 0, JSON.stringify(result));
  assert.equal(result.is_error, false, JSON.stringify(result));
  assert.equal(result.result, 'PONG from 429chain');
  const sent = upstream.requests.slice(before);
  assert.ok(sent.length >= 1);
  assert.ok(sent.every((r) => r.model === 'fake-model' && r.stream === true), JSON.stringify(sent.map((r) => r.model)));
});

test('claude -p writes a file the upstream asks for and gets the final answer', async () => {
  const { code, result } = await claude('Write hello.txt', ['--permission-mode', 'acceptEdits']);
  assert.equal(code, 0, JSON.stringify(result));
  assert.equal(result.is_error, false, JSON.stringify(result));
  assert.equal(readFileSync(join(work, 'hello.txt'), 'utf8'), 'written through 429chain\n');
  assert.match(result.result, /^The tool said: .*hello\.txt/);
  // The second turn carried the tool result back, matched to the call by id.
  const last = upstream.requests.at(-1);
  const call = last.messages.find((m) => m.tool_calls)?.tool_calls?.[0];
  const answer = last.messages.find((m) => m.role === 'tool');
  assert.equal(call?.function?.name, 'Write');
  assert.equal(answer?.tool_call_id, call.id);
  assert.ok(existsSync(join(work, 'hello.txt')));
});
