// The web UI's shell: sign-in, the client-side router (/, /providers, /chains, /log, /test, /settings), the
// live-feed indicator and sign-out. Each page is a module with mount(root, params) → cleanup.

import { api, clearKey, describe, getKey, onUnauthorized, setKey } from './api.js';
import { onLiveStatus, startLive, stopLive } from './live.js';
import * as dashboard from './dashboard.js';
import * as providers from './providers.js';
import * as chains from './chains.js';
import * as log from './log.js';
import * as test from './test.js';
import * as settings from './settings.js';

const ROUTES = {
  '/': dashboard,
  '/providers': providers,
  '/chains': chains,
  '/log': log,
  '/test': test,
  '/settings': settings,
};

const $ = (id) => document.getElementById(id);
let cleanup = null;

function showSignIn(message) {
  if (cleanup) cleanup();
  cleanup = null;
  stopLive();
  $('shell').hidden = true;
  $('signin').hidden = false;
  document.title = 'Sign in · 429chain';
  const error = $('signin-error');
  error.hidden = !message;
  error.textContent = message || '';
  const input = $('signin-key');
  input.value = '';
  input.focus();
}

function showShell() {
  $('signin').hidden = true;
  $('shell').hidden = false;
  startLive();
  render();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('signin-key');
  const key = input.value.trim();
  const error = $('signin-error');
  if (!key) {
    error.textContent = 'Enter an API key.';
    error.hidden = false;
    input.focus();
    return;
  }
  const button = event.target.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    // Any route that needs a key tells whether this one is accepted.
    await api.get('/v1/models', { key, quiet401: true });
    setKey(key);
    input.value = '';
    showShell();
  } catch (e) {
    error.textContent = e.status === 401 ? `That key was refused: ${describe(e)}` : describe(e);
    error.hidden = false;
    input.select();
  } finally {
    button.disabled = false;
  }
}

function render(focusMain = false) {
  if (cleanup) cleanup();
  cleanup = null;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const page = ROUTES[path];
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const main = $('main');
  main.replaceChildren();
  if (!page) {
    document.title = 'Not found · 429chain';
    const home = document.createElement('a');
    home.href = '/';
    home.dataset.link = '';
    home.textContent = 'Go to the dashboard';
    const heading = document.createElement('h1');
    heading.textContent = 'Page not found';
    const text = document.createElement('p');
    text.textContent = `There is no page at ${path}. `;
    text.append(home);
    main.append(heading, text);
    return;
  }
  document.title = `${page.title} · 429chain`;
  cleanup = page.mount(main, new URLSearchParams(location.search)) || null;
  if (focusMain) main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

export function navigate(url) {
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
  render(true);
}

// Same-origin links marked data-link change the page without a reload.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
});

window.addEventListener('popstate', () => {
  if (getKey()) render(true);
});

function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => {
    clearKey();
    showSignIn('');
  });
  onUnauthorized((message) => {
    clearKey();
    showSignIn(`Signed out: ${message}`);
  });
  onLiveStatus((status) => {
    const live = $('live');
    live.dataset.state = status;
    live.textContent = { live: 'live', connecting: 'connecting…', retrying: 'reconnecting…', off: 'offline' }[status];
  });
  if (getKey()) showShell();
  else showSignIn('');
}

start();
