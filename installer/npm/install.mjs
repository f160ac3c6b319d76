#!/usr/bin/env node
// npm install hook of the 429chain package. On Linux x86-64 npm has installed the portable build (the optional
// dependency @429chain/linux-x64): the hook checks that it runs here and is done, nothing compiled. Otherwise
// (another platform, npm skipped the optional dependency, a glibc older than the portable build needs, or
// CHAIN_BUILD_FROM_SOURCE=1) it builds the native 429chain binary (headless: server and web UI, no tray) from the
// packaged sources with CMake, into dist/429chain beside this package. When a build tool or a Qt development
// package is missing, it stops before compiling and prints the exact apt-get line to run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = path.join(root, 'build');
const dist = path.join(root, 'dist');

// Debian 12 / Ubuntu packages for the headless build (what scripts/lib/common.sh installs, minus the tray's).
// qt6-websockets-dev: Qt6HttpServer's CMake config needs it, and Debian 12's qt6-httpserver-dev does not pull it in.
const packages = ['build-essential', 'cmake', 'qt6-base-dev', 'qt6-httpserver-dev', 'qt6-websockets-dev',
    'libqt6sql6-sqlite', 'libyaml-cpp-dev'];
const aptLine = (names) => `sudo apt-get install ${names.join(' ')}`;

function say(text) {
    process.stderr.write(`429chain: ${text}\n`);
}

function has(command) {
    return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function stop(text) {
    say(text);
    process.exit(1);
}

if (fs.existsSync(path.join(root, '.git'))) {
    say('a development checkout: not building here (scripts/run builds and starts it).');
    process.exit(0);
}
// The portable build, if npm installed it and it starts here: then there is nothing to build.
function portableBuild() {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const name = Object.keys(manifest.optionalDependencies ?? {})[0];
    if (!name)
        return 'this package has no portable build (a source checkout packed without scripts/package --npm)';
    let dir;
    try {
        dir = path.dirname(createRequire(path.join(root, 'package.json')).resolve(`${name}/package.json`));
    } catch {
        return process.platform === 'linux' && process.arch === 'x64'
            ? `npm did not install ${name} (optional dependencies skipped, or not in the registry)`
            : `${name} is for Linux x86-64 only, this is ${process.platform}-${process.arch}`;
    }
    const program = path.join(dir, 'bin', '429chain');
    const r = spawnSync(program, ['--version'], { encoding: 'utf8' });
    const expected = `429chain ${manifest.version}`;
    if (r.status === 0 && r.stdout.trim() === expected) {
        say(`using the portable build in ${dir} (nothing to compile)`);
        process.exit(0);
    }
    return `the portable build in ${dir} does not run here:\n${(r.stderr || r.stdout || String(r.error)).trim()}`;
}

if (process.env.CHAIN_BUILD_FROM_SOURCE === '1')
    say('CHAIN_BUILD_FROM_SOURCE=1: building from source.');
else
    say(`${portableBuild()}\n429chain: so it is built from source.`);

if (process.platform !== 'linux')
    stop(`building on ${process.platform} is not supported by this package yet; see installer/README.md.`);

if (has('dpkg-query')) {
    const missing = packages.filter((name) => {
        const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
        return r.status !== 0 || !r.stdout.includes('install ok installed');
    });
    if (missing.length > 0)
        stop(`cannot build yet: missing ${missing.join(', ')}. Install ${missing.length === 1 ? 'it' : 'them'}, ` +
            `then run the same npm install again:\n\n    ${aptLine(missing)}\n`);
} else if (!has('cmake') || !has('c++')) {
    stop('cannot build: needs CMake 3.21+, a C++17 compiler, Qt 6.4+ (Core, Network, HttpServer, Sql with the ' +
        `SQLite driver) and yaml-cpp. On Debian or Ubuntu:\n\n    ${aptLine(packages)}\n`);
}

function run(args, what) {
    const r = spawnSync('cmake', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0)
        stop(`${what} failed (see above). The packages it needs, on Debian or Ubuntu:\n\n    ${aptLine(packages)}\n`);
}

const jobs = Number(process.env.CHAIN429_JOBS) || (os.availableParallelism?.() ?? os.cpus().length);
say(`building from source with CMake (${jobs} jobs; a few minutes)...`);
const generator = has('ninja') ? ['-G', 'Ninja'] : [];
run(['-S', root, '-B', buildDir, ...generator, '-DCMAKE_BUILD_TYPE=Release', '-DWITH_GUI=OFF',
    '-DBUILD_TESTING=OFF', '-DCHAIN_BENCH=OFF', '-Wno-dev'], 'configuring');
run(['--build', buildDir, '--target', '429chain', '--parallel', String(jobs)], 'building');

fs.mkdirSync(dist, { recursive: true });
fs.copyFileSync(path.join(buildDir, 'app', '429chain'), path.join(dist, '429chain'));
fs.chmodSync(path.join(dist, '429chain'), 0o755);
fs.rmSync(buildDir, { recursive: true, force: true });
say(`built ${path.join(dist, '429chain')}`);
