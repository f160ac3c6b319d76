#!/usr/bin/env node
// The `429chain` command of the npm package: runs the native binary built at install time with the same
// arguments and standard streams, passes signals on and exits with its exit code.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = path.join(root, 'dist', '429chain');

if (!fs.existsSync(binary)) {
    process.stderr.write('429chain: the native binary was not built when this package was installed (the reason ' +
        'was printed then). Install what it asked for, then: npm rebuild -g 429chain\n');
    process.exit(1);
}

// Its own process group: a Ctrl-C in the terminal reaches only this launcher, which passes it on once (429chain
// treats a second signal as "exit now").
const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', detached: true });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
    process.stderr.write(`429chain: cannot run ${binary}: ${error.message}\n`);
    process.exit(1);
});
child.on('exit', (code, signal) => {
    if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
});
