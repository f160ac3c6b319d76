// Small DOM helpers shared by the pages: build elements without innerHTML (so no data is ever parsed as
// markup), format numbers and times, toasts, and modal dialogs.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open', 'indeterminate']);

// h('button', { class: 'primary', onclick: fn, 'aria-label': 'Close' }, 'text', child, [children])
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

// The same for SVG elements (charts).
export function svg(tag, props = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replaces the children of `el`.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const intFormat = new Intl.NumberFormat();

export function fmtInt(n) {
  return n === null || n === undefined || Number.isNaN(Number(n)) ? '–' : intFormat.format(Math.round(Number(n)));
}

// 850 → "850 ms", 1234 → "1.23 s", 65000 → "1 m 5 s"
export function fmtMs(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return fmtCountdown(ms);
}

// A time left: "45s", "2m 05s", "1h 03m".
export function fmtCountdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

// Epoch ms → "14:03:27" today, "12 Mar 14:03" otherwise.
export function fmtTime(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function fmtAgo(ms) {
  if (!ms) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function statusClass(status) {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'warn';
  return 'err';
}

// A status badge: "200", "429", "502".
export function statusBadge(status) {
  return h('span', { class: `badge ${statusClass(status)}` }, String(status || '–'));
}

// A message at the bottom of the screen for a few seconds.
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

// An inline message box: error (role=alert), info or empty state.
export function notice(message, kind = 'error') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : null }, message);
}

// Opens a modal <dialog> with `content` (a form is usual); resolves with what `close(value)` is given, or
// undefined on Escape. `build(close)` returns the content.
export function openDialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: wide ? 'wide' : null, 'aria-labelledby': 'dialog-title' });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    append(dialog, [
      h('header', { class: 'dialog-head' },
        h('h2', { id: 'dialog-title' }, title),
        h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onclick: () => close(undefined) }, '×')),
      build(close),
    ]);
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus], input:not([disabled]), select, textarea, .dialog-body button');
    if (first) first.focus();
  });
}

// Asks before something that cannot be undone; resolves true when confirmed.
export async function confirmDialog(title, message, { confirmLabel = 'Delete', danger = true } = {}) {
  const answer = await openDialog(title, (close) =>
    h('div', { class: 'dialog-body' },
      typeof message === 'string' ? h('p', {}, message) : message,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', autofocus: true, onclick: () => close(true) },
          confirmLabel))));
  return answer === true;
}

// A labelled form field: label (text or nodes) + control (+ hint). The control gets an id if it has none.
let fieldId = 0;
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++fieldId}`;
  const hintEl = hint ? h('small', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

// A <select> from [value, label] pairs or plain strings.
export function select(options, value, props = {}) {
  return h('select', props, options.map((o) => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, label);
  }));
}

// Copies text; falls back to selecting a field when the Clipboard API is not allowed (plain http).
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard');
  } catch {
    if (fallbackInput) {
      fallbackInput.focus();
      fallbackInput.select();
    }
    toast('Press Ctrl+C to copy (the browser did not allow copying here)');
  }
}
