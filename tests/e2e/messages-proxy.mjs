// Starts the real binary for the Anthropic end-to-end tests over one upstream (see messages-upstream.mjs).
// Starts the real 429chain binary ($CHAIN_BINARY) on a free loopback port with a config whose one chain is
// served by `upstreamBaseUrl`, in its own temp folder (config, request log), and stops it.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROXY_KEY = 'e2e-proxy-key';

export async function startProxy(upstreamBaseUrl, binary = process.env.CHAIN_BINARY) {
  if (!binary) throw new Error('Set CHAIN_BINARY to the path of the 429chain executable');
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
  const child = spawn(binary, ['--headless', '-c', config, '-p', '0', '--host', '127.0.0.1'], {
    cwd: dir,
    env: { ...process.env, TMPDIR: dir, HOME: dir, LOG_FORMAT: 'pretty' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`429chain did not start in 20 s:\n${log}`)), 20000);
    const onData = (data) => {
      log += data.toString();
      const match = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\/v1/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`429chain exited with ${code} before listening:\n${log}`));
    });
  });
  return {
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      process.removeListener('exit', killChild);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 8000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
