// Chains: create, rename, delete, set default; each chain's entries reordered by drag and drop or with the
// move up/down buttons, added (provider + a model picked from the provider's list or typed) and removed.
// Every change is saved at once (PUT /v1/admin/chains/:name) and undone on screen if the server refuses it.

import { api, describe, enc } from './api.js';
import { confirmDialog, field, fill, h, notice, openDialog, select, toast } from './dom.js';
import { showModels } from './providers.js';

export const title = 'Chains';

// Model ids per provider, fetched once per page visit; a failure leaves free typing.
const modelCache = new Map();
function modelsOf(providerId) {
  if (!modelCache.has(providerId)) {
    modelCache.set(providerId, api.get(`/v1/admin/providers/${enc(providerId)}/models`)
      .then((d) => (d.models || []).map((m) => ({ id: m.id, free: m.free })))
      .catch(() => []));
  }
  return modelCache.get(providerId);
}

let listId = 0;
// Provider select + model input with suggestions from the provider's list.
function entryPicker(providers, initialProvider) {
  const provider = select(providers.map((p) => [p.id, p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id]),
    initialProvider || (providers[0] && providers[0].id), { name: 'provider' });
  const datalist = h('datalist', { id: `models-${++listId}` });
  const model = h('input', { name: 'model', list: datalist.id, autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'model id' });
  const browse = h('button', { type: 'button', class: 'small', 'aria-label': 'Browse the provider\'s models' }, 'Browse…');
  const fillList = async () => {
    const models = await modelsOf(provider.value);
    fill(datalist, models.map((m) => h('option', { value: m.id }, m.free ? 'free' : '')));
  };
  // Asked only once the user heads for the model field (each call reaches the provider).
  provider.addEventListener('change', fillList);
  model.addEventListener('focus', fillList);
  browse.addEventListener('click', () => {
    const p = providers.find((x) => x.id === provider.value);
    if (p) showModels(p, (id) => { model.value = id; model.focus(); });
  });
  return { provider, model, datalist, browse };
}

function renameDialog(chain, names) {
  return openDialog(`Rename ${chain.name}`, (close) => {
    const input = h('input', { value: chain.name, required: true, autocomplete: 'off', spellcheck: 'false' });
    const error = h('div');
    const form = h('form', { class: 'dialog-body', novalidate: true }, field('New name', input), error,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Rename')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name || name === chain.name) return close();
      if (names.includes(name)) return fill(error, notice(`A chain "${name}" exists already.`));
      try {
        await api.post(`/v1/admin/chains/${enc(chain.name)}/rename`, { name });
        close(name);
      } catch (e) {
        fill(error, notice(describe(e)));
      }
    });
    setTimeout(() => input.select());
    return form;
  });
}

export function mount(root) {
  const list = h('div', { class: 'chain-list' }, h('p', { class: 'empty' }, 'Loading…'));
  const createBox = h('div');
  const status = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const error = h('div');
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Chains')), error, status, createBox, list);
  let stopped = false;
  let chains = [];
  let providers = [];
  let defaultChain = '';
  let pendingFocus = null; // [chain, index, which button] to focus after a re-render

  async function load() {
    try {
      const config = await api.get('/v1/admin/config');
      if (stopped) return;
      chains = config.chains || [];
      providers = config.providers || [];
      defaultChain = (config.settings && config.settings.defaultChain) || '';
      fill(error);
      renderCreate();
      render();
    } catch (e) {
      if (!stopped) fill(list, notice(describe(e)));
    }
  }

  function announce(text) {
    status.textContent = text;
  }

  // Shown at the top of the page and as a toast, since the chain it concerns may be far below.
  function showError(message) {
    fill(error, notice(message));
    toast(message, 'error');
  }

  // Saves `entries` for `chain`; on failure the screen goes back to what the server has.
  async function saveEntries(chain, entries, what) {
    const before = chain.entries;
    chain.entries = entries;
    render();
    try {
      await api.put(`/v1/admin/chains/${enc(chain.name)}`, { entries });
      fill(error);
      announce(what);
    } catch (e) {
      chain.entries = before;
      render();
      showError(`${chain.name} not saved: ${describe(e)}`);
    }
  }

  function move(chain, from, to, which) {
    if (to < 0 || to >= chain.entries.length || from === to) return;
    const entries = chain.entries.slice();
    const [item] = entries.splice(from, 1);
    entries.splice(to, 0, item);
    pendingFocus = which ? [chain.name, to, which] : null;
    saveEntries(chain, entries, `Moved ${item.provider} / ${item.model} to position ${to + 1} of ${chain.name}.`);
  }

  function renderCreate() {
    if (!providers.length) {
      fill(createBox, h('section', { class: 'panel' }, h('p', { class: 'empty' }, 'Add a provider first: a chain is a list of provider + model entries.'),
        h('a', { href: '/providers', 'data-link': '' }, 'Go to Providers')));
      return;
    }
    const name = h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. fast' });
    const picker = entryPicker(providers);
    const formError = h('div');
    const form = h('form', { class: 'panel', 'aria-labelledby': 'create-chain-title', novalidate: true },
      h('h2', { id: 'create-chain-title' }, 'New chain'),
      h('div', { class: 'add-entry' },
        field('Name', name),
        field('First provider', picker.provider),
        h('div', { class: 'field' }, h('label', { for: 'new-chain-model' }, 'Model'),
          h('div', { class: 'input-with-button' }, Object.assign(picker.model, { id: 'new-chain-model' }), picker.browse), picker.datalist)),
      formError,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create chain')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      fill(formError);
      const chainName = name.value.trim();
      const model = picker.model.value.trim();
      if (!chainName || !model) return fill(formError, notice('A chain needs a name and a first entry (provider and model).'));
      if (chains.some((c) => c.name === chainName)) return fill(formError, notice(`A chain "${chainName}" exists already.`));
      try {
        await api.put(`/v1/admin/chains/${enc(chainName)}`, { entries: [{ provider: picker.provider.value, model }] });
        toast(`Created ${chainName}`);
        await load();
      } catch (e) {
        fill(formError, notice(describe(e)));
      }
    });
    fill(createBox, form);
  }

  function renderEntries(chain) {
    const ol = h('ol', { class: 'entries', 'aria-label': `Entries of ${chain.name}, in the order they are tried` });
    let dragFrom = -1;
    const clearMarks = () => ol.querySelectorAll('.drop-before, .drop-after').forEach((el) => el.classList.remove('drop-before', 'drop-after'));
    chain.entries.forEach((entry, index) => {
      const last = index === chain.entries.length - 1;
      const label = `${entry.provider} / ${entry.model}`;
      const li = h('li', { class: 'entry', draggable: 'true', 'data-index': index, 'data-entry': label },
        h('span', { class: 'handle', 'aria-hidden': 'true', title: 'Drag to reorder' }, '⋮⋮'),
        h('span', { class: 'pos' }, `${index + 1}.`),
        h('span', { class: 'what' }, entry.provider, h('small', { class: 'mono' }, entry.model)),
        h('span', { class: 'moves' },
          h('button', { type: 'button', class: 'icon', 'data-move': 'up', disabled: index === 0, 'aria-label': `Move ${label} up`, onclick: () => move(chain, index, index - 1, 'up') }, '↑'),
          h('button', { type: 'button', class: 'icon', 'data-move': 'down', disabled: last, 'aria-label': `Move ${label} down`, onclick: () => move(chain, index, index + 1, 'down') }, '↓'),
          h('button', { type: 'button', class: 'icon', 'data-move': 'remove', disabled: chain.entries.length === 1,
            title: chain.entries.length === 1 ? 'A chain needs at least one entry' : null, 'aria-label': `Remove ${label}`,
            onclick: () => {
              pendingFocus = [chain.name, Math.max(0, index - 1), 'remove'];
              saveEntries(chain, chain.entries.filter((_, i) => i !== index), `Removed ${label} from ${chain.name}.`);
            } }, '×')));
      li.addEventListener('dragstart', (event) => {
        dragFrom = index;
        li.classList.add('dragging');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', label);
      });
      li.addEventListener('dragend', () => {
        li.classList.remove('dragging');
        clearMarks();
      });
      li.addEventListener('dragover', (event) => {
        if (dragFrom < 0) return;
        event.preventDefault();
        const box = li.getBoundingClientRect();
        const after = event.clientY > box.top + box.height / 2;
        clearMarks();
        li.classList.add(after ? 'drop-after' : 'drop-before');
      });
      li.addEventListener('drop', (event) => {
        if (dragFrom < 0) return;
        event.preventDefault();
        const box = li.getBoundingClientRect();
        const after = event.clientY > box.top + box.height / 2;
        let to = index + (after ? 1 : 0);
        if (dragFrom < to) to -= 1;
        const from = dragFrom;
        dragFrom = -1;
        clearMarks();
        move(chain, from, to, null);
      });
      ol.append(li);
    });
    return ol;
  }

  function renderChain(chain) {
    const isDefault = chain.name === defaultChain;
    const picker = entryPicker(providers);
    const addError = h('div');
    const addForm = h('form', { class: 'add-entry', 'aria-label': `Add an entry to ${chain.name}`, novalidate: true },
      field('Provider', picker.provider),
      h('div', { class: 'field' }, h('label', { for: `${picker.datalist.id}-input` }, 'Model'),
        h('div', { class: 'input-with-button' }, Object.assign(picker.model, { id: `${picker.datalist.id}-input` }), picker.browse), picker.datalist),
      h('button', { type: 'submit' }, 'Add entry'));
    addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      fill(addError);
      const model = picker.model.value.trim();
      if (!model) return fill(addError, notice('Type or pick a model.'));
      const entry = { provider: picker.provider.value, model };
      if (chain.entries.some((e) => e.provider === entry.provider && e.model === entry.model)) {
        return fill(addError, notice('That entry is in the chain already.'));
      }
      pendingFocus = [chain.name, -1, 'add'];
      saveEntries(chain, [...chain.entries, entry], `Added ${entry.provider} / ${entry.model} to ${chain.name}.`);
    });

    const actions = h('div', { class: 'cell-actions' },
      isDefault ? null : h('button', { type: 'button', class: 'small', onclick: () => setDefault(chain) }, 'Make default'),
      h('a', { class: 'button small', href: `/test?chain=${enc(chain.name)}`, 'data-link': '' }, 'Test'),
      h('button', { type: 'button', class: 'small', 'aria-label': `Rename ${chain.name}`, onclick: () => rename(chain) }, 'Rename'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${chain.name}`, onclick: () => remove(chain) }, 'Delete'));
    return h('section', { class: 'panel', 'data-chain': chain.name, 'aria-label': `Chain ${chain.name}` },
      h('div', { class: 'panel-head' },
        h('h2', {}, chain.name, ' ', isDefault ? h('span', { class: 'badge accent' }, 'default') : null),
        actions),
      renderEntries(chain),
      h('details', {}, h('summary', {}, 'Add an entry'), addForm, addError));
  }

  function render() {
    if (!chains.length) {
      fill(list, h('p', { class: 'empty' }, 'No chains yet.'));
      return;
    }
    fill(list, chains.map(renderChain));
    if (pendingFocus) {
      const [name, index, which] = pendingFocus;
      pendingFocus = null;
      const section = [...list.querySelectorAll('[data-chain]')].find((s) => s.dataset.chain === name);
      if (!section) return;
      if (which === 'add') {
        const details = section.querySelector('details');
        details.open = true;
        section.querySelector('input[name=model]').focus();
        return;
      }
      const items = section.querySelectorAll('.entry');
      const item = items[Math.min(index, items.length - 1)];
      let button = item && item.querySelector(`[data-move=${which}]`);
      if (button && button.disabled) button = item.querySelector('[data-move]:not(:disabled)');
      if (button) button.focus();
    }
  }

  async function setDefault(chain) {
    try {
      await api.put('/v1/admin/settings', { defaultChain: chain.name });
      toast(`${chain.name} is now the default chain`);
      await load();
    } catch (e) {
      showError(describe(e));
    }
  }

  async function rename(chain) {
    const name = await renameDialog(chain, chains.map((c) => c.name));
    if (name) {
      toast(`Renamed ${chain.name} to ${name}`);
      await load();
    }
  }

  async function remove(chain) {
    if (chain.name === defaultChain) {
      showError(`${chain.name} is the default chain: make another chain the default before deleting it.`);
      return;
    }
    if (!(await confirmDialog(`Delete ${chain.name}?`, 'Clients that ask for this model name will get the default chain instead.'))) return;
    try {
      await api.del(`/v1/admin/chains/${enc(chain.name)}`);
      toast(`Deleted ${chain.name}`);
      await load();
    } catch (e) {
      showError(describe(e));
    }
  }

  load();
  return () => {
    stopped = true;
    modelCache.clear();
  };
}
