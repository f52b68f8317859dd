/*
 * FileShare Plus web UI: plain JavaScript over the JSON API (README.md), no framework, no
 * build step. Safe by construction: every value that comes from the API or from a file name
 * reaches the page through textContent or setAttribute, never as HTML, and the page's
 * Content-Security-Policy (conf/nginx.conf.in) allows only this file as script and refuses
 * any HTML string sink (Trusted Types), so a mistake here fails loudly instead of running.
 */
'use strict';

(function () {
	const UPLOAD_CONCURRENCY = 2;
	const TOAST_MS = 4000;
	const EXPIRY_PRESETS = [
		[3600, '1 hour'], [86400, '1 day'], [7 * 86400, '7 days'], [30 * 86400, '30 days'],
		[90 * 86400, '90 days'], [365 * 86400, '1 year'],
	];
	/* Plainer sentences for the API's error codes; anything else shows the API's own message. */
	const MESSAGES = {
		email_taken: 'An account with this email already exists. Sign in with it instead.',
		invalid_credentials: 'Wrong email or password. Check both and try again.',
		invalid_email: 'Enter a valid email address, like name@example.com.',
		rate_limited: 'Too many attempts from your network. Wait a minute, then try again.',
		slug_taken: 'That custom link is already taken. Choose another one.',
		network: 'Could not reach FileShare Plus. Check your connection and try again.',
		unavailable: 'The service is busy or restarting. Try again in a moment.',
		store_unavailable: 'The service is busy or restarting. Try again in a moment.',
		body_too_large: 'That file is larger than this server accepts.',
	};

	const $ = (id) => document.getElementById(id);
	const state = {
		me: null,
		cursor: null,		/* next_cursor of the last page of links shown */
		shown: new Set(),	/* short codes in the list */
		queue: [],		/* uploads waiting */
		xhrs: new Set(),	/* their requests, aborted on signing out */
		active: 0,		/* uploads running */
		confirmAction: null,
		dialogOpener: null,
	};

	class ApiError extends Error {
		constructor(status, code, message) {
			super(message);
			this.status = status;
			this.code = code;
		}
	}

	/* One JSON API call: resolves with the parsed body (null for 204), rejects with ApiError. */
	async function api(method, path, body) {
		const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
		if (body !== undefined) {
			opts.headers['Content-Type'] = 'application/json';
			opts.body = JSON.stringify(body);
		}
		let res;
		try {
			res = await fetch(path, opts);
		} catch (e) {
			throw new ApiError(0, 'network', MESSAGES.network);
		}
		let data = null;
		if (res.status !== 204) {
			try {
				data = await res.json();
			} catch (e) {
				data = null;
			}
		}
		if (!res.ok)
			throw errorFrom(res.status, data);
		return data;
	}

	function errorFrom(status, data) {
		const e = data && data.error ? data.error : {};
		return new ApiError(status, e.code || 'http_' + status,
		    e.message || 'Something went wrong (the server answered ' + status + '). Try again.');
	}

	function messageFor(err) {
		return MESSAGES[err.code] || err.message;
	}

	/* A signed-in call failed because the session is gone: back to the sign-in page. */
	function sessionLost(err) {
		if (err.status !== 401)
			return false;
		showAuth('Your session has ended. Sign in again to continue.');
		return true;
	}

	/* --- small DOM helpers (text only, never HTML) ------------------------------------------ */

	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'text')
				e.textContent = v;
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const c of children)
			if (c !== null && c !== undefined)
				e.append(c);
		return e;
	}

	function showMessage(node, text) {
		node.textContent = text || '';
		node.hidden = !text;
	}

	let toastTimer = 0;
	function toast(text) {
		const t = $('toast');
		t.textContent = text;
		t.classList.add('visible');
		clearTimeout(toastTimer);
		toastTimer = setTimeout(() => t.classList.remove('visible'), TOAST_MS);
	}

	function fmtBytes(n) {
		if (n < 1024)
			return n + (n === 1 ? ' byte' : ' bytes');
		const units = ['KB', 'MB', 'GB', 'TB'];
		let v = n, i = -1;
		do {
			v /= 1024;
			i++;
		} while (v >= 1024 && i < units.length - 1);
		const s = v >= 10 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
		return s + ' ' + units[i];
	}

	function plural(n, one, many) {
		return n + ' ' + (n === 1 ? one : many);
	}

	const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
	function fmtDate(iso) {
		const d = new Date(iso);
		return isNaN(d) ? '' : dateFmt.format(d);
	}

	/* What people see of a short URL: without the scheme. */
	function displayUrl(u) {
		return String(u).replace(/^https?:\/\//i, '');
	}

	/* Only http(s) addresses become links. */
	function safeHref(u) {
		return /^https?:\/\//i.test(String(u)) ? String(u) : null;
	}

	function qrPath(code) {
		return '/api/links/' + encodeURIComponent(code) + '/qr.svg';
	}

	async function copyText(text, button) {
		let ok = false;
		try {
			if (navigator.clipboard && window.isSecureContext) {
				await navigator.clipboard.writeText(text);
				ok = true;
			}
		} catch (e) {
			ok = false;
		}
		if (!ok) {
			/* Plain-http sites have no Clipboard API: copy from a selected, off-screen field. */
			const ta = el('textarea', { readonly: true, class: 'offscreen', 'aria-hidden': 'true' });
			ta.value = text;
			document.body.append(ta);
			ta.select();
			try {
				ok = document.execCommand('copy');
			} catch (e) {
				ok = false;
			}
			ta.remove();
			button.focus();
		}
		const label = button.textContent;
		button.textContent = ok ? 'Copied' : 'Copy failed';
		toast(ok ? 'Copied ' + displayUrl(text) : 'Could not copy. Select the link and copy it yourself.');
		setTimeout(() => { button.textContent = label; }, 2000);
	}

	/* --- views -------------------------------------------------------------------------------- */

	function showAuth(notice) {
		state.me = null;
		$('loading').hidden = true;
		$('dash-view').hidden = true;
		$('account-bar').hidden = true;
		$('auth-view').hidden = false;
		$('links').replaceChildren();
		$('uploads').replaceChildren();
		state.shown.clear();
		state.cursor = null;
		state.queue.length = 0;
		for (const x of state.xhrs)
			x.abort();
		showMessage($('auth-notice'), notice || '');
		showMessage($('signin-error'), '');
		showMessage($('signup-error'), '');
		document.title = 'Sign in - FileShare Plus';
	}

	function showDashboard(me, focus) {
		$('loading').hidden = true;
		$('auth-view').hidden = true;
		$('dash-view').hidden = false;
		$('account-bar').hidden = false;
		document.title = 'Your links - FileShare Plus';
		renderAccount(me);
		$('shorten-result').hidden = true;
		loadLinks(true);
		if (focus) {
			const h = $('account-h');
			h.setAttribute('tabindex', '-1');
			h.focus();
		}
	}

	const TIER_NAMES = { free: 'Free', trial: 'Premium trial', premium: 'Premium' };

	function renderAccount(me) {
		state.me = me;
		const lim = me.limits, t = me.trial;
		$('acct-email').textContent = me.email;
		$('bar-email').textContent = me.email;
		const tier = $('acct-tier');
		tier.textContent = TIER_NAMES[me.tier] || me.tier;
		tier.className = 'badge tier-' + me.tier;

		$('acct-limits').replaceChildren(
		    el('li', { text: 'Files up to ' + fmtBytes(lim.max_file_bytes) + ' each' }),
		    el('li', { text: 'Links last up to ' + plural(lim.max_lifetime_days, 'day', 'days') }),
		    el('li', { text: 'Up to ' + lim.max_active_links + ' active links' }),
		    el('li', { text: lim.custom_slugs ? 'Custom and password-protected links' :
			'Custom and password-protected links with Premium' }));

		/* The trial: offered exactly when the API says it can start; counted down while
		 * active; once over, never offered again. */
		$('trial-start').hidden = !t.can_start;
		$('trial-start').disabled = false;
		$('trial-pitch').hidden = !t.can_start;
		const status = $('trial-status');
		status.hidden = !t.active;
		status.textContent = t.active ? 'Premium trial: ' + plural(t.days_left, 'day', 'days') + ' left' : '';
		$('trial-ended').hidden = !(t.used && !t.active && me.tier === 'free');
		$('trial-box').hidden = !t.can_start && !t.active && $('trial-ended').hidden;
		showMessage($('trial-error'), '');

		$('upload-hint').textContent = 'Up to ' + fmtBytes(lim.max_file_bytes) +
		    ' per file. You can pick or drop several files at once.';
		renderShortenOptions(me);
	}

	function renderShortenOptions(me) {
		const lim = me.limits, max = lim.max_lifetime_days * 86400;
		const select = $('shorten-expiry');
		const previous = select.value;
		const opts = EXPIRY_PRESETS.filter(([s]) => s <= max);
		if (!opts.some(([s]) => s === max))
			opts.push([max, plural(lim.max_lifetime_days, 'day', 'days')]);
		const wanted = opts.some(([s]) => String(s) === previous) ? previous :
		    String(opts.some(([s]) => s === lim.default_lifetime_days * 86400) ?
		    lim.default_lifetime_days * 86400 : max);
		select.replaceChildren(...opts.map(([s, label]) =>
		    el('option', { value: s, text: label, selected: String(s) === wanted })));
		select.value = wanted;
		$('expiry-hint').textContent = 'Links on your plan last up to ' +
		    plural(lim.max_lifetime_days, 'day', 'days') + '.' +
		    (lim.custom_slugs ? '' : ' Premium links can last much longer.');

		const slug = $('shorten-slug'), pw = $('shorten-password');
		slug.disabled = !lim.custom_slugs;
		pw.disabled = !lim.password_links;
		if (slug.disabled)
			slug.value = '';
		if (pw.disabled)
			pw.value = '';
		/* Only point at the trial while it can still be started. */
		const how = me.trial.can_start ? 'start your free trial to' : 'upgrade to Premium to';
		renderSlugHint();
		if (!lim.custom_slugs)
			$('slug-hint').textContent = 'Premium feature: ' + how + ' choose your own link.';
		$('password-hint').textContent = lim.password_links ?
		    'People must enter it before the link opens. Leave empty for no password.' :
		    'Premium feature: ' + how + ' protect links with a password.';
		for (const b of document.querySelectorAll('.premium-badge'))
			b.hidden = lim.custom_slugs;
	}

	/* The custom link as it will look, updated while typing. */
	function renderSlugHint() {
		const slug = $('shorten-slug');
		if (slug.disabled)
			return;
		$('slug-hint').textContent = 'Your link will be ' + location.host + '/' + (slug.value.trim() || 'my-link') +
		    '. 4 to 64 letters, digits, - or _; leave empty for a random one.';
	}

	async function refreshMe() {
		try {
			renderAccount(await api('GET', '/api/me'));
		} catch (err) {
			if (!sessionLost(err))
				toast(messageFor(err));
		}
	}

	/* --- sign in, sign up, sign out ----------------------------------------------------------- */

	function fieldError(input, on) {
		if (on)
			input.setAttribute('aria-invalid', 'true');
		else
			input.removeAttribute('aria-invalid');
	}

	async function onAuthSubmit(kind, ev) {
		ev.preventDefault();
		const form = ev.currentTarget;
		const email = form.elements.email, password = form.elements.password;
		const errBox = $(kind === 'login' ? 'signin-error' : 'signup-error');
		const button = form.querySelector('button[type=submit]');
		fieldError(email, false);
		fieldError(password, false);
		if (!email.value.trim()) {
			showMessage(errBox, 'Enter your email address.');
			fieldError(email, true);
			email.focus();
			return;
		}
		if (!password.value) {
			showMessage(errBox, kind === 'login' ? 'Enter your password.' : 'Choose a password.');
			fieldError(password, true);
			password.focus();
			return;
		}
		showMessage(errBox, '');
		button.disabled = true;
		form.setAttribute('aria-busy', 'true');
		try {
			const me = await api('POST', '/api/auth/' + kind,
			    { email: email.value.trim(), password: password.value });
			form.reset();
			showMessage($('auth-notice'), '');
			showDashboard(me, true);
		} catch (err) {
			showMessage(errBox, messageFor(err));
			const bad = err.code === 'invalid_email' || err.code === 'email_taken' ? email :
			    err.code === 'weak_password' || err.code === 'invalid_credentials' ? password : null;
			if (bad) {
				fieldError(bad, true);
				bad.focus();
			}
		} finally {
			button.disabled = false;
			form.removeAttribute('aria-busy');
		}
	}

	async function onSignOut() {
		try {
			await api('POST', '/api/auth/logout', {});
		} catch (err) {
			if (err.status !== 401) {
				toast(messageFor(err));
				return;
			}
		}
		showAuth('You are signed out.');
		$('signin-email').focus();
	}

	async function onTrialStart() {
		const button = $('trial-start');
		button.disabled = true;
		try {
			const me = await api('POST', '/api/trial/start', {});
			renderAccount(me);
			$('trial-status').focus();
			toast('Your premium trial has started. Enjoy!');
		} catch (err) {
			if (sessionLost(err))
				return;
			button.disabled = false;
			await refreshMe();
			showMessage($('trial-error'), messageFor(err));
		}
	}

	/* --- links ------------------------------------------------------------------------------ */

	async function loadLinks(reset) {
		const more = $('links-more');
		more.disabled = true;
		try {
			const cursor = reset ? null : state.cursor;
			const page = await api('GET', '/api/links' + (cursor ? '?cursor=' + encodeURIComponent(cursor) : ''));
			if (reset) {
				state.shown.clear();
				$('links').replaceChildren();
			}
			const items = [];
			for (const l of page.links) {
				if (state.shown.has(l.short_code))
					continue;
				state.shown.add(l.short_code);
				items.push(linkItem(l));
			}
			$('links').append(...items);
			state.cursor = page.next_cursor;
			more.hidden = !state.cursor;
			showMessage($('links-error'), '');
		} catch (err) {
			if (!sessionLost(err))
				showMessage($('links-error'), messageFor(err));
		} finally {
			more.disabled = false;
			updateEmpty();
		}
	}

	function updateEmpty() {
		$('links-empty').hidden = $('links').children.length > 0;
	}

	/* A link just made goes to the top of the list. */
	function prependLink(l) {
		if (state.shown.has(l.short_code))
			return;
		state.shown.add(l.short_code);
		$('links').prepend(linkItem(l));
		updateEmpty();
	}

	function linkItem(l) {
		const shown = displayUrl(l.short_url);
		const li = el('li', { class: 'link', 'data-code': l.short_code });

		const qr = el('button', { type: 'button', class: 'qr-thumb', 'aria-label': 'Show the QR code for ' + shown },
		    el('img', { src: qrPath(l.short_code), width: 56, height: 56, alt: '', loading: 'lazy', decoding: 'async' }));
		qr.addEventListener('click', () => openQr(l, qr));

		const target = l.kind === 'file' ?
		    el('p', { class: 'link-target' }, el('span', { class: 'kind', text: 'File' }),
			el('span', { class: 'target-text', title: l.filename, text: l.filename }),
			el('span', { class: 'size', text: fmtBytes(l.size) })) :
		    el('p', { class: 'link-target' }, el('span', { class: 'kind', text: 'URL' }),
			el('span', { class: 'target-text', title: l.full_url, text: l.full_url }));

		const clicks = l.max_clicks ? l.click_count + ' of ' + plural(l.max_clicks, 'click', 'clicks') :
		    plural(l.click_count, 'click', 'clicks');
		const when = l.status === 'active' ? 'Expires ' + fmtDate(l.expires_at) :
		    l.status === 'expired' ? 'Expired ' + fmtDate(l.expires_at) : 'Click limit reached';
		const meta = el('p', { class: 'link-meta' },
		    el('span', { class: 'clicks', text: clicks }),
		    el('span', { class: 'expiry' + (l.status === 'active' ? '' : ' ended'), text: when }),
		    l.password_protected ? el('span', { class: 'badge', text: 'Password' }) : null);

		const main = el('div', { class: 'link-main' },
		    el('a', { class: 'short-url', href: safeHref(l.short_url), target: '_blank', rel: 'noopener noreferrer',
			text: shown }),
		    target, meta);

		const copy = el('button', { type: 'button', class: 'button secondary small copy', 'aria-label': 'Copy ' + shown,
		    text: 'Copy' });
		copy.addEventListener('click', () => copyText(l.short_url, copy));
		const del = el('button', { type: 'button', class: 'button danger-outline small delete',
		    'aria-label': 'Delete ' + shown, text: 'Delete' });
		del.addEventListener('click', () => confirmDelete(l, li, del));

		li.append(qr, main, el('div', { class: 'link-actions' }, copy, del));
		return li;
	}

	function openDialog(dialog, opener) {
		state.dialogOpener = opener;
		dialog.showModal();
	}

	function closeDialog(dialog) {
		if (dialog.open)
			dialog.close();
	}

	function onDialogClosed() {
		const opener = state.dialogOpener;
		state.dialogOpener = null;
		state.confirmAction = null;
		if (opener && opener.isConnected)
			opener.focus();
	}

	function openQr(l, opener) {
		const shown = displayUrl(l.short_url);
		$('qr-title').textContent = 'QR code for ' + shown;
		const img = $('qr-image');
		img.src = qrPath(l.short_code);
		img.alt = 'QR code that opens ' + shown;
		$('qr-url').textContent = l.short_url;
		const dl = $('qr-download');
		dl.href = qrPath(l.short_code);
		dl.setAttribute('download', l.short_code + '-qr.svg');
		openDialog($('qr-dialog'), opener);
		$('qr-close').focus();
	}

	function confirmDelete(l, li, opener) {
		const shown = displayUrl(l.short_url);
		$('confirm-title').textContent = 'Delete ' + shown + '?';
		$('confirm-text').textContent = 'Anyone who opens this link will be told it does not exist.' +
		    (l.kind === 'file' ? ' The file is deleted too.' : '') + ' This cannot be undone.';
		state.confirmAction = async () => {
			try {
				await api('DELETE', '/api/links/' + encodeURIComponent(l.short_code));
			} catch (err) {
				if (sessionLost(err))
					return;
				if (err.status !== 404) {
					toast(messageFor(err));
					return;
				}
			}
			const next = li.nextElementSibling || li.previousElementSibling;
			li.remove();
			state.shown.delete(l.short_code);
			updateEmpty();
			toast('Deleted ' + shown);
			state.dialogOpener = next ? next.querySelector('.short-url') : $('links-h');
			if (state.dialogOpener === $('links-h'))
				$('links-h').setAttribute('tabindex', '-1');
		};
		openDialog($('confirm-dialog'), opener);
		$('confirm-cancel').focus();
	}

	/* --- shorten ------------------------------------------------------------------------------ */

	async function onShorten(ev) {
		ev.preventDefault();
		const urlIn = $('shorten-url'), clicksIn = $('shorten-clicks'), slugIn = $('shorten-slug'),
		    pwIn = $('shorten-password'), expiry = $('shorten-expiry'), errBox = $('shorten-error');
		const button = ev.currentTarget.querySelector('button[type=submit]');
		for (const i of [urlIn, clicksIn, slugIn, pwIn, expiry])
			fieldError(i, false);
		const fail = (input, text) => {
			showMessage(errBox, text);
			fieldError(input, true);
			input.focus();
		};
		const url = urlIn.value.trim();
		if (!url)
			return fail(urlIn, 'Enter the web address to shorten, starting with https:// or http://.');
		const body = { url };
		if (expiry.value)
			body.expires_in = Number(expiry.value);
		const clicks = clicksIn.value.trim();
		if (clicks) {
			if (!/^[0-9]+$/.test(clicks) || Number(clicks) < 1)
				return fail(clicksIn, 'Max clicks must be a whole number, 1 or more (or empty for no limit).');
			body.max_clicks = Number(clicks);
		}
		if (!slugIn.disabled && slugIn.value.trim())
			body.slug = slugIn.value.trim();
		if (!pwIn.disabled && pwIn.value)
			body.password = pwIn.value;
		showMessage(errBox, '');
		button.disabled = true;
		try {
			const link = await api('POST', '/api/links', body);
			urlIn.value = '';
			clicksIn.value = '';
			slugIn.value = '';
			pwIn.value = '';
			renderSlugHint();
			const a = $('shorten-result-link');
			a.textContent = displayUrl(link.short_url);
			const href = safeHref(link.short_url);
			if (href)
				a.href = href;
			else
				a.removeAttribute('href');
			$('shorten-result-copy').onclick = () => copyText(link.short_url, $('shorten-result-copy'));
			$('shorten-result').hidden = false;
			prependLink(link);
			toast('Short link ready: ' + displayUrl(link.short_url));
		} catch (err) {
			if (sessionLost(err))
				return;
			const field = { invalid_url: urlIn, invalid_slug: slugIn, slug_taken: slugIn,
			    invalid_max_clicks: clicksIn, invalid_expiry: expiry, invalid_password: pwIn }[err.code];
			if (field)
				fail(field, messageFor(err));
			else
				showMessage(errBox, messageFor(err));
		} finally {
			button.disabled = false;
		}
	}

	/* --- uploads ------------------------------------------------------------------------------ */

	function uploadItem(file) {
		const bar = el('progress', { max: 1, value: 0, 'aria-label': 'Upload progress of ' + file.name });
		const status = el('p', { class: 'upload-status', text: 'Waiting…' });
		const li = el('li', { class: 'upload' },
		    el('p', { class: 'upload-name' }, el('span', { class: 'name', title: file.name, text: file.name }),
			el('span', { class: 'size', text: fmtBytes(file.size) })),
		    bar, status);
		$('uploads').prepend(li);
		return {
			progress(f) {
				bar.value = f;
				status.textContent = 'Uploading… ' + Math.floor(f * 100) + '%';
			},
			done(link) {
				bar.value = 1;
				li.classList.add('ok');
				const copy = el('button', { type: 'button', class: 'button secondary small',
				    'aria-label': 'Copy ' + displayUrl(link.short_url), text: 'Copy' });
				copy.addEventListener('click', () => copyText(link.short_url, copy));
				status.classList.add('done');
				status.replaceChildren(el('span', { class: 'visually-hidden', text: 'Uploaded: ' }),
				    el('a', { href: safeHref(link.short_url), target: '_blank', rel: 'noopener noreferrer',
					class: 'short-url', text: displayUrl(link.short_url) }), copy);
			},
			fail(text) {
				li.classList.add('failed');
				bar.hidden = true;
				status.className = 'upload-status error';
				status.setAttribute('role', 'alert');
				status.textContent = text;
			},
		};
	}

	function addFiles(files) {
		const me = state.me;
		if (!me)
			return;
		for (const file of Array.from(files)) {
			const item = uploadItem(file);
			const max = me.limits.max_file_bytes;
			if (file.size > max) {
				item.fail('"' + file.name + '" is ' + fmtBytes(file.size) + ', over the ' + fmtBytes(max) +
				    ' limit per file on your plan.' + (me.tier === 'free' ?
				    ' Premium allows much bigger files.' : ''));
				continue;
			}
			state.queue.push({ file, item });
		}
		pump();
	}

	function pump() {
		while (state.active < UPLOAD_CONCURRENCY && state.queue.length) {
			const job = state.queue.shift();
			state.active++;
			send(job).finally(() => {
				state.active--;
				pump();
			});
		}
	}

	/* PUT /api/files/{name} with the file as the body: XMLHttpRequest, for upload progress. */
	function send({ file, item }) {
		return new Promise((resolve) => {
			const xhr = new XMLHttpRequest();
			state.xhrs.add(xhr);
			xhr.addEventListener('loadend', () => state.xhrs.delete(xhr));
			xhr.open('PUT', '/api/files/' + encodeURIComponent(file.name));
			xhr.setRequestHeader('Accept', 'application/json');
			xhr.upload.addEventListener('progress', (e) => {
				if (e.lengthComputable && e.total > 0)
					item.progress(e.loaded / e.total);
			});
			xhr.addEventListener('load', () => {
				let data = null;
				try {
					data = JSON.parse(xhr.responseText);
				} catch (e) {
					data = null;
				}
				if (xhr.status === 201 && data) {
					item.done(data);
					prependLink(data);
					toast('Uploaded ' + file.name);
				} else {
					const err = errorFrom(xhr.status, data);
					if (!sessionLost(err))
						item.fail(messageFor(err));
				}
				resolve();
			});
			for (const what of ['error', 'abort', 'timeout'])
				xhr.addEventListener(what, () => {
					item.fail('The upload of "' + file.name + '" was interrupted. Check your connection and try again.');
					resolve();
				});
			item.progress(0);
			xhr.send(file);
		});
	}

	function setupDropzone() {
		const zone = $('dropzone');
		let depth = 0;
		const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
		zone.addEventListener('dragenter', (e) => {
			if (!hasFiles(e))
				return;
			e.preventDefault();
			depth++;
			zone.classList.add('dragging');
		});
		zone.addEventListener('dragover', (e) => {
			if (!hasFiles(e))
				return;
			e.preventDefault();
			e.dataTransfer.dropEffect = 'copy';
		});
		zone.addEventListener('dragleave', () => {
			depth = Math.max(0, depth - 1);
			if (depth === 0)
				zone.classList.remove('dragging');
		});
		zone.addEventListener('drop', (e) => {
			e.preventDefault();
			depth = 0;
			zone.classList.remove('dragging');
			if (e.dataTransfer && e.dataTransfer.files.length)
				addFiles(e.dataTransfer.files);
		});
		/* A file dropped beside the zone must not replace the page with the file. */
		for (const what of ['dragover', 'drop'])
			window.addEventListener(what, (e) => {
				if (!zone.contains(e.target) && hasFiles(e))
					e.preventDefault();
			});
		$('file-input').addEventListener('change', (e) => {
			addFiles(e.target.files);
			e.target.value = '';
		});
	}

	/* --- start -------------------------------------------------------------------------------- */

	function setup() {
		$('signin-form').addEventListener('submit', (e) => onAuthSubmit('login', e));
		$('signup-form').addEventListener('submit', (e) => onAuthSubmit('signup', e));
		$('signout').addEventListener('click', onSignOut);
		$('trial-start').addEventListener('click', onTrialStart);
		$('shorten-form').addEventListener('submit', onShorten);
		$('shorten-slug').addEventListener('input', renderSlugHint);
		$('links-more').addEventListener('click', () => loadLinks(false));
		$('links-refresh').addEventListener('click', () => {
			loadLinks(true);
			refreshMe();
		});
		$('qr-close').addEventListener('click', () => closeDialog($('qr-dialog')));
		$('confirm-cancel').addEventListener('click', () => closeDialog($('confirm-dialog')));
		$('confirm-ok').addEventListener('click', async () => {
			const action = state.confirmAction;
			$('confirm-ok').disabled = true;
			if (action)
				await action();
			$('confirm-ok').disabled = false;
			closeDialog($('confirm-dialog'));
		});
		for (const d of [$('qr-dialog'), $('confirm-dialog')]) {
			d.addEventListener('close', onDialogClosed);
			/* A click on the backdrop (outside the dialog's box) closes it. */
			d.addEventListener('click', (e) => {
				const r = d.getBoundingClientRect();
				if (e.target === d && (e.clientX < r.left || e.clientX > r.right ||
				    e.clientY < r.top || e.clientY > r.bottom))
					closeDialog(d);
			});
		}
		setupDropzone();
	}

	async function boot() {
		setup();
		try {
			showDashboard(await api('GET', '/api/me'), false);
		} catch (err) {
			showAuth(err.status === 401 ? '' : messageFor(err));
		}
	}

	boot();
}());
