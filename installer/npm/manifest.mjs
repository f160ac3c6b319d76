#!/usr/bin/env node
// Writes the package.json of a published npm package, derived from the source tree's package.json (one source
// for the name, version and description): scripts/package --npm runs it.
//
//   node installer/npm/manifest.mjs platform|main SOURCE/package.json > package.json
//
// platform: @429chain/linux-x64, the portable Linux x86-64 tree (bin/, libexec/, lib/, plugins/), installed by
//           npm only where os and cpu match.
// main:     429chain itself: the sources (for the build-from-source fallback) and the platform package as an
//           optional dependency of the exact same version. Development-only fields are dropped.
import fs from 'node:fs';

const platformPackage = '@429chain/linux-x64';

const [kind, source] = process.argv.slice(2);
if (!['platform', 'main'].includes(kind) || !source) {
    process.stderr.write('usage: manifest.mjs platform|main SOURCE/package.json\n');
    process.exit(2);
}
const pkg = JSON.parse(fs.readFileSync(source, 'utf8'));
let out;
if (kind === 'platform') {
    out = {
        name: platformPackage,
        version: pkg.version,
        description: `The portable Linux x86-64 build of ${pkg.name} (glibc-based systems): the program, its ` +
            'libraries and Qt plugins. Installed by the 429chain package; not meant to be installed on its own.',
        keywords: pkg.keywords,
        os: ['linux'],
        cpu: ['x64'],
        files: ['bin/', 'libexec/', 'lib/', 'plugins/', '429chain.service', 'README.md'],
        preferUnplugged: true,
    };
} else {
    out = { ...pkg };
    delete out.devDependencies;
    out.scripts = { install: pkg.scripts.install };
    out.optionalDependencies = { [platformPackage]: pkg.version };
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
