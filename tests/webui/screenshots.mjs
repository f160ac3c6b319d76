// Saves a PNG of every page of the web UI at desktop (1280x800) and phone (360x740) width into the folder
// given (scripts/screenshots passes screenshots/). Sends a few requests first so the pages have data.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chat, launchBrowser, newPage, pageReady, signIn, startServer } from './harness.mjs';

const out = process.argv[2] || 'screenshots';
const PAGES = [['dashboard', '/'], ['providers', '/providers'], ['chains', '/chains'], ['log', '/log'], ['test', '/test'], ['settings', '/settings']];
const SIZES = [['desktop', 1280, 800], ['phone', 360, 740]];

mkdirSync(out, { recursive: true });
const server = await startServer();
const browser = await launchBrowser();
const errors = [];
try {
  // Six requests: groq-demo allows four a minute, so the last ones waterfall and a cooldown shows.
  for (let i = 0; i < 6; i += 1) await chat(server.url);
  const page = await newPage(browser.context, errors);
  await signIn(page, server.url);
  for (const [size, width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    for (const [name, path] of PAGES) {
      await page.goto(`${server.url}${path}`);
      await pageReady(page);
      if (name === 'test') {
        await page.getByRole('button', { name: 'Send' }).click();
        await page.getByText('Done.').waitFor({ timeout: 20000 });
      }
      const file = join(out, `${name}-${size}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`saved ${file}`);
    }
  }
  await page.evaluate(() => sessionStorage.clear());
  for (const [size, width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').waitFor();
    const file = join(out, `signin-${size}.png`);
    await page.screenshot({ path: file });
    console.log(`saved ${file}`);
  }
} finally {
  await browser.close();
  await server.stop();
}
const real = errors.filter((e) => !e.includes('/v1/ratelimits'));
if (real.length) {
  console.error(`console errors:\n${real.join('\n')}`);
  process.exitCode = 1;
}
