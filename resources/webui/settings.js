// Settings: the running settings (GET/PUT /v1/admin/settings), with the ones that need a restart flagged, and
// the proxy's API keys: generate (crypto.getRandomValues), copy, revoke, with a warning before revoking the key
// this page is signed in with.

import { api, describe, getKey } from './api.js';
import { confirmDialog, copyText, field, fill, fmtInt, h, notice, select, toast } from './dom.js';

export const title = 'Settings';

const MASK = '***';
// The form is built from the config key table (GET /v1/admin/schema): each setting's group, label, type, hint,
// range and whether it needs a restart come from the core, so no key is listed here.
const GROUPS = [['routing', 'Routing'], ['midStream', 'Mid-stream failures'], ['queue', 'Queue'], ['server', 'Server']];

// Keys this tab generated, by position in settings.apiKeys (the server shows every key masked).
const knownKeys = new Map();

function newKey() {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  const base64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `sk-429chain-${base64}`;
}

export function mount(root) {
  const form = h('form', { novalidate: true }, h('p', { class: 'empty' }, 'Loading…'));
  const keysBox = h('section', { class: 'panel', 'aria-labelledby': 'keys-title' });
  const message = h('div', { role: 'status' });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Settings')), message, keysBox, form);
  let stopped = false;
  let settings = null;
  let chains = [];
  let schema = [];
  const inputs = new Map();

  async function load() {
    try {
      const [s, config, tables] = await Promise.all([api.get('/v1/admin/settings'), api.get('/v1/admin/config'),
        api.get('/v1/admin/schema')]);
      if (stopped) return;
      settings = s.settings;
      schema = tables.settings || [];
      chains = (config.chains || []).map((c) => c.name);
      renderKeys();
      renderForm();
    } catch (e) {
      if (!stopped) fill(form, notice(describe(e)));
    }
  }

  function control(row) {
    const key = row.name;
    const value = settings[key];
    if (row.type === 'boolean') return h('input', { type: 'checkbox', name: key, checked: Boolean(value) });
    if (row.type === 'integer') {
      return h('input', { type: 'number', name: key, value: value ?? '', inputmode: 'numeric', min: String(row.minimum ?? 0),
        max: row.maximum === undefined ? null : String(row.maximum), step: '1' });
    }
    if (row.type === 'chain') return select(chains.includes(value) ? chains : [value, ...chains], value, { name: key });
    if (row.choices) return select(row.choices.includes(value) ? row.choices : [value, ...row.choices], value, { name: key });
    if (row.type === 'list') return h('textarea', { name: key, rows: 2, spellcheck: 'false' }, (value || []).join('\n'));
    return h('input', { type: 'text', name: key, value: value ?? '', spellcheck: 'false' });
  }

  function readValue(type, el) {
    if (type === 'boolean') return el.checked;
    if (type === 'integer') return el.value === '' ? null : Number(el.value);
    if (type === 'list') return el.value.split('\n').map((l) => l.trim()).filter(Boolean);
    return el.value.trim();
  }

  function renderForm() {
    inputs.clear();
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save settings');
    const error = h('div');
    fill(form,
      GROUPS.map(([group, groupTitle]) => h('section', { class: 'panel' },
        h('h2', {}, groupTitle),
        schema.some((row) => row.group === group && row.restartOnly)
          ? h('p', { class: 'hint' }, 'Settings marked "restart" are saved to the config file and take effect when 429chain restarts.') : null,
        h('div', { class: 'grid-2' }, schema.filter((row) => row.group === group).map((row) => {
          const el = control(row);
          inputs.set(row.name, [row.type, el]);
          const labelNodes = [row.label, row.restartOnly ? [' ', h('span', { class: 'badge warn', title: 'Takes effect after a restart' }, 'restart')] : null];
          if (row.type === 'boolean') return h('label', { class: 'check', title: row.description }, el, labelNodes);
          return field(labelNodes, el, row.description);
        })))),
      error,
      h('div', { class: 'actions' }, save));
    form.onsubmit = async (event) => {
      event.preventDefault();
      fill(error);
      const changes = {};
      for (const [key, [type, el]] of inputs) {
        const value = readValue(type, el);
        if (type === 'integer' && (value === null || !Number.isInteger(value))) {
          fill(error, notice(`${key} must be a whole number.`));
          el.focus();
          return;
        }
        if (JSON.stringify(value) !== JSON.stringify(settings[key])) changes[key] = value;
      }
      if (!Object.keys(changes).length) {
        fill(message, notice('Nothing changed.', 'info'));
        return;
      }
      save.disabled = true;
      try {
        const answer = await api.put('/v1/admin/settings', changes);
        settings = answer.settings;
        fill(message, notice(answer.message || `Saved: ${Object.keys(changes).join(', ')}.`, answer.message ? 'info' : 'ok'));
        renderForm();
        message.scrollIntoView({ block: 'nearest' });
      } catch (e) {
        fill(error, notice(describe(e)));
      } finally {
        save.disabled = false;
      }
    };
  }

  // The index of the key this page uses, when it can be told: a key generated here, or the only key this page
  // did not generate when there are no admin keys.
  function keyInUse() {
    const mine = getKey();
    for (const [index, value] of knownKeys) if (value === mine) return index;
    const unknown = settings.apiKeys.map((_, i) => i).filter((i) => !knownKeys.has(i));
    return settings.adminKeys.length === 0 && unknown.length === 1 ? unknown[0] : -1;
  }

  async function saveKeys(list) {
    const answer = await api.put('/v1/admin/settings', { apiKeys: list });
    settings = answer.settings;
  }

  async function generate() {
    const key = newKey();
    const index = settings.apiKeys.length;
    try {
      await saveKeys([...settings.apiKeys.map(() => MASK), key]);
      knownKeys.set(index, key);
      renderKeys(key);
    } catch (e) {
      fill(message, notice(describe(e)));
    }
  }

  async function revoke(index) {
    const inUse = keyInUse();
    const mine = getKey();
    const list = [];
    for (let i = 0; i < settings.apiKeys.length; i += 1) {
      if (i < index) list.push(MASK);
      else if (i > index) {
        const value = knownKeys.get(i) ?? (i === inUse ? mine : undefined);
        if (value === undefined) {
          fill(message, notice(`Key ${index + 1} cannot be revoked from here while key ${i + 1} comes after it: 429chain shows stored keys only by position, so the keys after it would have to be typed again. Revoke the later keys first, or remove it from config.yaml.`));
          return;
        }
        list.push(value);
      }
    }
    const warning = index === inUse
      ? h('p', { class: 'notice error' }, 'This is the key this page is signed in with. Revoking it signs you out; sign in again with another key.')
      : inUse < 0 ? h('p', {}, 'If this is the key you signed in with, this page signs you out.') : null;
    const ok = await confirmDialog(`Revoke key ${index + 1}?`,
      h('div', {}, h('p', {}, 'Every client using this key gets 401 from now on.'), warning), { confirmLabel: 'Revoke' });
    if (!ok) return;
    try {
      await saveKeys(list);
      const shifted = new Map();
      for (const [i, value] of knownKeys) if (i !== index) shifted.set(i > index ? i - 1 : i, value);
      knownKeys.clear();
      for (const [i, value] of shifted) knownKeys.set(i, value);
      toast(`Key ${index + 1} revoked`);
      renderKeys();
    } catch (e) {
      fill(message, notice(describe(e)));
    }
  }

  function renderKeys(fresh) {
    const inUse = keyInUse();
    const count = settings.apiKeys.length;
    const freshInput = fresh ? h('input', { class: 'new-key', value: fresh, readonly: true, 'aria-label': 'New API key' }) : null;
    fill(keysBox,
      h('div', { class: 'panel-head' }, h('h2', { id: 'keys-title' }, 'API keys'), h('button', { type: 'button', class: 'primary', onclick: generate }, 'Generate key')),
      h('p', { class: 'hint' }, 'Clients send one of these as Bearer token. Keys are stored in the config file and never shown again once this page is left.'),
      fresh ? h('div', { class: 'notice ok' },
        h('p', {}, h('strong', {}, 'New key added. '), 'Copy it now: it will not be shown again.'),
        h('div', { class: 'input-with-button' }, freshInput,
          h('button', { type: 'button', onclick: () => copyText(fresh, freshInput) }, 'Copy'))) : null,
      h('ul', { class: 'key-list' }, settings.apiKeys.map((_, i) => h('li', { 'data-key-index': i },
        h('span', { class: 'grow' }, `Key ${i + 1} `, h('span', { class: 'mono muted' }, knownKeys.has(i) ? `${knownKeys.get(i).slice(0, 16)}…` : '••••••••')),
        i === inUse ? h('span', { class: 'badge accent' }, 'this page') : null,
        knownKeys.has(i) ? h('button', { type: 'button', class: 'small', onclick: () => copyText(knownKeys.get(i)) }, 'Copy') : null,
        h('button', { type: 'button', class: 'small danger', disabled: count === 1, title: count === 1 ? '429chain needs at least one key' : null,
          'aria-label': `Revoke key ${i + 1}`, onclick: () => revoke(i) }, 'Revoke')))),
      h('p', { class: 'hint' }, settings.adminKeys.length
        ? `${fmtInt(settings.adminKeys.length)} admin key(s) are set: only they open the admin API (settings.adminKeys, edited in config.yaml).`
        : 'No admin keys are set: every API key may use the admin API.'));
    if (freshInput) freshInput.select();
  }

  load();
  return () => {
    stopped = true;
  };
}
