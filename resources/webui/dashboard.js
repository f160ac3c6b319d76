// Dashboard: totals, live rate-limit status with countdowns, tokens over time, usage per provider and chain,
// recent requests and the latest events. Polls the stats every few seconds and refreshes the limiter status at
// once when the live feed reports a cooldown or a recovery.

import { api, describe, withQuery } from './api.js';
import { tokensChart } from './chart.js';
import { fill, fmtAgo, fmtCountdown, fmtInt, fmtMs, fmtTime, h, notice, statusBadge, toast } from './dom.js';
import { recentEvents, subscribe } from './live.js';

export const title = 'Dashboard';

const POLL_MS = 5000;
const CHART_POLL_MS = 60000;
const HOUR = 3600 * 1000;
// Set to false once GET /v1/ratelimits answered 404 (an older server): cooldowns then come from the events.
let hasRateLimitRoute = true;

function card(name, label) {
  const value = h('div', { class: 'value' }, '–');
  const sub = h('div', { class: 'sub' }, '\u00a0');
  return { el: h('section', { class: 'card', 'data-card': name, 'aria-label': label }, h('div', { class: 'label' }, label), value, sub), value, sub };
}

function panel(titleText, ...headExtras) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'empty' }, 'Loading…'));
  const el = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, titleText), headExtras), body);
  return { el, body };
}

function percent(part, whole) {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10}%` : '–';
}

// Cooldowns still running, from the event log (used while the server has no /v1/ratelimits).
function cooldownsFromEvents(events, now) {
  const open = new Map();
  for (const e of events) {
    if (!e.provider) continue;
    const key = `${e.provider}\u0000${e.model || ''}`;
    if (e.kind === 'cooldown') open.set(key, e);
    else if (e.kind === 'recovered') open.delete(key);
  }
  return [...open.values()]
    .filter((e) => e.until && e.until > now)
    .map((e) => ({ provider: e.provider, model: e.model, status: 'exhausted', cooldownUntil: e.until, reason: e.message }));
}

// "requests per minute: 3/4 left" from a window of GET /v1/ratelimits.
function windowText(w) {
  if (!w || typeof w !== 'object') return '';
  const span = w.span && w.span !== 'unknown' ? ` per ${w.span}` : '';
  const name = `${w.unit || 'limit'}${span}${w.providerWide ? ' (whole provider)' : ''}`;
  if (w.remaining !== undefined && w.remaining !== null && w.limit) return `${name}: ${fmtInt(w.remaining)}/${fmtInt(w.limit)} left`;
  if (w.remaining !== undefined && w.remaining !== null) return `${name}: ${fmtInt(w.remaining)} left`;
  return w.limit ? `${name}: limit ${fmtInt(w.limit)}` : '';
}

function limitDetails(item) {
  const bits = [];
  if (Array.isArray(item.windows) && item.windows.length) {
    for (const w of item.windows) bits.push(windowText(w));
  } else if (item.quota && typeof item.quota === 'object') {
    const q = item.quota;
    if (q.remainingRequests !== undefined && q.remainingRequests !== null) bits.push(`${fmtInt(q.remainingRequests)} requests left`);
    if (q.remainingTokens !== undefined && q.remainingTokens !== null) bits.push(`${fmtInt(q.remainingTokens)} tokens left`);
  }
  const c = item.concurrency;
  if (c && typeof c === 'object' && c.limit) bits.push(`${fmtInt(c.inUse ?? 0)}/${fmtInt(c.limit)} in flight`);
  return bits.filter(Boolean).join(' · ');
}

const STATUS_BADGE = { available: 'ok', tracking: 'accent', exhausted: 'warn' };

// `onReset(item)` forgets what the limiter knows about an entry (offered when the server has the route).
function renderLimits(body, data, fromEvents, now, onReset) {
  const items = [...(data.ratelimits || [])].sort((a, b) =>
    (b.status === 'exhausted') - (a.status === 'exhausted') || String(a.provider).localeCompare(String(b.provider)));
  const active = data.activeEntries || [];
  const queue = (data.queue || []).filter((q) => q && q.depth);
  const cooling = items.filter((i) => i.status === 'exhausted' && i.cooldownUntil && i.cooldownUntil > now);
  fill(body,
    active.length ? h('p', { class: 'hint', id: 'next-entries' }, 'Each chain tries first:') : null,
    active.length ? h('ul', { class: 'chips', 'aria-labelledby': 'next-entries' }, active.map((a) =>
      h('li', { class: 'chip' }, h('b', {}, a.chain), ` → ${a.provider} / ${a.model}`))) : null,
    queue.length ? h('p', { class: 'notice info' }, queue.map((q) =>
      `${q.chainName}: ${fmtInt(q.depth)} waiting (oldest ${fmtMs(q.oldestItemAgeMs)})`).join(' · ')) : null,
    cooling.length === 0
      ? h('p', { class: 'empty', 'data-empty': 'limits' }, items.length
        ? 'No entry is cooling down.'
        : 'No entry is cooling down. Every provider is ready.')
      : null,
    items.length ? h('ul', { class: 'limits' }, items.map((item) => {
      const exhausted = item.status === 'exhausted' && item.cooldownUntil;
      const details = limitDetails(item);
      return h('li', { class: 'limit', 'data-provider': item.provider },
        h('div', { class: 'who' }, item.provider, h('small', {}, item.model)),
        h('span', { class: `badge ${STATUS_BADGE[item.status] || ''}` }, item.status === 'exhausted' ? 'cooling down' : item.status),
        exhausted ? h('span', { class: 'countdown', 'data-until': item.cooldownUntil, title: `until ${fmtTime(item.cooldownUntil)}` },
          fmtCountdown(item.cooldownUntil - now)) : null,
        exhausted && onReset ? h('button', { type: 'button', class: 'small ghost', title: 'Forget what 429chain knows about this entry\'s limits and try it again',
          'aria-label': `Reset the limits of ${item.provider} / ${item.model}`, onclick: () => onReset(item) }, 'Reset') : null,
        item.reason || details ? h('div', { class: 'reason', title: item.reason || null }, [details, item.reason].filter(Boolean).join(' · ')) : null);
    })) : null,
    fromEvents ? h('p', { class: 'hint' },
      'Cooldowns from the event feed. Quotas per provider appear here once this server offers GET /v1/ratelimits.') : null);
}

function renderUsage(body, rows, keyName, emptyText) {
  if (!rows.length) {
    fill(body, h('p', { class: 'empty' }, emptyText));
    return;
  }
  const sorted = [...rows].sort((a, b) => b.totalRequests - a.totalRequests);
  const max = Math.max(...sorted.map((r) => r.totalRequests), 1);
  fill(body, h('ul', { class: 'bars' }, sorted.map((r) => {
    const bar = h('span');
    bar.style.width = `${Math.max(2, (r.totalRequests / max) * 100)}%`;
    const failed = r.failedRequests ? ` · ${fmtInt(r.failedRequests)} failed` : '';
    return h('li', {},
      h('div', { class: 'bar-label' }, h('span', {}, r[keyName]),
        h('span', {}, `${fmtInt(r.totalRequests)} req · ${fmtInt(r.totalTokens)} tok${failed}`)),
      h('div', { class: 'bar', title: `last used ${fmtAgo(r.lastRequestTimestamp)}` }, bar));
  })));
}

function renderRequests(body, rows) {
  if (!rows.length) {
    fill(body, h('p', { class: 'empty' }, 'No requests yet. Send one from the Test page or any OpenAI client.'));
    return;
  }
  fill(body, h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
    h('thead', {}, h('tr', {}, ['Time', 'Chain', 'Provider', 'Status', 'Attempts', 'Tokens', 'Latency'].map((t, i) =>
      h('th', { class: i >= 4 ? 'num' : null, scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', { 'data-label': 'Time' }, fmtTime(r.timestamp)),
      h('td', { 'data-label': 'Chain' }, r.chainName),
      h('td', { 'data-label': 'Provider' }, h('span', { class: 'wrap' }, r.providerId ? `${r.providerId} / ${r.model}` : 'none')),
      h('td', { 'data-label': 'Status' }, statusBadge(r.httpStatus)),
      h('td', { class: 'num', 'data-label': 'Attempts' }, fmtInt(r.attempts)),
      h('td', { class: 'num', 'data-label': 'Tokens' }, fmtInt(r.totalTokens)),
      h('td', { class: 'num', 'data-label': 'Latency' }, fmtMs(r.latencyMs))))))),
  h('p', { class: 'hint' }, h('a', { href: '/log', 'data-link': '' }, 'Open the full log →')));
}

function renderEvents(body, events) {
  const latest = events.slice(-10).reverse();
  if (!latest.length) {
    fill(body, h('p', { class: 'empty' }, 'Nothing to report: cooldowns, recoveries and config changes appear here as they happen.'));
    return;
  }
  fill(body, h('ul', { class: 'events' }, latest.map((e) => h('li', { class: `level-${e.level}` },
    h('time', { datetime: new Date(e.timestamp).toISOString() }, fmtTime(e.timestamp)),
    h('span', { class: 'msg' }, e.message)))));
}

export function mount(root) {
  const cards = {
    requests: card('requests', 'Requests'),
    waterfall: card('waterfall', 'Waterfall rate'),
    tokens: card('tokens', 'Tokens today'),
    latency: card('latency', 'Avg latency'),
  };
  let chartBucket = 'hour';
  const bucketButtons = ['hour', 'day'].map((b) => h('button', {
    type: 'button', 'aria-pressed': String(b === chartBucket),
    onclick: () => {
      chartBucket = b;
      for (const button of bucketButtons) button.setAttribute('aria-pressed', String(button.dataset.bucket === b));
      loadChart();
    },
    'data-bucket': b,
  }, b === 'hour' ? '24 hours' : '30 days'));
  const limits = panel('Rate limits', h('span', { class: 'hint' }, 'live'));
  const chart = panel('Tokens over time', h('div', { class: 'segmented', role: 'group', 'aria-label': 'Period' }, bucketButtons));
  const byProvider = panel('Usage by provider');
  const byChain = panel('Usage by chain');
  const recent = panel('Recent requests');
  const events = panel('Events');
  const error = h('div');

  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Dashboard')),
    error,
    h('div', { class: 'cards' }, Object.values(cards).map((c) => c.el)),
    h('div', { class: 'columns' }, limits.el, chart.el),
    h('div', { class: 'columns' }, byProvider.el, byChain.el),
    recent.el,
    events.el);

  let stopped = false;
  let loading = false;
  let limitTimer = 0;
  let chartTotal = -1; // requests counted when the chart was last drawn

  async function loadStats() {
    const [summary, providers, chains, requests] = await Promise.all([
      api.get('/v1/stats/summary'),
      api.get('/v1/stats/providers'),
      api.get('/v1/stats/chains'),
      api.get('/v1/stats/requests?limit=10'),
    ]);
    if (stopped) return;
    const s = summary.summary;
    cards.requests.value.textContent = fmtInt(s.totalRequests);
    cards.requests.sub.textContent = `${fmtInt(s.requestsToday)} today · ${percent(s.successfulRequests, s.totalRequests)} served`;
    cards.waterfall.value.textContent = percent(s.waterfallRequests, s.totalRequests);
    cards.waterfall.sub.textContent = `${fmtInt(s.waterfallRequests)} needed more than one entry`;
    cards.tokens.value.textContent = fmtInt(s.tokensToday);
    cards.tokens.sub.textContent = `${fmtInt(s.totalTokens)} in total`;
    cards.latency.value.textContent = s.avgLatencyMs === null ? '–' : fmtMs(s.avgLatencyMs);
    cards.latency.sub.textContent = 'per request, all time';
    if (s.totalRequests !== chartTotal) {
      chartTotal = s.totalRequests;
      loadChart().catch(() => {});
    }
    renderUsage(byProvider.body, providers.providers, 'providerId', 'No provider has served a request yet.');
    renderUsage(byChain.body, chains.chains, 'chainName', 'No chain has been used yet.');
    renderRequests(recent.body, requests.requests);
  }

  async function loadLimits() {
    const now = Date.now();
    if (hasRateLimitRoute) {
      try {
        const data = await api.get('/v1/ratelimits');
        if (!stopped) renderLimits(limits.body, data, false, now, resetLimits);
        return;
      } catch (e) {
        if (e.status !== 404) throw e;
        hasRateLimitRoute = false;
      }
    }
    if (!stopped) renderLimits(limits.body, { ratelimits: cooldownsFromEvents(recentEvents(), now) }, true, now);
  }

  async function resetLimits(item) {
    try {
      await api.post('/v1/admin/ratelimits/reset', { provider: item.provider, model: item.model });
      toast(`${item.provider} / ${item.model} will be tried again`);
      await loadLimits();
    } catch (e) {
      toast(describe(e), 'error');
    }
  }

  async function loadChart() {
    const since = Date.now() - (chartBucket === 'day' ? 30 * 24 * HOUR : 24 * HOUR);
    const data = await api.get(withQuery('/v1/stats/timeseries', { bucket: chartBucket, since }));
    if (!stopped) fill(chart.body, tokensChart({ points: data.points, bucket: chartBucket, since, width: chart.body.clientWidth }));
  }

  async function refresh(withChart) {
    if (loading || stopped) return;
    loading = true;
    try {
      await Promise.all([loadStats(), loadLimits(), withChart ? loadChart() : null]);
      fill(error);
    } catch (e) {
      if (!stopped && e.status !== 401) fill(error, notice(e.status === 503 ? `Statistics are not available: ${describe(e)}` : describe(e)));
    } finally {
      loading = false;
    }
  }

  // Ticks every countdown; one reaching zero asks for fresh limiter state.
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const el of root.querySelectorAll('[data-until]')) {
      const left = Number(el.dataset.until) - now;
      el.textContent = left > 0 ? fmtCountdown(left) : 'ready';
      if (left <= 0 && !el.dataset.done) {
        el.dataset.done = '1';
        scheduleLimits(500);
      }
    }
  }, 1000);

  function scheduleLimits(delay) {
    clearTimeout(limitTimer);
    limitTimer = setTimeout(() => loadLimits().catch(() => {}), delay);
  }

  const unsubscribe = subscribe(() => {
    renderEvents(events.body, recentEvents());
    scheduleLimits(150);
  });
  renderEvents(events.body, recentEvents());
  refresh(false); // the first stats draw the chart
  let polls = 0;
  const poll = setInterval(() => {
    if (document.hidden) return;
    polls += 1;
    refresh(polls % (CHART_POLL_MS / POLL_MS) === 0);
  }, POLL_MS);

  return () => {
    stopped = true;
    clearInterval(poll);
    clearInterval(ticker);
    clearTimeout(limitTimer);
    unsubscribe();
  };
}
