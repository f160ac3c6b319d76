#!/usr/bin/env node
// A stand-in for the npm registry, on loopback, for scripts/check-npm: serves the packages given (npm tarballs)
// the way registry.npmjs.org does (a packument at /<name>, the tarball under /-/), nothing else, and logs every
// request. Nothing is published from here.
//
//   node scripts/lib/npm-registry.mjs PORTFILE LOGFILE PACKAGE.tgz...
// Listens on 127.0.0.1 on a free port and writes the port to PORTFILE.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [portFile, logFile, ...tarballs] = process.argv.slice(2);
const packages = new Map(); // name -> { manifest, file, bytes }
for (const file of tarballs) {
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }));
    const bytes = fs.readFileSync(file);
    packages.set(manifest.name, { manifest, file: path.basename(file), bytes });
}

const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    fs.appendFileSync(logFile, `${req.method} ${url}\n`);
    const base = `http://${req.headers.host}`;
    const tarball = url.match(/^\/-\/(.+\.tgz)$/);
    if (tarball) {
        const pkg = [...packages.values()].find((p) => p.file === tarball[1]);
        if (pkg) {
            res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': pkg.bytes.length });
            return res.end(pkg.bytes);
        }
    }
    const pkg = packages.get(url.slice(1));
    if (pkg) {
        const { manifest, file, bytes } = pkg;
        const version = {
            ...manifest,
            _id: `${manifest.name}@${manifest.version}`,
            dist: {
                tarball: `${base}/-/${file}`,
                shasum: crypto.createHash('sha1').update(bytes).digest('hex'),
                integrity: `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`,
            },
        };
        const body = JSON.stringify({
            _id: manifest.name,
            name: manifest.name,
            'dist-tags': { latest: manifest.version },
            versions: { [manifest.version]: version },
        });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(body);
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":"not found"}');
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, `${server.address().port}\n`));
for (const signal of ['SIGTERM', 'SIGINT'])
    process.on(signal, () => server.close(() => process.exit(0)));
