// Log: the request log with filters (chain, provider, status, period), paging with before=<id>, one request's
// attempts in detail, and the CSV export of every request the filters match (GET /v1/stats/requests.csv: the
// server writes the same columns as the desktop's export). Filters live in the address (/log?status=4xx).

import { api, describe, withQuery } from './api.js';
import { field, fill, fmtInt, fmtMs, fmtTime, h, notice, openDialog, select, statusBadge, toast } from './dom.js';

export const title = 'Log';

const PAGE = 50;
const PERIODS = [['', 'Any time'], ['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days']];
const PERIOD_MS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const OUTCOME_BADGE = { success: 'ok', skipped: '', rate_limited: 'warn' };
const STATUSES = [['', 'Any status'], ['2xx', 'Served (2xx)'], ['4xx', 'Client errors (4xx)'], ['429', 'Exhausted (429)'], ['5xx', 'Failed (5xx)']];

function queryOf(filters, extra, path = '/v1/stats/requests') {
  return withQuery(path, {
    chain: filters.chain,
    provider: filters.provider,
    status: filters.status,
    since: filters.period ? Date.now() - PERIOD_MS[filters.period] : '',
    ...extra,
  });
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function showDetail(id) {
  return openDialog(`Request #${id}`, () => {
    const body = h('div', { class: 'dialog-body' }, h('p', { class: 'empty' }, 'Loading…'));
    api.get(`/v1/stats/requests/${id}`).then((r) => {
      const attempts = Array.isArray(r.attempts) ? r.attempts : [];
      fill(body,
        h('dl', { class: 'facts' },
          h('dt', {}, 'Time'), h('dd', {}, new Date(r.timestamp).toLocaleString()),
          h('dt', {}, 'Chain'), h('dd', {}, r.chainName),
          h('dt', {}, r.httpStatus < 300 ? 'Served by' : 'Last entry'), h('dd', {}, r.providerId ? `${r.providerId} / ${r.model}` : 'none'),
          h('dt', {}, 'Status'), h('dd', {}, statusBadge(r.httpStatus)),
          h('dt', {}, 'Latency'), h('dd', {}, fmtMs(r.latencyMs)),
          r.stream ? [h('dt', {}, 'First token'), h('dd', {}, fmtMs(r.firstTokenMs))] : null,
          h('dt', {}, 'Tokens'), h('dd', {}, `${fmtInt(r.promptTokens)} prompt + ${fmtInt(r.completionTokens)} completion = ${fmtInt(r.totalTokens)}${r.tokensEstimated ? ' (estimated)' : ''}`),
          h('dt', {}, 'Kind'), h('dd', {}, r.stream ? 'streamed' : 'whole answer'),
          r.clientKeyLabel ? [h('dt', {}, 'Client key'), h('dd', {}, r.clientKeyLabel)] : null,
          r.errorMessage ? [h('dt', {}, 'Error'), h('dd', {}, r.errorMessage)] : null),
        h('h3', {}, `Attempts (${attempts.length})`),
        attempts.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
          h('thead', {}, h('tr', {}, ['#', 'Entry', 'Outcome', 'Status', 'Latency', 'Reason'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, attempts.map((a, i) => h('tr', {},
            h('td', { 'data-label': '#' }, String(i + 1)),
            h('td', { 'data-label': 'Entry' }, h('span', { class: 'wrap' }, `${a.provider} / ${a.model}`)),
            h('td', { 'data-label': 'Outcome' }, h('span', { class: `badge ${OUTCOME_BADGE[a.outcome] ?? 'err'}` }, String(a.outcome || '–').replace('_', ' '))),
            h('td', { 'data-label': 'Status' }, a.status ? String(a.status) : '–'),
            h('td', { class: 'num', 'data-label': 'Latency' }, fmtMs(a.latencyMs)),
            h('td', { 'data-label': 'Reason' }, h('span', { class: 'wrap' }, a.reason || '–'))))))) : h('p', { class: 'empty' }, 'No attempt was recorded.'));
    }).catch((e) => fill(body, notice(describe(e))));
    return body;
  }, { wide: true });
}

export function mount(root, params) {
  const filters = {
    chain: params.get('chain') || '',
    provider: params.get('provider') || '',
    status: params.get('status') || '',
    period: params.get('period') || '',
  };
  const cursors = []; // before= of the pages behind this one
  let before = '';
  let rows = [];
  let stopped = false;

  const chainSelect = select([['', 'Any chain']], filters.chain, { name: 'chain' });
  const providerSelect = select([['', 'Any provider']], filters.provider, { name: 'provider' });
  const statusSelect = select(STATUSES, filters.status, { name: 'status' });
  const periodSelect = select(PERIODS, filters.period, { name: 'period' });
  const table = h('div', {}, h('p', { class: 'empty' }, 'Loading…'));
  const newer = h('button', { type: 'button' }, '← Newer');
  const older = h('button', { type: 'button' }, 'Older →');
  const range = h('span', { class: 'muted', role: 'status' });
  const exportButton = h('button', { type: 'button' }, 'Export CSV');
  const refreshButton = h('button', { type: 'button', class: 'ghost' }, 'Refresh');

  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Log'), h('div', { class: 'row' }, refreshButton, exportButton)),
    h('section', { class: 'panel' },
      h('form', { class: 'filters', 'aria-label': 'Filters' },
        field('Chain', chainSelect), field('Provider', providerSelect), field('Status', statusSelect), field('Period', periodSelect)),
      table,
      h('div', { class: 'pager' }, newer, range, older)));

  // Chain and provider names from the config; a key without admin access sees the chains of /v1/models.
  async function loadNames() {
    let chains = [];
    let providers = [];
    try {
      const config = await api.get('/v1/admin/config');
      chains = config.chains.map((c) => c.name);
      providers = config.providers.map((p) => p.id);
    } catch {
      const models = await api.get('/v1/models').catch(() => ({ data: [] }));
      chains = models.data.filter((m) => m.owned_by === '429chain').map((m) => m.id);
      providers = [...new Set(models.data.filter((m) => m.owned_by !== '429chain').map((m) => m.owned_by))];
    }
    if (stopped) return;
    for (const [selectEl, names, value] of [[chainSelect, chains, filters.chain], [providerSelect, providers, filters.provider]]) {
      for (const name of names) selectEl.append(h('option', { value: name }, name));
      if (value && !names.includes(value)) selectEl.append(h('option', { value }, value));
      selectEl.value = value;
    }
  }

  async function load() {
    try {
      const data = await api.get(queryOf(filters, { limit: PAGE, before }));
      if (stopped) return;
      rows = data.requests || [];
      render();
    } catch (e) {
      if (!stopped) fill(table, notice(describe(e)));
    }
  }

  function render() {
    newer.disabled = cursors.length === 0;
    older.disabled = rows.length < PAGE;
    const first = cursors.length * PAGE;
    range.textContent = rows.length ? `${fmtInt(first + 1)}–${fmtInt(first + rows.length)}` : '';
    if (!rows.length) {
      fill(table, h('p', { class: 'empty', 'data-empty': 'log' }, Object.values(filters).some(Boolean) ? 'No request matches these filters.' : 'No requests recorded yet.'));
      return;
    }
    fill(table, h('div', { class: 'table-wrap' }, h('table', { class: 'stack', 'aria-label': 'Requests' },
      h('thead', {}, h('tr', {}, ['Time', 'Chain', 'Provider', 'Status', 'Attempts', 'Tokens', 'Latency', 'First token'].map((t, i) =>
        h('th', { scope: 'col', class: i >= 4 ? 'num' : null }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', { 'data-id': r.id },
        h('td', { 'data-label': 'Time' }, h('button', { type: 'button', class: 'row-button', 'aria-label': `Details of request ${r.id} at ${fmtTime(r.timestamp)}`, onclick: () => showDetail(r.id) }, fmtTime(r.timestamp))),
        h('td', { 'data-label': 'Chain' }, r.chainName),
        h('td', { 'data-label': 'Provider' }, h('span', { class: 'wrap' }, r.providerId ? `${r.providerId} / ${r.model}` : h('span', { class: 'muted' }, 'none'),
          r.errorMessage ? h('span', { class: 'sub' }, r.errorMessage.slice(0, 140)) : null)),
        h('td', { 'data-label': 'Status' }, statusBadge(r.httpStatus)),
        h('td', { class: 'num', 'data-label': 'Attempts' }, fmtInt(r.attempts)),
        h('td', { class: 'num', 'data-label': 'Tokens' }, `${fmtInt(r.totalTokens)}${r.tokensEstimated ? '*' : ''}`),
        h('td', { class: 'num', 'data-label': 'Latency' }, fmtMs(r.latencyMs)),
        h('td', { class: 'num', 'data-label': 'First token' }, r.stream ? fmtMs(r.firstTokenMs) : '–')))))),
    rows.some((r) => r.tokensEstimated) ? h('p', { class: 'hint' }, '* estimated from the text: the provider sent no usage.') : null);
  }

  function onFilterChange() {
    filters.chain = chainSelect.value;
    filters.provider = providerSelect.value;
    filters.status = statusSelect.value;
    filters.period = periodSelect.value;
    history.replaceState(null, '', withQuery('/log', filters));
    cursors.length = 0;
    before = '';
    load();
  }

  for (const el of [chainSelect, providerSelect, statusSelect, periodSelect]) el.addEventListener('change', onFilterChange);
  older.addEventListener('click', () => {
    if (!rows.length) return;
    cursors.push(before);
    before = rows[rows.length - 1].id;
    load();
  });
  newer.addEventListener('click', () => {
    before = cursors.pop() || '';
    load();
  });
  refreshButton.addEventListener('click', () => {
    cursors.length = 0;
    before = '';
    load();
  });
  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    try {
      const response = await api.get(queryOf(filters, {}, '/v1/stats/requests.csv'), { stream: true });
      const csv = await response.text();
      const count = Number(response.headers.get('X-Rows') || 0);
      download(`429chain-requests-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`, csv, 'text/csv');
      toast(`Exported ${fmtInt(count)} request${count === 1 ? '' : 's'}`);
    } catch (e) {
      toast(describe(e), 'error');
    } finally {
      exportButton.disabled = false;
    }
  });

  loadNames();
  load();
  return () => {
    stopped = true;
  };
}
