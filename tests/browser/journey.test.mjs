/*
 * The web UI, end to end, in Debian's Chromium against the real stack (nginx + workers on
 * loopback, SQLite, local blobs). One person's whole journey, in order: the tests share the
 * browser and the account, each picking up where the last one left off.
 *
 * Run by tests/suites/50-browser.sh (node:test). Screenshots go to tests/artifacts/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { ARTIFACTS, ROOT, Stack, decodeQr, launchBrowser, startTarget } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';
const TRIAL_BUTTON = 'Try Premium - Free for 30 days';
const T = { timeout: 60000 };

let stack, target, browser, context, page;
let failed = false;
const pageErrors = [];		/* uncaught exceptions in the UI */
const cspViolations = [];	/* Content-Security-Policy reports from the UI's pages */
const email = `walker-${randomBytes(4).toString('hex')}@example.com`;
const freeEmail = `free-${randomBytes(4).toString('hex')}@example.com`;
const made = {};		/* what earlier steps created, for later ones */

function shot(name) {
	mkdirSync(ARTIFACTS, { recursive: true });
	return path.join(ARTIFACTS, name);
}

/* A test that records failure, so the stack's log is kept for the post-mortem. */
function step(name, fn, options = {}) {
	test(name, { ...T, ...options }, async (t) => {
		try {
			await fn(t);
		} catch (e) {
			if (!options.todo)
				failed = true;
			await page?.screenshot({ path: shot(`failure-${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true })
			    .catch(() => {});
			throw e;
		}
	});
}

/* Listens on a page for what must never happen: script errors and CSP violations. */
function watch(p) {
	p.on('pageerror', (e) => pageErrors.push(String(e)));
	p.on('console', (m) => {
		if (/Content Security Policy|Trusted Type/i.test(m.text()))
			cspViolations.push(m.text());
	});
	return p;
}

/* A second tab, as someone who was sent a short link; closing it brings the dashboard back
 * to the front (a background tab gets no animation frames, which slows every click). */
async function visitorPage({ watched = true, width } = {}) {
	const p = await context.newPage();
	if (watched)
		watch(p);
	if (width)
		await p.setViewportSize({ width, height: 800 });
	const close = p.close.bind(p);
	p.close = async () => {
		await close();
		await page.bringToFront();
	};
	return p;
}

const linkItem = (code) => page.locator(`#links li.link[data-code="${code}"]`);

async function apiJson(method, urlPath, data) {
	const r = await context.request.fetch(stack.base + urlPath, {
		method, data, headers: { Origin: stack.base }, failOnStatusCode: false,
	});
	return { status: r.status(), json: r.status() === 204 ? null : await r.json().catch(() => null) };
}

async function signUp(addr) {
	await page.getByRole('heading', { name: 'Create an account' }).waitFor();
	const form = page.locator('#signup-form');
	await form.getByLabel('Email').fill(addr);
	await form.getByLabel('Password').fill(PASSWORD);
	await form.getByRole('button', { name: 'Create account' }).click();
	await page.locator('#dash-view').waitFor();
}

async function signOut() {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.locator('#auth-view').waitFor();
}

before(async () => {
	/* Free files up to 1 MiB, so the over-the-limit upload stays small and quick. */
	stack = await new Stack('ui', { FREE_MAX_FILE_SIZE: '1M' }).start();
	target = await startTarget();
	browser = await launchBrowser({ permissions: ['clipboard-read', 'clipboard-write'] });
	context = browser.context;
	page = watch(context.pages()[0] || await context.newPage());
});

after(async () => {
	await browser?.close();
	await target?.close();
	const reports = stack ? stack.sanitizerReports() : [];
	await stack?.stop({ keepLogAs: failed || reports.length ? 'browser-serve.log' : undefined });
	assert.deepEqual(reports, [], 'sanitizer reports in the workers');
});

/* --- what the server sends -------------------------------------------------------------- */

step('asset URLs carry their content hash; the page has no inline code or styles', async () => {
	const r = spawnSync('python3', [path.join(ROOT, 'tests/browser/stamp_assets.py'), '--check'], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	const html = readFileSync(path.join(ROOT, 'web/index.html'), 'utf8');
	assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
	assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'inline style or event handler');
	const js = readFileSync(path.join(ROOT, 'web/static/app.js'), 'utf8');
	assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
});

step('nginx: strict CSP on the UI, long-lived versioned assets, revalidated index', async () => {
	const home = await context.request.get(stack.base + '/');
	assert.equal(home.status(), 200);
	const csp = home.headers()['content-security-policy'];
	assert.match(csp, /script-src 'self'/);
	assert.match(csp, /style-src 'self'/);
	assert.match(csp, /require-trusted-types-for 'script'/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
	assert.equal(home.headers()['cache-control'], 'no-cache');
	const html = await home.text();
	for (const m of html.matchAll(/\/static\/[a-z.]+\?v=[0-9a-f]{12}/g)) {
		const a = await context.request.get(stack.base + m[0]);
		assert.equal(a.status(), 200, m[0]);
		assert.equal(a.headers()['cache-control'], 'public, max-age=31536000, immutable', m[0]);
	}
	const plain = await context.request.get(stack.base + '/static/style.css');
	assert.equal(plain.headers()['cache-control'], 'no-cache');
	assert.ok(plain.headers().etag);
});

/* --- signing up --------------------------------------------------------------------------- */

step('sign up: clear errors for a bad email and a short password, then an account', async () => {
	await page.goto(stack.base + '/');
	await page.getByRole('heading', { name: 'Create an account' }).waitFor();
	await page.screenshot({ path: shot('signin-1440.png'), fullPage: true });
	const form = page.locator('#signup-form');
	const err = page.locator('#signup-error');

	await form.getByLabel('Email').fill('not-an-email');
	await form.getByLabel('Password').fill(PASSWORD);
	await form.getByRole('button', { name: 'Create account' }).click();
	await assertText(err, /Enter a valid email address/);
	assert.equal(await form.getByLabel('Email').getAttribute('aria-invalid'), 'true');

	await form.getByLabel('Email').fill(email);
	await form.getByLabel('Password').fill('short');
	await form.getByRole('button', { name: 'Create account' }).click();
	await assertText(err, /at least 10 characters/);

	await form.getByLabel('Password').fill(PASSWORD);
	await form.getByRole('button', { name: 'Create account' }).click();
	await page.locator('#dash-view').waitFor();
	await assertText(page.locator('#acct-email'), email);
	await assertText(page.locator('#acct-tier'), 'Free');
	await assertText(page.locator('#links-empty'), /No links yet/);
});

async function assertText(locator, expected) {
	await locator.waitFor();
	const deadline = Date.now() + 5000;
	let text;
	while (Date.now() < deadline) {
		text = (await locator.textContent()) ?? '';
		if (expected instanceof RegExp ? expected.test(text) : text === expected)
			return text;
		await new Promise((r) => setTimeout(r, 50));
	}
	assert.fail(`expected ${expected} in ${await locator.evaluate((e) => e.id || e.className)}, got ${JSON.stringify(text)}`);
}

step('free plan: custom link and password are disabled, with a hint', async () => {
	for (const [label, hint] of [['Custom link', '#slug-hint'], ['Password', '#password-hint']]) {
		const input = page.locator('#shorten-form').getByLabel(label, { exact: false });
		assert.equal(await input.isDisabled(), true, label);
		await assertText(page.locator(hint), /Premium feature: start your free trial/);
	}
	await assertText(page.locator('#expiry-hint'), /up to 7 days/);
	const options = await page.locator('#shorten-expiry option').allTextContents();
	assert.deepEqual(options, ['1 hour', '1 day', '7 days']);
});

/* --- the trial ---------------------------------------------------------------------------- */

step('trial: the button shows exactly when it can start; after starting, days left', async () => {
	const button = page.getByRole('button', { name: TRIAL_BUTTON, exact: true });
	await button.waitFor();
	assert.equal(await button.textContent(), TRIAL_BUTTON);
	await button.click();
	await assertText(page.locator('#trial-status'), 'Premium trial: 30 days left');
	assert.equal(await page.getByRole('button', { name: TRIAL_BUTTON }).count(), 0);
	await assertText(page.locator('#acct-tier'), 'Premium trial');
	assert.equal(await page.locator('#shorten-slug').isDisabled(), false);
	assert.equal(await page.locator('#shorten-password').isDisabled(), false);
	const options = await page.locator('#shorten-expiry option').allTextContents();
	assert.ok(options.includes('1 year'), options.join());

	/* After a reload too: the state comes from GET /api/me, not from the page. */
	await page.reload();
	await assertText(page.locator('#trial-status'), 'Premium trial: 30 days left');
	assert.equal(await page.getByRole('button', { name: TRIAL_BUTTON }).count(), 0);
});

/* --- links -------------------------------------------------------------------------------- */

async function shorten(url, { slug, password, clicks, expiry } = {}) {
	const form = page.locator('#shorten-form');
	await form.getByLabel('Long web address').fill(url);
	if (expiry)
		await form.getByLabel('Expires after').selectOption({ label: expiry });
	await form.getByLabel('Max clicks').fill(clicks ? String(clicks) : '');
	if (slug)
		await form.getByLabel('Custom link', { exact: false }).fill(slug);
	if (password)
		await form.getByLabel('Password', { exact: false }).fill(password);
	const created = page.waitForResponse((r) => r.url() === stack.base + '/api/links' && r.request().method() === 'POST');
	await form.getByRole('button', { name: 'Shorten' }).click();
	const res = await created;
	assert.equal(res.status(), 201, await res.text());
	const link = await res.json();
	await linkItem(link.short_code).waitFor();
	return link;
}

step('shorten a URL with a custom link; the short link opens the target in the browser', async () => {
	const slug = 'walk-' + randomBytes(3).toString('hex');
	await page.locator('#shorten-slug').fill(slug);
	await assertText(page.locator('#slug-hint'), new RegExp(`^Your link will be 127\\.0\\.0\\.1:${stack.port}/${slug}\\.`));
	const link = await shorten(`${target.base}/landing?from=ui`, { slug, expiry: '30 days' });
	made.url = link;
	assert.equal(link.short_url, `${stack.base}/${slug}`);
	await assertText(page.locator('#shorten-result-link'), `127.0.0.1:${stack.port}/${slug}`);
	const item = linkItem(slug);
	await assertText(item.locator('.short-url'), `127.0.0.1:${stack.port}/${slug}`);
	await assertText(item.locator('.target-text'), `${target.base}/landing?from=ui`);
	await assertText(item.locator('.clicks'), '0 clicks');
	await assertText(item.locator('.expiry'), /^Expires /);

	const visitor = await visitorPage();
	await visitor.goto(link.short_url);
	assert.equal(visitor.url(), `${target.base}/landing?from=ui`);
	await assertText(visitor.locator('#landed'), 'You have arrived');
	assert.ok(target.hits.includes('/landing?from=ui'));
	await visitor.close();

	await page.getByRole('button', { name: 'Refresh' }).click();
	await assertText(linkItem(slug).locator('.clicks'), '1 click');
});

step('copy button puts the short URL on the clipboard', async () => {
	const item = linkItem(made.url.short_code);
	await item.getByRole('button', { name: /^Copy / }).click();
	await assertText(item.getByRole('button', { name: /^Copy / }), 'Copied');
	assert.equal(await page.evaluate(() => navigator.clipboard.readText()), made.url.short_url);
});

step('every link has a QR code that scans to its short URL', async () => {
	const item = linkItem(made.url.short_code);
	const thumb = item.locator('.qr-thumb img');
	await thumb.scrollIntoViewIfNeeded();
	await page.waitForFunction((code) => {
		const img = document.querySelector(`li[data-code="${code}"] .qr-thumb img`);
		return img && img.complete && img.naturalWidth > 0;
	}, made.url.short_code);
	await item.getByRole('button', { name: /Show the QR code/ }).click();
	const dialog = page.getByRole('dialog');
	await dialog.waitFor();
	await page.waitForFunction(() => document.getElementById('qr-image').complete &&
	    document.getElementById('qr-image').naturalWidth > 0);
	await assertText(page.locator('#qr-url'), made.url.short_url);
	await page.screenshot({ path: shot('qr-dialog-1440.png') });
	const png = shot('qr-dialog.png');
	await page.locator('#qr-image').screenshot({ path: png });
	assert.equal(decodeQr(png), made.url.short_url, 'the QR code decodes to the short URL');

	/* Escape closes it and gives focus back to the QR button. */
	await page.keyboard.press('Escape');
	await dialog.waitFor({ state: 'hidden' });
	assert.equal(await page.evaluate(() => document.activeElement.className), 'qr-thumb');

	/* The SVG itself: the caller's own link only, private cache. */
	const r = await context.request.get(`${stack.base}/api/links/${made.url.short_code}/qr.svg`);
	assert.equal(r.status(), 200);
	assert.equal(r.headers()['content-type'], 'image/svg+xml');
	assert.match(r.headers()['cache-control'], /private/);
});

step('a password-protected link: the visitor page asks for it and refuses a wrong one', async () => {
	const link = await shorten(`${target.base}/secret`, { password: 'open sesame' });
	made.protected = link;
	const item = linkItem(link.short_code);
	await assertText(item.locator('.badge'), 'Password');
	const visitor = await visitorPage({ width: 375 });
	await visitor.goto(link.short_url);
	await visitor.getByRole('heading', { name: 'This link is protected' }).waitFor();
	await visitor.screenshot({ path: shot('visitor-password-375.png'), fullPage: true });
	await visitor.getByLabel('Password').fill('wrong');
	await visitor.getByRole('button', { name: 'Open link' }).click();
	await assertText(visitor.locator('p.error'), /Wrong password/);
	await visitor.screenshot({ path: shot('visitor-wrong-password-375.png'), fullPage: true });
	await visitor.close();
	assert.ok(!target.hits.includes('/secret'));
});

/* Chromium applies the page's form-action to the redirect that answers the form, so the
 * password page allows http: and https: targets there (src/pages.c). */
step('a password-protected link: the right password opens the target', async () => {
	const visitor = await visitorPage();
	await visitor.goto(made.protected.short_url);
	await visitor.getByLabel('Password').fill('open sesame');
	await visitor.getByRole('button', { name: 'Open link' }).click();
	try {
		await visitor.waitForURL(`${target.base}/secret`, { timeout: 5000 });
	} finally {
		await visitor.close();
	}
});

step('max clicks: after its last click a link shows the expired page (410)', async () => {
	const link = await shorten(`${target.base}/once`, { clicks: 1 });
	await assertText(linkItem(link.short_code).locator('.clicks'), '0 of 1 click');
	const visitor = await visitorPage();
	await visitor.goto(link.short_url);
	assert.equal(visitor.url(), `${target.base}/once`);
	const again = await visitor.goto(link.short_url);
	assert.equal(again.status(), 410);
	await visitor.getByRole('heading', { name: 'This link has expired' }).waitFor();
	await visitor.screenshot({ path: shot('visitor-expired-1440.png'), fullPage: true });
	await visitor.close();
	await page.getByRole('button', { name: 'Refresh' }).click();
	await assertText(linkItem(link.short_code).locator('.expiry'), 'Click limit reached');
});

/* --- uploads ------------------------------------------------------------------------------ */

async function uploadedLink(name) {
	const li = page.locator('#uploads li.upload', { has: page.locator('.name', { hasText: name }) }).first();
	await li.locator('.upload-status a.short-url').waitFor({ timeout: 30000 });
	assert.equal(await li.locator('progress').evaluate((p) => p.value), 1);
	const href = await li.locator('.upload-status a.short-url').getAttribute('href');
	return { li, href };
}

async function download(url) {
	const r = await context.request.get(url);
	assert.equal(r.status(), 200, url);
	return r.body();
}

step('upload several files with the picker: progress bars, links, byte-exact downloads', async () => {
	const files = [
		{ name: 'report.pdf', mimeType: 'application/pdf', buffer: randomBytes(700 * 1024) },
		{ name: 'notes ünïcode.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n'.repeat(5000)) },
	];
	/* A slow uplink, so the progress bars can be seen moving. */
	const cdp = await context.newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions',
	    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
	await page.locator('#file-input').setInputFiles(files);
	await page.waitForFunction(() => [...document.querySelectorAll('#uploads progress')]
	    .some((p) => p.value > 0.05 && p.value < 0.95), null, { timeout: 10000 });
	await page.locator('#uploads').screenshot({ path: shot('uploads-in-progress-1440.png') });
	made.files = [];
	for (const f of files) {
		const { href } = await uploadedLink(f.name);
		const body = await download(href);
		assert.ok(body.equals(f.buffer), `${f.name}: downloaded bytes differ`);
		const code = href.split('/').pop();
		made.files.push({ code, ...f });
		await assertText(linkItem(code).locator('.target-text'), f.name);
	}
	await cdp.send('Network.emulateNetworkConditions',
	    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	await cdp.detach();
	await page.locator('#uploads').screenshot({ path: shot('uploads-1440.png') });

	/* A real browser download of the first one, through the short link. */
	const visitor = await visitorPage();
	const [dl] = await Promise.all([
		visitor.waitForEvent('download'),
		visitor.goto(`${stack.base}/${made.files[0].code}`).catch(() => {}),
	]);
	assert.equal(dl.suggestedFilename(), 'report.pdf');
	assert.ok(readFileSync(await dl.path()).equals(files[0].buffer), 'browser download differs');
	await visitor.close();
});

step('upload by dropping a file on the drop zone', async () => {
	const bytes = randomBytes(300 * 1024);
	const dt = await page.evaluateHandle(({ b64 }) => {
		const bin = atob(b64);
		const data = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			data[i] = bin.charCodeAt(i);
		const t = new DataTransfer();
		t.items.add(new File([data], 'dropped photo.jpg', { type: 'image/jpeg' }));
		return t;
	}, { b64: bytes.toString('base64') });
	await page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: dt });
	assert.match(await page.locator('#dropzone').getAttribute('class'), /dragging/);
	await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dt });
	assert.doesNotMatch(await page.locator('#dropzone').getAttribute('class'), /dragging/);
	const { href } = await uploadedLink('dropped photo.jpg');
	assert.ok((await download(href)).equals(bytes), 'dropped file: downloaded bytes differ');
	made.dropped = href.split('/').pop();
});

/* --- hostile values ----------------------------------------------------------------------- */

step('XSS: a URL with <script> and a file named <img onerror> are shown as text, never run', async () => {
	await page.evaluate(() => { window.__xss = 0; });
	const evilUrl = `${target.base}/x?q=<script>window.__xss=1</script>`;
	const link = await shorten(evilUrl);
	await assertText(linkItem(link.short_code).locator('.target-text'), evilUrl);

	const evilName = '<img src=x onerror="window.__xss=2">.txt';
	await page.locator('#file-input').setInputFiles([{ name: evilName, mimeType: 'text/plain', buffer: Buffer.from('boo') }]);
	const { href } = await uploadedLink(evilName);
	const code = href.split('/').pop();
	await assertText(linkItem(code).locator('.target-text'), evilName);

	assert.equal(await page.evaluate(() => window.__xss), 0, 'injected code ran');
	/* Reloaded from the API too, not only as typed. */
	await page.reload();
	await linkItem(code).waitFor();
	await assertText(linkItem(link.short_code).locator('.target-text'), evilUrl);
	await assertText(linkItem(code).locator('.target-text'), evilName);
	await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
	assert.equal(await page.evaluate(() => window.__xss), undefined, 'injected code ran');
	assert.equal(await page.locator('#links script, #uploads script').count(), 0);
	assert.equal(await page.locator('#links img:not(.qr-thumb img)').count(), 0);
	made.evil = [link.short_code, code];
});

/* --- paging and deleting ------------------------------------------------------------------ */

step('the list pages with next_cursor ("Show more links")', async () => {
	for (let i = 0; i < 16; i++) {
		const r = await apiJson('POST', '/api/links', { url: `${target.base}/bulk/${i}` });
		assert.equal(r.status, 201, JSON.stringify(r.json));
	}
	await page.reload();
	await page.locator('#links li.link').first().waitFor();
	const total = (await apiJson('GET', '/api/links?limit=100')).json.links.length;
	assert.ok(total > 20, `only ${total} links`);
	assert.equal(await page.locator('#links li.link').count(), 20);
	const more = page.getByRole('button', { name: 'Show more links' });
	await more.click();
	await page.waitForFunction((n) => document.querySelectorAll('#links li.link').length === n, total);
	assert.equal(await more.isHidden(), true);
	const codes = await page.locator('#links li.link').evaluateAll((els) => els.map((e) => e.dataset.code));
	assert.equal(new Set(codes).size, codes.length, 'a link shown twice');
});

step('delete a link, with confirmation', async () => {
	const code = made.url.short_code;
	const item = linkItem(code);
	await item.getByRole('button', { name: /^Delete / }).click();
	const dialog = page.getByRole('dialog');
	await assertText(dialog.locator('h2'), `Delete 127.0.0.1:${stack.port}/${code}?`);
	await page.screenshot({ path: shot('confirm-delete-1440.png') });
	await dialog.getByRole('button', { name: 'Keep it' }).click();
	await dialog.waitFor({ state: 'hidden' });
	assert.equal(await item.count(), 1, 'kept after "Keep it"');

	await item.getByRole('button', { name: /^Delete / }).click();
	await dialog.getByRole('button', { name: 'Delete link' }).click();
	await item.waitFor({ state: 'detached' });
	assert.equal((await apiJson('GET', `/api/links/${code}`)).status, 404);

	const visitor = await visitorPage();
	const r = await visitor.goto(made.url.short_url);
	assert.equal(r.status(), 404);
	await visitor.getByRole('heading', { name: 'Link not found' }).waitFor();
	await visitor.screenshot({ path: shot('visitor-not-found-1440.png'), fullPage: true });
	await visitor.close();
});

/* --- looks and keyboard ------------------------------------------------------------------- */

step('every control has a label, and keyboard focus is visible', async () => {
	const unlabelled = await page.evaluate(() => {
		const bad = [];
		for (const e of document.querySelectorAll('input, select, textarea, button, a[href]')) {
			if (e.closest('[hidden]') || e.type === 'hidden')
				continue;
			const name = (e.labels && e.labels.length ? e.labels[0].textContent : '') ||
			    e.getAttribute('aria-label') || e.textContent;
			if (!name.trim())
				bad.push(e.outerHTML.slice(0, 80));
		}
		return bad;
	});
	assert.deepEqual(unlabelled, []);

	/* Tab from the top reaches the file picker, the trial-free form and the links, each with
	 * a visible outline. */
	await page.reload();
	await page.locator('#links li.link').first().waitFor();
	const seen = new Set();
	for (let i = 0; i < 40; i++) {
		await page.keyboard.press('Tab');
		const f = await page.evaluate(() => {
			const e = document.activeElement;
			let shown = e;
			if (e.id === 'file-input')
				shown = document.querySelector('label[for="file-input"]');
			const s = getComputedStyle(shown);
			return { id: e.id, cls: e.className, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
		});
		assert.ok(f.outline, `no visible focus on #${f.id}.${f.cls}`);
		seen.add(f.id || f.cls);
	}
	for (const want of ['signout', 'file-input', 'shorten-url', 'shorten-expiry', 'shorten-slug'])
		assert.ok(seen.has(want), `${want} not reached by Tab (${[...seen].join(' ')})`);
});

step('screenshots: dashboard at 375 and 1440 pixels, no sideways scrolling, no layout shift', async () => {
	for (const [w, h] of [[375, 812], [1440, 900]]) {
		await page.setViewportSize({ width: w, height: h });
		await page.reload();
		await page.locator('#links li.link').first().waitFor();
		await page.waitForFunction(() => [...document.querySelectorAll('#links img')]
		    .slice(0, 3).every((i) => i.complete));
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert.ok(overflow <= 0, `${w}px: the page scrolls sideways by ${overflow}px`);
		const cls = await page.evaluate(() => new Promise((resolve) => {
			let sum = 0;
			new PerformanceObserver((list) => {
				for (const e of list.getEntries())
					if (!e.hadRecentInput)
						sum += e.value;
			}).observe({ type: 'layout-shift', buffered: true });
			setTimeout(() => resolve(sum), 500);
		}));
		assert.ok(cls < 0.1, `${w}px: cumulative layout shift ${cls}`);
		await page.screenshot({ path: shot(`dashboard-${w}.png`), fullPage: true });
	}
	await page.setViewportSize({ width: 1440, height: 900 });
});

/* --- signing out and in ------------------------------------------------------------------- */

step('sign out, then back in: wrong password, taken email and rate limit explained', async () => {
	await signOut();
	await assertText(page.locator('#auth-notice'), 'You are signed out.');
	assert.equal((await apiJson('GET', '/api/me')).status, 401);

	const signin = page.locator('#signin-form');
	await signin.getByLabel('Email').fill(email);
	await signin.getByLabel('Password').fill('not the password');
	await signin.getByRole('button', { name: 'Sign in' }).click();
	await assertText(page.locator('#signin-error'), 'Wrong email or password. Check both and try again.');

	const signup = page.locator('#signup-form');
	await signup.getByLabel('Email').fill(email.toUpperCase());
	await signup.getByLabel('Password').fill(PASSWORD);
	await signup.getByRole('button', { name: 'Create account' }).click();
	await assertText(page.locator('#signup-error'), /already exists/);

	/* nginx's own 429 for /api/auth/ (the limit is lifted for this stack, so play it). */
	await page.route('**/api/auth/login', (route) => route.fulfill({
		status: 429, contentType: 'application/json; charset=utf-8',
		body: '{"error":{"code":"rate_limited","message":"Too many requests from this address; wait a moment and try again."}}',
	}));
	await signin.getByRole('button', { name: 'Sign in' }).click();
	await assertText(page.locator('#signin-error'), /Too many attempts/);
	await page.unroute('**/api/auth/login');

	await signin.getByLabel('Password').fill(PASSWORD);
	await signin.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('#dash-view').waitFor();
	await assertText(page.locator('#acct-email'), email);
	await assertText(page.locator('#trial-status'), 'Premium trial: 30 days left');
	/* The same links as before signing out (the first page of them). */
	await page.locator('#links li.link').nth(19).waitFor();
	assert.equal(await page.getByRole('button', { name: 'Show more links' }).isVisible(), true);
});

/* --- a free account: size limit, then the trial ends -------------------------------------- */

step('free account over the size limit: refused before sending, with the limit named', async () => {
	await signOut();
	await signUp(freeEmail);
	await page.screenshot({ path: shot('dashboard-empty-1440.png'), fullPage: true });
	await page.setViewportSize({ width: 375, height: 812 });
	await page.screenshot({ path: shot('dashboard-free-375.png') });
	await page.setViewportSize({ width: 1440, height: 900 });
	await assertText(page.locator('#upload-hint'), /Up to 1 MB per file/);
	const puts = [];
	const onReq = (r) => { if (r.method() === 'PUT') puts.push(r.url()); };
	page.on('request', onReq);
	await page.locator('#file-input').setInputFiles([
		{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(1536 * 1024) }]);
	const li = page.locator('#uploads li.upload', { hasText: 'big.bin' });
	await assertText(li.locator('.upload-status'), '"big.bin" is 1.5 MB, over the 1 MB limit per file on your plan. Premium allows much bigger files.');
	assert.equal(await li.locator('.upload-status').getAttribute('role'), 'alert');
	await page.setViewportSize({ width: 375, height: 812 });
	await page.locator('#upload-h').locator('..').screenshot({ path: shot('upload-too-large-375.png') });
	await page.setViewportSize({ width: 1440, height: 900 });
	page.off('request', onReq);
	assert.deepEqual(puts, [], 'the file was sent anyway');
});

step('the API\'s 413 file_too_large is shown too (limits changed since the page loaded)', async () => {
	await page.getByRole('button', { name: TRIAL_BUTTON }).click();
	await assertText(page.locator('#trial-status'), 'Premium trial: 30 days left');
	/* The trial ends behind the page's back: it still believes in premium limits. */
	const past = new Date(Date.now() - 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
	const start = new Date(Date.now() - 31 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
	stack.sql(`UPDATE users SET trial_started_at='${start}', trial_expires_at='${past}' WHERE email='${freeEmail}';`);
	await page.locator('#file-input').setInputFiles([
		{ name: 'stale.bin', mimeType: 'application/octet-stream', buffer: randomBytes(1536 * 1024) }]);
	const li = page.locator('#uploads li.upload', { hasText: 'stale.bin' });
	await assertText(li.locator('.upload-status'), /^Files can be at most 1 MiB on this account's tier/);
});

step('trial ended: after a reload no trial button, only the free plan\'s limits', async () => {
	await page.reload();
	await page.locator('#dash-view').waitFor();
	await assertText(page.locator('#acct-tier'), 'Free');
	await assertText(page.locator('#trial-ended'), /trial has ended/);
	assert.equal(await page.getByRole('button', { name: TRIAL_BUTTON }).count(), 0);
	assert.equal(await page.locator('#trial-status').isHidden(), true);
	await assertText(page.locator('#acct-limits'), /Files up to 1 MB each/);
	assert.equal(await page.locator('#shorten-slug').isDisabled(), true);
	await assertText(page.locator('#slug-hint'), /upgrade to Premium/);
	const me = (await apiJson('GET', '/api/me')).json;
	assert.equal(me.trial.can_start, false);
	assert.equal(me.trial.active, false);
	await page.setViewportSize({ width: 375, height: 812 });
	await page.screenshot({ path: shot('dashboard-trial-ended-375.png'), fullPage: true });
	await page.setViewportSize({ width: 1440, height: 900 });
});

step('no script errors and no CSP violations on any page', async () => {
	assert.deepEqual(pageErrors, []);
	assert.deepEqual(cspViolations, []);
});
