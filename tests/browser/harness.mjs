/*
 * The browser suite's harness: the real stack (scripts/serve: nginx + fileshare-fcgi workers)
 * on a free loopback port with a temporary VAR_DIR, started the way tests/integration/
 * conftest.py does it; a small target web site on another loopback address (the app refuses
 * links to its own host, whatever the port); and Debian's Chromium driven by playwright-core
 * (never a downloaded browser).
 *
 * Environment: BUILD_DIR (default <repo>/build) picks the binaries; FS_BROWSER_PIDS, when set,
 * names a file that gets the process id of every scripts/serve started, so the calling shell
 * can stop them even if this process is killed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD_DIR = process.env.BUILD_DIR || path.join(ROOT, 'build');
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/* playwright-core lives with the other test helpers in tests/node. */
const requireFromNode = createRequire(path.join(ROOT, 'tests', 'node', 'package.json'));
export const { chromium } = requireFromNode('playwright-core');

const live = new Set();	/* stacks still running, stopped on any exit */

export function freePort(host = '127.0.0.1') {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, host, () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(url, timeout = 2000) {
	return new Promise((resolve, reject) => {
		const req = http.get(url, { timeout }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

export class Stack {
	constructor(name, env = {}) {
		this.name = name;
		this.tmp = mkdtempSync(path.join(os.tmpdir(), `fs-browser-${name}-`));
		this.varDir = path.join(this.tmp, 'var');
		this.logPath = path.join(this.tmp, 'serve.log');
		this.extraEnv = env;
		this.proc = null;
	}

	get sqlitePath() {
		return path.join(this.varDir, 'fileshare.db');
	}

	async start(timeoutMs = 20000) {
		this.port = await freePort();
		this.base = `http://127.0.0.1:${this.port}`;
		const env = {
			...process.env,
			PORT: String(this.port),
			VAR_DIR: this.varDir,
			BUILD_DIR,
			WORKERS: '2',
			FCGI_MODE: 'prefork',
			AUTH_RATE: '1000r/s',
			AUTH_BURST: '1000',
			PURGE_INTERVAL: '0',
			ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=0',
			...this.extraEnv,
		};
		const fd = openSync(this.logPath, 'a');
		this.proc = spawn(path.join(ROOT, 'scripts', 'serve'), [], {
			env, stdio: ['ignore', fd, fd], detached: true,
		});
		closeSync(fd);
		this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
		live.add(this);
		if (process.env.FS_BROWSER_PIDS)
			appendFileSync(process.env.FS_BROWSER_PIDS, `${this.proc.pid}\n`);
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.proc.exitCode !== null)
				throw new Error(`scripts/serve exited early:\n${this.log().slice(-3000)}`);
			try {
				if (await get(`${this.base}/healthz`) === 200)
					return this;
			} catch (e) {
				/* not up yet */
			}
			await sleep(50);
		}
		throw new Error(`stack ${this.name} did not become healthy:\n${this.log().slice(-3000)}`);
	}

	log() {
		try {
			return readFileSync(this.logPath, 'utf8');
		} catch (e) {
			return '';
		}
	}

	/* Sanitizer reports in the workers' output (an ASan build). */
	sanitizerReports() {
		return this.log().split('\n').filter((l) =>
			/ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/.test(l));
	}

	/* SIGTERM to scripts/serve (it stops nginx and the workers), SIGKILL to the group after 15 s. */
	async stop({ keepLogAs } = {}) {
		if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
			try {
				this.proc.kill('SIGTERM');
			} catch (e) {
				/* already gone */
			}
			const done = await Promise.race([this.exited.then(() => true), sleep(15000).then(() => false)]);
			if (!done) {
				try {
					process.kill(-this.proc.pid, 'SIGKILL');
				} catch (e) {
					/* already gone */
				}
				await this.exited;
			}
		}
		live.delete(this);
		if (keepLogAs) {
			mkdirSync(ARTIFACTS, { recursive: true });
			appendFileSync(path.join(ARTIFACTS, keepLogAs), this.log());
		}
		rmSync(this.tmp, { recursive: true, force: true });
	}

	/* Runs SQL on the stack's SQLite file (the sqlite3 command-line shell). */
	sql(statement) {
		const r = spawnSync('sqlite3', ['-bail', '-cmd', '.timeout 5000', this.sqlitePath, statement],
		    { encoding: 'utf8' });
		if (r.status !== 0)
			throw new Error(`sqlite3 failed: ${r.stderr}`);
		return r.stdout.trim();
	}
}

/* Last resort: a stack left running when the process ends for any reason is killed. */
function killAll() {
	for (const s of live) {
		try {
			process.kill(-s.proc.pid, 'SIGKILL');
		} catch (e) {
			/* already gone */
		}
	}
	live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		killAll();
		process.exit(130);
	});
}

/*
 * A target web site on 127.0.0.2 (its own host, so the app accepts links to it). Every page is
 * a small HTML page titled "Landing page" that shows its path; hits are recorded.
 */
export async function startTarget() {
	const hits = [];
	const server = http.createServer((req, res) => {
		hits.push(req.url);
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
		res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Landing page</title></head>' +
		    '<body><h1 id="landed">You have arrived</h1></body></html>');
	});
	const host = '127.0.0.2';
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, host, resolve);
	});
	return {
		base: `http://${host}:${server.address().port}`,
		hits,
		close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
	};
}

/*
 * Chromium, headless, with a fresh profile directory: launchPersistentContext is how
 * playwright takes --user-data-dir.
 */
export async function launchBrowser(options = {}) {
	const profile = mkdtempSync(path.join(os.tmpdir(), 'fs-browser-profile-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update', '--disable-sync',
		    '--disable-dev-shm-usage'],
		acceptDownloads: true,
		viewport: { width: 1440, height: 900 },
		...options,
	});
	return {
		context,
		async close() {
			await context.close().catch(() => {});
			rmSync(profile, { recursive: true, force: true });
		},
	};
}

/* Decodes the QR code in a PNG with Debian's zbarimg; null if it finds none. */
export function decodeQr(pngPath) {
	const r = spawnSync('zbarimg', ['--quiet', '--raw', pngPath], { encoding: 'utf8' });
	return r.status === 0 ? r.stdout.trim() : null;
}
