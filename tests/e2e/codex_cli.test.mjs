// End to end with the real Codex CLI (`@openai/codex`, an npm devDependency) against the real 429chain binary
// ($CHAIN_BINARY) over the fake upstream (fakeupstream.mjs), the way a user sets it up: a model provider in
// $CODEX_HOME/config.toml with wire_api = "responses" and the proxy's base URL. Codex speaks only POST
// /v1/responses, always streamed, with its shell tool among function tools, a namespace and a web_search tool.
// One plain answer, and one tool round trip: the model asks Codex to run a command that writes a file, Codex
// runs it and sends the output back, the final answer arrives.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODEX_COMMAND, REPLY, startUpstream } from './fakeupstream.mjs';
import { startProxy } from './proxy.mjs';

const CODEX = fileURLToPath(new URL('../../node_modules/.bin/codex', import.meta.url));
let limited;
let upstream;
let proxy;
let home;

before(async () => {
  assert.ok(existsSync(CODEX), `Codex CLI missing at ${CODEX}: run npm ci --ignore-scripts (scripts/test does)`);
  // The chain's first entry is always rate limited: Codex is served by the second.
  limited = await startUpstream({ limited: true });
  upstream = await startUpstream();
  proxy = await startProxy([limited.url, upstream.url]);
  home = mkdtempSync(join(tmpdir(), '429chain-codex-home-'));
  writeFileSync(join(home, 'config.toml'), `model = "default"
model_provider = "chain"

[model_providers.chain]
name = "429chain"
base_url = "${proxy.url}"
env_key = "CHAIN_API_KEY"
wire_api = "responses"
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await limited?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

// Runs `codex exec --json …` in a fresh working folder; resolves with its JSONL events and the folder.
async function codexExec(prompt, extra = []) {
  const work = mkdtempSync(join(tmpdir(), '429chain-codex-work-'));
  const child = spawn(CODEX, ['exec', '--skip-git-repo-check', '--json', ...extra, prompt], {
    cwd: work,
    env: { ...process.env, CODEX_HOME: home, HOME: home, CHAIN_API_KEY: proxy.key, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  const events = out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { code, events, work, diagnostics: `exit ${code}\n${out}\n${err}\n--- proxy ---\n${proxy.log()}` };
}

function agentMessages(events) {
  return events.filter((e) => e.type === 'item.completed' && e.item.type === 'agent_message').map((e) => e.item.text);
}

test('codex exec: a plain answer', async () => {
  const before = upstream.requests.length;
  const run = await codexExec('Say hello.');
  try {
    assert.equal(run.code, 0, run.diagnostics);
    assert.deepEqual(agentMessages(run.events), [REPLY], run.diagnostics);
    assert.ok(limited.requests.length >= 1, 'the first entry was tried (and 429ed)');
    assert.ok(run.events.some((e) => e.type === 'turn.completed'), run.diagnostics);
    // Codex's request arrived upstream as a streamed chat request with only function tools.
    const sent = upstream.requests.slice(before).find((r) => r.path === '/v1/chat/completions');
    assert.ok(sent, run.diagnostics);
    assert.equal(sent.body.stream, true);
    assert.ok(sent.body.tools.every((t) => t.type === 'function'));
    assert.ok(sent.body.tools.some((t) => t.function.name === 'exec_command'));
  } finally {
    rmSync(run.work, { recursive: true, force: true });
  }
});

test('codex exec: a tool round trip writes the file, then the final answer arrives', async () => {
  const run = await codexExec('Write the proof file.', ['-s', 'workspace-write']);
  try {
    assert.equal(run.code, 0, run.diagnostics);
    const command = run.events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    assert.ok(command, run.diagnostics);
    assert.ok(command.item.command.includes(CODEX_COMMAND), run.diagnostics);
    assert.equal(command.item.exit_code, 0, run.diagnostics);
    assert.equal(readFileSync(join(run.work, 'proof.txt'), 'utf8').trim(), 'written-by-codex');
    const final = agentMessages(run.events);
    assert.equal(final.length, 1, run.diagnostics);
    assert.match(final[0], /^The tool said: /);
    // The second turn carried Codex's echo of the call and its output as chat messages.
    const second = upstream.requests.at(-1).body.messages;
    const assistant = second.find((m) => m.role === 'assistant' && m.tool_calls);
    assert.equal(assistant.tool_calls[0].id, 'call_fake_1');
    assert.equal(second.at(-1).role, 'tool');
    assert.equal(second.at(-1).tool_call_id, 'call_fake_1');
  } finally {
    rmSync(run.work, { recursive: true, force: true });
  }
});
