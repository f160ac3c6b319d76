// Starts the real 429chain binary ($CHAIN_BINARY) headless on a free loopback port, with a config whose one
// chain "default" has an entry per upstream URL (in order), each of model "fake-model", and its own request log
// in a temp folder. Resolves once it prints its address.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = 'sk-e2e-test';

export async function startProxy(upstreams, binary = process.env.CHAIN_BINARY) {
  if (!binary) throw new Error('Set CHAIN_BINARY to the path of the 429chain executable');
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
  const child = spawn(binary, ['--headless', '-c', join(dir, 'config.yaml'), '-p', '0', '--host', '127.0.0.1'], {
    cwd: dir,
    env: { ...process.env, TMPDIR: dir, LOG_FORMAT: 'pretty', QT_QPA_PLATFORM: 'offscreen' },
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
    key: KEY,
    url: `http://127.0.0.1:${port}/v1`,
    log: () => log,
    async stop() {
      process.removeListener('exit', killChild);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 8000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
