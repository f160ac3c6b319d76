// Browser tests of the web UI: the real 429chain binary in demo mode (simulated providers on loopback) and
// Debian's chromium driven by playwright-core. Run: CHAIN_BINARY=build/app/429chain node --test tests/webui/

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { DEMO_KEY, apiGet, chat, launchBrowser, newPage, pageReady, signIn, startServer } from './harness.mjs';

let server;
let browser;
let page; // signed in; shared by the tests, which run in order
const pageErrors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await newPage(browser.context, pageErrors);
  page.setDefaultTimeout(20000);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function go(path) {
  await page.goto(`${server.url}${path}`);
  await pageReady(page);
}

async function nav(name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
  await pageReady(page);
}

test('the page and its files come with the security headers', async () => {
  for (const path of ['/', '/providers', '/app.js', '/app.css', '/favicon.svg']) {
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 200, path);
    const csp = response.headers.get('content-security-policy') || '';
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /script-src 'self'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer', path);
  }
  const js = await fetch(`${server.url}/app.js`);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const etag = js.headers.get('etag');
  const again = await fetch(`${server.url}/app.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  // The API keeps its own answers.
  const unknown = await fetch(`${server.url}/v1/nothing`);
  assert.equal(unknown.status, 401);
  assert.equal((await unknown.json()).error.code, 'invalid_api_key');
});

test('sign-in refuses a wrong key and accepts the right one', async () => {
  await page.goto(`${server.url}/`);
  await page.getByLabel('API key', { exact: true }).fill('sk-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.locator('#signin-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /refused: Invalid API key provided/);
  assert.ok(await page.locator('#shell').isHidden());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('429chain-api-key')), null);

  await page.getByLabel('API key', { exact: true }).fill(DEMO_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('429chain-api-key')), DEMO_KEY);
  await page.locator('#live[data-state=live]').waitFor();
});

test('a refused key sends the page back to sign-in', async () => {
  const other = await newPage(browser.context, []);
  await other.goto(`${server.url}/`);
  await other.evaluate(() => sessionStorage.setItem('429chain-api-key', 'sk-revoked'));
  await other.goto(`${server.url}/providers`);
  await other.locator('#signin').waitFor({ state: 'visible' });
  assert.match(await other.locator('#signin-error').textContent(), /Signed out: Invalid API key provided/);
  await other.close();
});

test('add a provider, and a delete refused with 409 says why', async () => {
  await nav('Providers');
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('ID', { exact: true }).fill('my-mistral');
  await dialog.getByLabel('Name', { exact: true }).fill('My Mistral');
  await dialog.getByLabel('Type', { exact: true }).selectOption('mistral');
  assert.equal(await dialog.getByLabel('Base URL', { exact: true }).getAttribute('placeholder'), 'https://api.mistral.ai/v1');
  await dialog.getByLabel('API key', { exact: true }).fill('sk-mistral-secret');
  await dialog.getByRole('button', { name: 'Show key' }).click();
  assert.equal(await dialog.getByLabel('API key', { exact: true }).getAttribute('type'), 'text');
  await dialog.getByLabel('Timeout (ms)', { exact: true }).fill('15000');
  await dialog.getByText('Manual rate limits').click();
  await dialog.getByLabel('Requests / minute', { exact: true }).fill('20');
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('tr[data-provider="my-mistral"]').waitFor();

  const config = (await apiGet(server.url, '/v1/admin/config')).body;
  const added = config.providers.find((p) => p.id === 'my-mistral');
  assert.deepEqual(
    { name: added.name, type: added.type, timeout: added.timeout, rpm: added.rateLimits.requestsPerMinute },
    { name: 'My Mistral', type: 'mistral', timeout: 15000, rpm: 20 });

  // Edit without typing a key keeps the stored one (the body has no apiKey).
  await page.getByRole('button', { name: 'Edit my-mistral' }).click();
  const edit = page.getByRole('dialog');
  assert.equal(await edit.getByLabel('API key', { exact: true }).inputValue(), '');
  await edit.getByLabel('Timeout (ms)', { exact: true }).fill('20000');
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/v1/admin/providers/my-mistral')),
    edit.getByRole('button', { name: 'Save' }).click(),
  ]);
  assert.equal('apiKey' in JSON.parse(request.postData()), false);
  await edit.waitFor({ state: 'detached' });

  await page.getByRole('button', { name: 'Delete groq-demo' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  const refusal = page.getByRole('dialog', { name: 'Not deleted' });
  await refusal.waitFor();
  const text = await refusal.textContent();
  assert.match(text, /Cannot delete groq-demo/);
  assert.match(text, /default/);
  assert.doesNotMatch(text, /\[object Object\]/);
  await refusal.getByRole('button', { name: 'OK' }).click();
});

test('create a chain and reorder it with the keyboard', async () => {
  await nav('Chains');
  const create = page.getByRole('form', { name: 'New chain' });
  await create.getByLabel('Name', { exact: true }).fill('webui');
  await create.getByLabel('First provider', { exact: true }).selectOption('groq-demo');
  await create.getByLabel('Model', { exact: true }).fill('llama-3.1-8b-instant');
  await create.getByRole('button', { name: 'Create chain' }).click();
  const chain = page.locator('section[data-chain="webui"]');
  await chain.waitFor();

  for (const [provider, model] of [['cerebras-demo', 'llama3.1-8b'], ['openrouter-demo', 'meta-llama/llama-3.3-70b-instruct:free']]) {
    const details = chain.locator('details');
    if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
    const form = chain.getByRole('form', { name: 'Add an entry to webui' });
    await form.getByLabel('Provider', { exact: true }).selectOption(provider);
    await form.getByLabel('Model', { exact: true }).fill(model);
    await form.getByRole('button', { name: 'Add entry' }).click();
    await chain.locator(`li[data-entry="${provider} / ${model}"]`).waitFor();
  }
  const order = async () => ((await apiGet(server.url, '/v1/admin/config')).body.chains.find((c) => c.name === 'webui') || { entries: [] })
    .entries.map((e) => e.provider);
  await waitFor(async () => (await order()).length === 3);
  assert.deepEqual(await order(), ['groq-demo', 'cerebras-demo', 'openrouter-demo']);

  // Keyboard: focus "move up" on the last entry, press Enter twice; the focus stays on the moved entry.
  await chain.getByRole('button', { name: 'Move openrouter-demo / meta-llama/llama-3.3-70b-instruct:free up' }).focus();
  await page.keyboard.press('Enter');
  await waitFor(async () => (await order())[1] === 'openrouter-demo');
  const focused = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  assert.equal(focused, 'Move openrouter-demo / meta-llama/llama-3.3-70b-instruct:free up');
  await page.keyboard.press('Enter');
  await waitFor(async () => (await order())[0] === 'openrouter-demo');
  assert.deepEqual(await order(), ['openrouter-demo', 'groq-demo', 'cerebras-demo']);
  await chain.getByRole('button', { name: 'Move groq-demo / llama-3.1-8b-instant down' }).click();
  await waitFor(async () => (await order())[2] === 'groq-demo');
  assert.deepEqual(await order(), ['openrouter-demo', 'cerebras-demo', 'groq-demo']);
  const shown = await chain.locator('li.entry .what').evaluateAll((items) => items.map((i) => i.firstChild.textContent));
  assert.deepEqual(shown, ['openrouter-demo', 'cerebras-demo', 'groq-demo']);

  // Drag and drop: the last entry onto the first.
  await chain.locator('li.entry').nth(2).dragTo(chain.locator('li.entry').nth(0), { targetPosition: { x: 20, y: 5 } });
  await waitFor(async () => (await order())[0] === 'groq-demo');
  assert.deepEqual(await order(), ['groq-demo', 'openrouter-demo', 'cerebras-demo']);

  // Remove an entry, rename the chain.
  await chain.getByRole('button', { name: 'Remove openrouter-demo / meta-llama/llama-3.3-70b-instruct:free' }).click();
  await waitFor(async () => (await order()).length === 2);
  await chain.getByRole('button', { name: 'Rename webui' }).click();
  await page.getByRole('dialog').getByLabel('New name', { exact: true }).fill('webui-2');
  await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
  await page.locator('section[data-chain="webui-2"]').waitFor();
  const names = (await apiGet(server.url, '/v1/admin/config')).body.chains.map((c) => c.name);
  assert.ok(names.includes('webui-2') && !names.includes('webui'));
});

test('a test prompt streams its answer and names who served it', async () => {
  await nav('Test');
  await page.getByLabel('Chain', { exact: true }).selectOption('fast');
  await page.getByRole('button', { name: 'Send' }).click();
  // Text is on screen while the answer is still streaming (Stop enabled).
  await page.waitForFunction(() => {
    const answer = document.querySelector('.answer');
    const stop = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Stop');
    return answer.textContent.length > 0 && !stop.disabled;
  });
  await page.getByText('Done.').waitFor();
  const answer = await page.locator('.answer').textContent();
  assert.match(answer, /cerebras-demo/);
  assert.equal(await page.locator('[data-stat="Served by"]').textContent(), 'cerebras-demo/llama3.1-8b');
  assert.equal(await page.locator('[data-stat="Attempts"]').textContent(), '1');
  assert.match(await page.locator('[data-stat="First token"]').textContent(), /\d+ ms|\d\.\d+ s/);
  assert.match(await page.locator('[data-stat="Tokens"]').textContent(), /\d+ \+ \d+ = \d+/);

  // Stop cancels a running answer.
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.querySelector('.answer').textContent.length > 0);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Stopped.').waitFor();

  // The whole chain, entry by entry.
  await page.getByRole('button', { name: 'Test whole chain' }).click();
  const results = page.getByRole('table', { name: 'Entry results' });
  await results.waitFor();
  assert.equal(await results.locator('tbody tr').count(), 2);
  assert.match(await page.getByRole('heading', { name: 'Whole chain: fast' }).textContent(), /fast/);
});

test('dashboard numbers change after a request', async () => {
  await nav('Dashboard');
  const requests = page.locator('[data-card=requests] .value');
  await waitFor(async () => (await requests.textContent()) !== '–');
  const before = Number((await requests.textContent()).replace(/\D/g, ''));
  const response = await chat(server.url, 'fast');
  assert.equal(response.status, 200);
  await waitFor(async () => Number((await requests.textContent()).replace(/\D/g, '')) > before, 15000);
  assert.match(await page.locator('[data-card=tokens] .value').textContent(), /\d/);
  // The chart follows: it is drawn again when the number of requests changes.
  await waitFor(async () => (await page.locator('svg.chart rect').count()) > 0);
});

test('a cooldown shows a countdown on the dashboard', async () => {
  await go('/');
  // groq-demo allows four requests a minute; the default chain then waterfalls and groq-demo cools down.
  for (let i = 0; i < 8; i += 1) {
    const response = await chat(server.url, 'default');
    if (!response.headers.get('x-429chain-provider').startsWith('groq-demo')) break;
  }
  const countdown = page.locator('li.limit[data-provider="groq-demo"] .countdown');
  await countdown.waitFor();
  // "45s", "2m 05s", "1h 03m": seconds left.
  const seconds = (text) => [...text.matchAll(/(\d+)([dhms])/g)]
    .reduce((sum, [, n, unit]) => sum + Number(n) * { d: 86400, h: 3600, m: 60, s: 1 }[unit], 0);
  const first = seconds(await countdown.textContent());
  assert.ok(first > 0, `countdown ${first}`);
  await waitFor(async () => seconds(await countdown.textContent()) < first, first > 120 ? 65000 : 5000);
  assert.match(await page.locator('li.limit[data-provider="groq-demo"] .badge').textContent(), /cooling down/);

  // Reset forgets the cooldown: the countdown goes.
  await page.getByRole('button', { name: 'Reset the limits of groq-demo / llama-3.1-8b-instant' }).click();
  await countdown.waitFor({ state: 'detached' });
});

test('log filters narrow the rows; details and CSV export work', async () => {
  await nav('Log');
  const rows = page.getByRole('table', { name: 'Requests' }).locator('tbody tr');
  await rows.first().waitFor();
  const all = await rows.count();
  await page.getByLabel('Provider', { exact: true }).selectOption('cerebras-demo');
  await waitFor(async () => (await rows.count()) < all);
  const served = await page.getByRole('table', { name: 'Requests' }).locator('td[data-label="Provider"]').allTextContents();
  assert.ok(served.length > 0);
  for (const text of served) assert.match(text, /cerebras-demo/);
  assert.match(page.url(), /provider=cerebras-demo/);

  await rows.first().getByRole('button').click();
  const detail = page.getByRole('dialog');
  await detail.getByRole('heading', { name: /Attempts \(\d+\)/ }).waitFor();
  await detail.getByRole('button', { name: 'Close' }).click();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.match(lines[0], /^id,time_utc,chain,provider,model,status,attempts,/);
  assert.equal(lines.length - 1, served.length);
});

test('settings: generate a key, then revoke it', async () => {
  await nav('Settings');
  await page.getByRole('button', { name: 'Generate key' }).click();
  const fresh = await page.getByLabel('New API key', { exact: true }).inputValue();
  assert.match(fresh, /^sk-429chain-[A-Za-z0-9_-]{32}$/);
  assert.equal((await apiGet(server.url, '/v1/models', fresh)).status, 200);
  await page.getByRole('button', { name: 'Revoke key 2' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await waitFor(async () => (await apiGet(server.url, '/v1/models', fresh)).status === 401);
  // The key in use is marked, and its revoke asks with a warning.
  await page.getByText('this page', { exact: true }).waitFor();

  // The form comes from the config key table: every restart-only setting is marked (logRetentionDays too).
  for (const label of ['Port', 'Bind address', 'Log level', 'Request log database', 'Largest request body (bytes)', 'Keep the request log (days)']) {
    await page.locator('label', { hasText: label }).locator('.badge', { hasText: 'restart' }).first().waitFor();
  }
  assert.equal(await page.locator('label', { hasText: 'Default cooldown (ms)' }).locator('.badge').count(), 0);
  await page.getByLabel('Default cooldown (ms)', { exact: true }).fill('45000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/Settings saved/).waitFor();
  assert.equal((await apiGet(server.url, '/v1/admin/settings')).body.settings.cooldownDefaultMs, 45000);
});

test('every page works at phone width without console errors', async () => {
  const errors = [];
  const tour = await newPage(browser.context, errors);
  await signIn(tour, server.url);
  for (const width of [1280, 360]) {
    await tour.setViewportSize({ width, height: 740 });
    for (const name of ['Dashboard', 'Providers', 'Chains', 'Log', 'Test', 'Settings']) {
      await tour.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
      await pageReady(tour);
      const overflow = await tour.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name} is ${overflow}px wider than a ${width}px screen`);
    }
  }
  await tour.reload();
  await pageReady(tour);
  await tour.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(pageErrors.filter((e) => e.startsWith('page error')), []);
});

async function waitFor(check, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
