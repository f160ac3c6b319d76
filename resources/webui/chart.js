// Tokens over time as an SVG bar chart, stacked by provider, from GET /v1/stats/timeseries points. Drawn with
// classes (s1…s6) so the colours follow the light or dark theme.

import { fmtInt, h, svg } from './dom.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const SERIES = 6;

// Buckets from `since` to now: [{time, byProvider: Map, total}].
function bucketize(points, bucket, since, now) {
  const step = bucket === 'day' ? DAY : HOUR;
  const start = Math.floor(since / step) * step;
  const buckets = [];
  for (let t = start; t <= now; t += step) buckets.push({ time: t, byProvider: new Map(), total: 0 });
  for (const p of points) {
    const index = Math.floor((p.time - start) / step);
    const b = buckets[index];
    if (!b) continue;
    const tokens = Number(p.totalTokens) || 0;
    b.byProvider.set(p.provider, (b.byProvider.get(p.provider) || 0) + tokens);
    b.total += tokens;
  }
  return buckets;
}

function niceMax(value) {
  if (value <= 0) return 10;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

function compact(n) {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function label(time, bucket) {
  const d = new Date(time);
  return bucket === 'day'
    ? d.toLocaleDateString([], { day: 'numeric', month: 'short' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// The chart and its legend; `providers` fixes the colour order.
// `width` is the space it gets in CSS pixels, so its text keeps its size on a phone.
export function tokensChart({ points, bucket, since, now = Date.now(), providers = [], width: space = 720 }) {
  const buckets = bucketize(points, bucket, since, now);
  const names = [...new Set([...providers, ...points.map((p) => p.provider)])];
  const seriesOf = (name) => `s${(names.indexOf(name) % SERIES) + 1}`;
  const total = buckets.reduce((sum, b) => sum + b.total, 0);
  const width = Math.round(Math.min(960, Math.max(280, space || 720)));
  const height = width < 480 ? 180 : 220;
  const pad = { left: 44, right: 8, top: 10, bottom: 26 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(...buckets.map((b) => b.total), 0));
  const slot = plotW / Math.max(buckets.length, 1);
  const barW = Math.max(2, slot * 0.7);
  const y = (v) => pad.top + plotH - (v / max) * plotH;

  const chart = svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Tokens per ${bucket}: ${fmtInt(total)} in total over ${buckets.length} ${bucket}s`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const v = max * fraction;
    chart.append(
      svg('line', { class: 'grid', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }),
      svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, compact(v)));
  }
  const every = Math.max(1, Math.ceil(buckets.length / Math.max(2, Math.floor(plotW / 80))));
  buckets.forEach((b, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    let top = pad.top + plotH;
    for (const name of names) {
      const tokens = b.byProvider.get(name) || 0;
      if (!tokens) continue;
      const barH = Math.max(1, (tokens / max) * plotH);
      top -= barH;
      chart.append(svg('rect', { class: seriesOf(name), x, y: top, width: barW, height: barH, rx: 1.5 },
        svg('title', {}, `${label(b.time, bucket)} · ${name}: ${fmtInt(tokens)} tokens`)));
    }
    if (i % every === 0) {
      chart.append(svg('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle' }, label(b.time, bucket)));
    }
  });

  const legend = h('ul', { class: 'legend' },
    names.filter((n) => points.some((p) => p.provider === n)).map((name) =>
      h('li', {}, h('span', { class: `swatch ${seriesOf(name)}`, 'aria-hidden': 'true' }), name)));
  return h('figure', { class: 'chart-figure' }, chart,
    total === 0 ? h('p', { class: 'empty' }, 'No tokens in this period yet.') : legend);
}
