// Shared by the browser tests and scripts/screenshots: starts the real 429chain binary in demo mode on a free
// loopback port (simulated providers, no internet), and Debian's /usr/bin/chromium through playwright-core
// (never a downloaded browser), with a fresh profile.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { launch } from '../support/launch.mjs';

export const DEMO_KEY = 'sk-429chain-demo';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Starts `binary --demo -p 0` in its own temp dir (its request log goes to $TMPDIR/429chain-demo, so runs do
// not share one) and resolves once it prints its address.
export async function startServer(binary = process.env.CHAIN_BINARY) {
  const dir = mkdtempSync(join(tmpdir(), '429chain-webui-'));
  const server = await launch(binary, ['--demo', '-p', '0'], dir);
  return { ...server, url: `http://127.0.0.1:${server.port}` };
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), '429chain-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A new page that records console errors and uncaught exceptions into `errors`.
export async function newPage(context, errors = []) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url || page.url()})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message} (${page.url()})`));
  return page;
}

// Waits until the page in <main> has its heading and nothing says "Loading…" (the live event feed keeps a
// request open, so the network is never idle).
export async function pageReady(page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main').textContent.includes('Loading…'));
  await page.waitForTimeout(300);
}

export async function signIn(page, baseUrl, key = DEMO_KEY) {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#shell').waitFor({ state: 'visible' });
}

// JSON from the API with the demo key (for checks behind the UI's back).
export async function apiGet(baseUrl, path, key = DEMO_KEY) {
  const response = await fetch(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: response.status, headers: response.headers, body: await response.json().catch(() => null) };
}

export async function chat(baseUrl, model = 'default', key = DEMO_KEY) {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  await response.text();
  return response;
}
