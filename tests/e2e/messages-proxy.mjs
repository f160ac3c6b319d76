// Starts the real binary for the Anthropic end-to-end tests over one upstream (see messages-upstream.mjs).
// Starts the real 429chain binary ($CHAIN_BINARY) on a free loopback port with a config whose one chain is
// served by `upstreamBaseUrl`, in its own temp folder (config, request log), and stops it.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launch } from '../support/launch.mjs';

export const PROXY_KEY = 'e2e-proxy-key';

export async function startProxy(upstreamBaseUrl, binary = process.env.CHAIN_BINARY) {
  const dir = mkdtempSync(join(tmpdir(), '429chain-e2e-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `version: 1
settings:
  apiKeys: ["${PROXY_KEY}"]
  defaultChain: default
  dbPath: ${join(dir, 'log.db')}
providers:
  - id: fake
    name: Fake upstream
    type: openai
    baseUrl: "${upstreamBaseUrl}"
    apiKey: "sk-fake"
chains:
  - name: default
    entries:
      - provider: fake
        model: fake-model
`);
  const proxy = await launch(binary, ['--headless', '-c', config, '-p', '0', '--host', '127.0.0.1'], dir,
    { HOME: dir });
  return { ...proxy, url: `http://127.0.0.1:${proxy.port}` };
}
