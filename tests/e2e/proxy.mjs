// Starts the real 429chain binary ($CHAIN_BINARY) headless on a free loopback port, with a config whose one
// chain "default" has an entry per upstream URL (in order), each of model "fake-model", and its own request log
// in a temp folder. Resolves once it prints its address.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launch } from '../support/launch.mjs';

const KEY = 'sk-e2e-test';

export async function startProxy(upstreams, binary = process.env.CHAIN_BINARY) {
  const dir = mkdtempSync(join(tmpdir(), '429chain-e2e-'));
  writeFileSync(join(dir, 'config.yaml'), `version: 1
settings:
  apiKeys: ["${KEY}"]
  defaultChain: default
  dbPath: "${join(dir, 'requests.db')}"
providers:
${upstreams.map((url, i) => `  - id: p${i}\n    name: P${i}\n    type: generic-openai\n    apiKey: "sk-p${i}"\n    baseUrl: "${url}"\n`).join('')}chains:
  - name: default
    entries:
${upstreams.map((_, i) => `      - provider: p${i}\n        model: fake-model\n`).join('')}`);
  const proxy = await launch(binary, ['--headless', '-c', join(dir, 'config.yaml'), '-p', '0', '--host', '127.0.0.1'],
    dir, { QT_QPA_PLATFORM: 'offscreen' });
  return { key: KEY, url: `http://127.0.0.1:${proxy.port}/v1`, log: proxy.log, stop: proxy.stop };
}
