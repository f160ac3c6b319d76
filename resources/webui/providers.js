// Providers: the table of configured providers; add and edit in a dialog (type → default base URL, key
// masked with a reveal button and kept when left empty, timeout, manual limits), the provider's model list
// (free ones marked), and delete with a confirmation (a 409 names the chains that still use it).

import { api, describe, enc } from './api.js';
import { confirmDialog, field, fill, fmtInt, h, notice, openDialog, select, toast } from './dom.js';

export const title = 'Providers';

// The provider types with their labels and default base URLs: ProviderKind's table, read from
// GET /v1/admin/schema when the page loads (never copied here).
let types = [];

const LIMITS = [
  ['requestsPerMinute', 'Requests / minute'],
  ['requestsPerHour', 'Requests / hour'],
  ['requestsPerDay', 'Requests / day'],
  ['tokensPerMinute', 'Tokens / minute'],
  ['tokensPerDay', 'Tokens / day'],
  ['concurrentRequests', 'Concurrent requests'],
];

const defaultUrl = (type) => (types.find((t) => t.type === type) || {}).baseUrl || '';

function limitsSummary(limits) {
  if (!limits) return '–';
  const short = { requestsPerMinute: 'RPM', requestsPerHour: 'RPH', requestsPerDay: 'RPD', tokensPerMinute: 'TPM', tokensPerDay: 'TPD', concurrentRequests: 'conc.' };
  const parts = LIMITS.filter(([k]) => limits[k] !== undefined && limits[k] !== null).map(([k]) => `${fmtInt(limits[k])} ${short[k]}`);
  if (limits.scope === 'provider') parts.push('per provider');
  return parts.length ? parts.join(', ') : '–';
}

// Lists the provider's own models; `onPick(id)` makes each one a choice.
export async function showModels(provider, onPick) {
  return openDialog(`Models of ${provider.name || provider.id}`, (close) => {
    const body = h('div', { class: 'dialog-body' }, h('p', { class: 'empty' }, 'Asking the provider…'));
    api.get(`/v1/admin/providers/${enc(provider.id)}/models`).then((data) => {
      const models = data.models || [];
      if (!models.length) {
        fill(body, h('p', { class: 'empty' }, 'The provider listed no models.'));
        return;
      }
      const freeCount = models.filter((m) => m.free).length;
      fill(body,
        h('p', { class: 'muted' }, `${models.length} models${freeCount ? `, ${freeCount} free` : ''}.`),
        h('div', { class: 'model-list' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Model'), h('th', { class: 'num', scope: 'col' }, 'Context'), h('th', { scope: 'col' }, ''))),
          h('tbody', {}, models.map((m) => h('tr', {},
            h('td', {}, h('span', { class: 'mono' }, m.id), ' ', m.free ? h('span', { class: 'badge ok' }, 'free') : null),
            h('td', { class: 'num' }, m.contextLength ? fmtInt(m.contextLength) : '–'),
            h('td', {}, onPick ? h('button', { type: 'button', class: 'small', onclick: () => { onPick(m.id); close(m.id); } }, 'Use') : null)))))));
    }).catch((e) => fill(body, notice(`Could not list the models: ${describe(e)}`)));
    return body;
  }, { wide: true });
}

// The add/edit form; resolves with the saved provider, or undefined when cancelled.
function editProvider(existing, knownIds) {
  const editing = Boolean(existing);
  const p = existing || { type: 'groq', enabled: true };
  return openDialog(editing ? `Edit ${p.id}` : 'Add a provider', (close) => {
    const id = h('input', { name: 'id', value: p.id || '', required: true, disabled: editing, autocomplete: 'off', spellcheck: 'false', pattern: '[A-Za-z0-9][A-Za-z0-9._-]*' });
    const name = h('input', { name: 'name', value: p.name || '', autocomplete: 'off' });
    const known = types.map((t) => [t.type, `${t.label} (${t.type})`]);
    const type = select(known.some(([v]) => v === p.type) ? known : [[p.type, p.type], ...known], p.type, { name: 'type' });
    const baseUrl = h('input', { name: 'baseUrl', type: 'url', value: p.baseUrl || '', autocomplete: 'off', spellcheck: 'false' });
    const urlHint = h('small', { class: 'hint' });
    const key = h('input', { name: 'apiKey', type: 'password', autocomplete: 'new-password', spellcheck: 'false',
      placeholder: editing ? 'Leave empty to keep the stored key' : '' });
    const reveal = h('button', { type: 'button', class: 'small', 'aria-pressed': 'false', 'aria-label': 'Show key' }, 'Show');
    reveal.addEventListener('click', () => {
      const shown = key.type === 'password';
      key.type = shown ? 'text' : 'password';
      reveal.textContent = shown ? 'Hide' : 'Show';
      reveal.setAttribute('aria-pressed', String(shown));
      reveal.setAttribute('aria-label', shown ? 'Hide key' : 'Show key');
    });
    const timeout = h('input', { name: 'timeout', type: 'number', min: '1000', step: '1000', value: p.timeout ?? '', inputmode: 'numeric' });
    const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: p.enabled !== false, id: 'provider-enabled' });
    const limits = p.rateLimits || {};
    const limitInputs = LIMITS.map(([k, label]) => [k, label, h('input', { name: k, type: 'number', min: '0', step: '1', value: limits[k] ?? '', inputmode: 'numeric' })]);
    const scope = select([['model', 'each model separately'], ['provider', 'shared by all models of the provider']], limits.scope || 'model', { name: 'scope' });
    const error = h('div');
    const save = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save' : 'Add provider');

    const updateUrlHint = () => {
      const url = defaultUrl(type.value);
      baseUrl.placeholder = url || 'https://host:port/v1';
      baseUrl.required = !url;
      urlHint.textContent = url ? `Empty: the default, ${url}` : 'Required for this type: the server\'s base URL, ending in /v1 as a rule.';
    };
    type.addEventListener('change', updateUrlHint);
    updateUrlHint();
    baseUrl.setAttribute('aria-describedby', 'provider-url-hint');
    urlHint.id = 'provider-url-hint';

    const form = h('form', { class: 'dialog-body', novalidate: true },
      h('div', { class: 'grid-2' },
        field('ID', id, editing ? 'The ID cannot change; chains refer to it.' : 'Letters, digits, dot, dash, underscore.'),
        field('Name', name, 'Shown in lists; the ID when empty.')),
      field('Type', type),
      h('div', { class: 'field' }, h('label', { for: 'provider-url' }, 'Base URL'), Object.assign(baseUrl, { id: 'provider-url' }), urlHint),
      h('div', { class: 'field' }, h('label', { for: 'provider-key' }, 'API key'),
        h('div', { class: 'input-with-button' }, Object.assign(key, { id: 'provider-key' }), reveal),
        editing ? h('small', { class: 'hint' }, 'The stored key is never shown. Type a new one to replace it.') : h('small', { class: 'hint' }, 'May be ${VAR} to read it from the environment.')),
      h('div', { class: 'grid-2' },
        field('Timeout (ms)', timeout, `Empty: settings.requestTimeoutMs.`),
        h('label', { class: 'check', for: 'provider-enabled' }, enabled, 'Enabled')),
      h('details', { open: LIMITS.some(([k]) => limits[k] !== undefined) },
        h('summary', {}, 'Manual rate limits'),
        h('p', { class: 'hint' }, 'Used when the provider does not say its limits in its answers. Empty means no limit.'),
        h('div', { class: 'grid-2' }, limitInputs.map(([, label, input]) => field(label, input))),
        field('Limits apply to', scope)),
      error,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'), save));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      fill(error);
      const idValue = id.value.trim();
      if (!idValue) {
        fill(error, notice('The ID is required.'));
        id.focus();
        return;
      }
      if (!editing && knownIds.includes(idValue)) {
        fill(error, notice(`A provider "${idValue}" exists already: edit it instead.`));
        id.focus();
        return;
      }
      if (!defaultUrl(type.value) && !baseUrl.value.trim()) {
        fill(error, notice('This type needs a base URL.'));
        baseUrl.focus();
        return;
      }
      const body = { id: idValue, name: name.value.trim() || idValue, type: type.value, enabled: enabled.checked };
      if (baseUrl.value.trim()) body.baseUrl = baseUrl.value.trim();
      if (key.value) body.apiKey = key.value;
      else if (!editing) body.apiKey = '';
      if (timeout.value) body.timeout = Number(timeout.value);
      const rateLimits = {};
      for (const [k, , input] of limitInputs) if (input.value !== '') rateLimits[k] = Number(input.value);
      if (Object.keys(rateLimits).length || scope.value === 'provider') {
        rateLimits.scope = scope.value;
        body.rateLimits = rateLimits;
      }
      // Extra headers are kept as they are (masked values are resolved by the server).
      if (editing && p.headers) body.headers = p.headers;
      save.disabled = true;
      try {
        const answer = await api.put(`/v1/admin/providers/${enc(idValue)}`, body);
        close(answer.provider || body);
      } catch (e) {
        fill(error, notice(describe(e)));
      } finally {
        save.disabled = false;
      }
    });
    return form;
  });
}

export function mount(root) {
  const list = h('div', {}, h('p', { class: 'empty' }, 'Loading…'));
  const addButton = h('button', { type: 'button', class: 'primary' }, 'Add provider');
  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Providers'), addButton),
    h('section', { class: 'panel' }, list));
  let stopped = false;
  let providers = [];
  let chains = [];

  async function load() {
    try {
      const [config, schema] = await Promise.all([api.get('/v1/admin/config'), api.get('/v1/admin/schema')]);
      if (stopped) return;
      types = schema.providerTypes || [];
      providers = config.providers || [];
      chains = config.chains || [];
      render();
    } catch (e) {
      if (!stopped) fill(list, notice(describe(e)));
    }
  }

  function usedBy(id) {
    return chains.filter((c) => c.entries.some((e) => e.provider === id)).map((c) => c.name);
  }

  async function remove(p, button) {
    const users = usedBy(p.id);
    const ok = await confirmDialog(`Delete ${p.id}?`,
      users.length
        ? `It is still used by ${users.join(', ')}: 429chain will refuse until those chains no longer use it.`
        : 'The provider and its key are removed from the config.');
    if (!ok) return;
    try {
      await api.del(`/v1/admin/providers/${enc(p.id)}`);
      toast(`Deleted ${p.id}`);
      await load();
      addButton.focus();
    } catch (e) {
      const message = e.status === 409 ? `Cannot delete ${p.id}: ${describe(e)}` : describe(e);
      await openDialog('Not deleted', (close) => h('div', { class: 'dialog-body' }, notice(message),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => close() }, 'OK'))));
      button.focus();
    }
  }

  async function edit(p) {
    const saved = await editProvider(p, providers.map((x) => x.id));
    if (saved) {
      toast(p ? `Saved ${saved.id}` : `Added ${saved.id}`);
      await load();
    }
  }

  function render() {
    if (!providers.length) {
      fill(list, h('p', { class: 'empty' }, 'No providers yet. Add one with its API key to start.'));
      return;
    }
    fill(list, h('div', { class: 'table-wrap' }, h('table', { class: 'stack', 'aria-label': 'Providers' },
      h('thead', {}, h('tr', {}, ['ID', 'Type', 'Base URL', 'Key', 'Timeout', 'Manual limits', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, providers.map((p) => {
        const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${p.id}` }, 'Delete');
        del.addEventListener('click', () => remove(p, del));
        return h('tr', { 'data-provider': p.id },
          h('td', { 'data-label': 'ID' }, h('div', { class: 'wrap' }, h('strong', {}, p.id),
            p.name && p.name !== p.id ? h('span', { class: 'sub' }, p.name) : null,
            p.enabled === false ? h('span', { class: 'badge' }, 'disabled') : null)),
          h('td', { 'data-label': 'Type' }, h('span', { class: 'badge accent' }, p.type)),
          h('td', { 'data-label': 'Base URL' }, h('span', { class: 'wrap mono' }, p.baseUrl || h('span', { class: 'muted' }, 'default'))),
          h('td', { 'data-label': 'Key' }, p.apiKey ? h('span', { class: 'mono', title: 'stored, never shown' }, '••••••') : h('span', { class: 'muted' }, 'none')),
          h('td', { 'data-label': 'Timeout' }, p.timeout ? `${fmtInt(p.timeout)} ms` : h('span', { class: 'muted' }, 'default')),
          h('td', { 'data-label': 'Manual limits' }, limitsSummary(p.rateLimits)),
          h('td', { 'data-label': 'Actions' }, h('div', { class: 'cell-actions' },
            h('button', { type: 'button', class: 'small', 'aria-label': `Edit ${p.id}`, onclick: () => edit(p) }, 'Edit'),
            h('button', { type: 'button', class: 'small', 'aria-label': `Models of ${p.id}`, onclick: () => showModels(p) }, 'Models'),
            del)));
      })))));
  }

  addButton.addEventListener('click', () => edit(null));
  load();
  return () => {
    stopped = true;
  };
}
