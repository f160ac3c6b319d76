// Test: send a prompt through a chain and watch the answer stream in (fetch + ReadableStream), with who served
// it, attempts, time to first token, latency and tokens; Stop cancels; "Test whole chain" asks every entry once.

import { api, describe, enc, errorMessage, readEvents, request } from './api.js';
import { field, fill, fmtInt, fmtMs, h, notice, select } from './dom.js';

export const title = 'Test';

function stat(label) {
  const value = h('dd', { 'data-stat': label }, '–');
  return { el: h('div', {}, h('dt', {}, label), value), value };
}

export function mount(root, params) {
  const chainSelect = select([], '', { name: 'chain' });
  const system = h('textarea', { name: 'system', rows: 2, placeholder: 'You are a helpful assistant.' });
  const prompt = h('textarea', { name: 'prompt', rows: 4, required: true }, 'Hello! Who are you, in two sentences?');
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const stop = h('button', { type: 'button', disabled: true }, 'Stop');
  const testAll = h('button', { type: 'button' }, 'Test whole chain');
  const answer = h('div', { class: 'answer', 'aria-label': 'Answer', 'aria-live': 'off', tabindex: '0',
    'data-placeholder': 'The answer appears here as it streams in.' });
  const outcome = h('div', { role: 'status', 'aria-live': 'polite' });
  const stats = {
    served: stat('Served by'), attempts: stat('Attempts'), ttft: stat('First token'), latency: stat('Latency'), tokens: stat('Tokens'),
  };
  const chainResults = h('div');
  const form = h('form', { class: 'panel', 'aria-label': 'Prompt', novalidate: true },
    field('Chain', chainSelect, 'The model name a client sends picks the chain.'),
    h('details', {}, h('summary', {}, 'System prompt (optional)'), field('System prompt', system)),
    field('Prompt', prompt),
    h('div', { class: 'row' }, send, stop, h('span', { class: 'grow' }), testAll));

  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Test a chain')),
    form,
    h('section', { class: 'panel', 'aria-labelledby': 'answer-title' },
      h('h2', { id: 'answer-title' }, 'Answer'),
      answer,
      h('dl', { class: 'stats' }, Object.values(stats).map((s) => s.el)),
      outcome),
    chainResults);

  let controller = null;
  let stopped = false;

  async function loadChains() {
    try {
      const models = await api.get('/v1/models');
      const chains = models.data.filter((m) => m.owned_by === '429chain').map((m) => m.id);
      let preferred = params.get('chain') || '';
      if (!preferred) {
        const settings = await api.get('/v1/admin/settings').catch(() => null);
        preferred = (settings && settings.settings.defaultChain) || chains[0] || '';
      }
      if (stopped) return;
      fill(chainSelect, chains.map((name) => h('option', { value: name, selected: name === preferred }, name)));
    } catch (e) {
      if (!stopped) fill(outcome, notice(describe(e)));
    }
  }

  function setBusy(busy) {
    send.disabled = busy;
    testAll.disabled = busy;
    stop.disabled = !busy;
    answer.classList.toggle('streaming', busy);
    answer.setAttribute('aria-busy', String(busy));
  }

  async function sendPrompt(event) {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text) {
      fill(outcome, notice('Type a prompt first.'));
      prompt.focus();
      return;
    }
    const messages = [];
    if (system.value.trim()) messages.push({ role: 'system', content: system.value.trim() });
    messages.push({ role: 'user', content: text });
    for (const s of Object.values(stats)) s.value.textContent = '–';
    fill(outcome);
    answer.textContent = '';
    controller = new AbortController();
    setBusy(true);
    const started = performance.now();
    let firstToken = 0;
    let finished = false;
    const tick = setInterval(() => { stats.latency.value.textContent = fmtMs(performance.now() - started); }, 100);
    try {
      const response = await request('POST', '/v1/chat/completions', {
        stream: true,
        signal: controller.signal,
        body: { model: chainSelect.value, stream: true, stream_options: { include_usage: true }, messages },
      });
      stats.served.value.textContent = response.headers.get('X-429chain-Provider') || '–';
      stats.attempts.value.textContent = response.headers.get('X-429chain-Attempts') || '–';
      for await (const message of readEvents(response)) {
        if (message.data === '[DONE]') {
          finished = true;
          break;
        }
        let chunk;
        try {
          chunk = JSON.parse(message.data);
        } catch {
          continue;
        }
        if (message.event === 'error' || chunk.error) {
          throw new Error(`The stream broke off: ${errorMessage(chunk, 0)}`);
        }
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        const piece = delta && (delta.content || '');
        if (piece) {
          if (!firstToken) {
            firstToken = performance.now();
            stats.ttft.value.textContent = fmtMs(firstToken - started);
          }
          answer.append(piece);
        }
        if (chunk.usage) {
          const u = chunk.usage;
          stats.tokens.value.textContent = `${fmtInt(u.prompt_tokens)} + ${fmtInt(u.completion_tokens)} = ${fmtInt(u.total_tokens)}`;
        }
      }
      fill(outcome, finished
        ? notice('Done.', 'ok')
        : notice('The stream ended without [DONE]: the answer may be cut short.'));
    } catch (e) {
      if (e.name === 'AbortError') fill(outcome, notice('Stopped.', 'info'));
      else fill(outcome, notice(describe(e)));
    } finally {
      clearInterval(tick);
      stats.latency.value.textContent = fmtMs(performance.now() - started);
      controller = null;
      setBusy(false);
    }
  }

  async function testChain() {
    const name = chainSelect.value;
    if (!name) return;
    setBusy(true);
    stop.disabled = true;
    fill(chainResults, h('section', { class: 'panel' }, h('h2', {}, `Testing every entry of ${name}…`)));
    try {
      const data = await api.post(`/v1/test/chain/${enc(name)}`, prompt.value.trim() ? { prompt: prompt.value.trim() } : {});
      const s = data.summary || {};
      fill(chainResults, h('section', { class: 'panel', 'aria-labelledby': 'chain-test-title' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'chain-test-title' }, `Whole chain: ${data.chain}`),
          h('span', { class: `badge ${s.failed ? 'warn' : 'ok'}`, role: 'status' }, `Passed ${s.ok} of ${s.total}`)),
        h('div', { class: 'table-wrap' }, h('table', { class: 'stack', 'aria-label': 'Entry results' },
          h('thead', {}, h('tr', {}, ['#', 'Entry', 'Result', 'Latency', 'Tokens', 'Answer or error'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, (data.results || []).map((r, i) => h('tr', { 'data-result': r.status },
            h('td', { 'data-label': '#' }, String(i + 1)),
            h('td', { 'data-label': 'Entry' }, h('span', { class: 'wrap' }, `${r.provider} / ${r.model}`)),
            h('td', { 'data-label': 'Result' }, h('span', { class: `badge ${r.status === 'ok' ? 'ok' : 'err'}` }, r.status === 'ok' ? 'OK' : 'FAIL')),
            h('td', { class: 'num', 'data-label': 'Latency' }, fmtMs(r.latencyMs)),
            h('td', { class: 'num', 'data-label': 'Tokens' }, r.tokens ? fmtInt(r.tokens.total) : '–'),
            h('td', { 'data-label': 'Answer or error' }, h('span', { class: 'wrap' }, r.status === 'ok' ? r.response : r.error)))))))));
    } catch (e) {
      fill(chainResults, h('section', { class: 'panel' }, notice(describe(e))));
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener('submit', sendPrompt);
  stop.addEventListener('click', () => controller && controller.abort());
  testAll.addEventListener('click', testChain);
  prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  loadChains();
  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}
