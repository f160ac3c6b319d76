// Starts the real 429chain binary for the node tests (browser, SDKs, CLIs): `args` in `dir` (its cwd and
// TMPDIR; removed by stop()), resolving once it prints the address it listens on. Never left behind, even
// when the test run is cut short.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

export async function launch(binary, args, dir, env = {}) {
  if (!binary) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('Set CHAIN_BINARY to the path of the 429chain executable');
  }
  const child = spawn(binary, args, {
    cwd: dir,
    env: { ...process.env, TMPDIR: dir, LOG_FORMAT: 'pretty', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`429chain did not start in 20 s:\n${log}`)), 20000);
    // Stays attached: log() has everything the program printed.
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
    log: () => log,
    async stop() {
      process.removeListener('exit', killChild);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // unref: the timer must not keep node alive once the program has exited.
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 8000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
