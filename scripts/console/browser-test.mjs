// The web console in a real headless Chromium, driven by playwright-core. Run by
// scripts/console-browser-test, which starts the server and passes (environment):
//   GATEHOUSE_URL     the server's base URL (http://127.0.0.1:PORT)
//   ADMIN_TOKEN       an account administrator's token (Ada, token "browser") with every scope
//   SPARE_TOKEN       another token of Ada's ("spare", people:read) the CSRF checks try to revoke
//   SPECIALIST_TOKEN  a specialist's token (Sam, "sam-laptop")
//   PLAYWRIGHT_DIR    a folder whose node_modules holds playwright-core
//   SCREENSHOT_DIR    where the screenshots go (docs/screenshots), overwritten on each run
// Also opens the API reference (/v1/docs) and checks that it renders under its CSP.
// Starts its own webhook receiver on 127.0.0.1. Prints `ok - …` / `not ok - …` per check and a
// closing `N passed, N failed`; exits 1 when any check failed.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`browser-test.mjs: ${name} is not set (run scripts/console-browser-test)`);
    process.exit(2);
  }
  return value;
};
const base = env('GATEHOUSE_URL').replace(/\/$/, '');
const adminToken = env('ADMIN_TOKEN');
const spareToken = env('SPARE_TOKEN');
const specialistToken = env('SPECIALIST_TOKEN');
const screenshotDir = env('SCREENSHOT_DIR');
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SCREENSHOTS = [
  'sign-in', 'tokens', 'token-created', 'scim-users', 'scim-user', 'scim-groups', 'webhooks',
  'webhook', 'policy-created', 'webhook-policies', 'deliveries', 'delivery', 'notifications',
  'deliveries-375', 'api-docs', 'token', 'scim-token', 'account', 'events', 'people', 'overview',
];
const NAV_LINKS = [
  ['Overview', '/console/overview'],
  ['Personal access tokens', '/console/tokens'],
  ['People', '/console/people'],
  ['SCIM users', '/console/scim/users'],
  ['SCIM groups', '/console/scim/groups'],
  ['SCIM credential', '/console/scim-token'],
  ['Webhooks', '/console/webhooks'],
  ['Webhook policies', '/console/webhook-policies'],
  ['Webhook deliveries', '/console/deliveries'],
  ['Notifications', '/console/notifications'],
  ['Events', '/console/events'],
  ['Account', '/console/account'],
];

// ---- reporting ----

let passed = 0;
let failed = 0;
let page; // the page failures are reported against

const deviations = [];
/** Something the server does that CONTRACT.md does not say: printed now and again at the end. */
function deviation(text) {
  deviations.push(text);
  console.log(`# deviation from the contract: ${text}`);
}

class CheckFailed extends Error {}
function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** Runs one check; prints `ok - name` or `not ok - name` with the reason. Returns fn's value. */
async function check(name, fn) {
  try {
    const value = await fn();
    passed += 1;
    console.log(`ok - ${name}`);
    return value;
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    const reason = (error instanceof CheckFailed ? error.message : String(error?.stack || error))
      .replace(/\u001b\[[0-9;]*m/g, '');
    for (const line of reason.split('\n').slice(0, 12)) console.log(`#   ${line}`);
    if (page && !page.isClosed()) {
      try {
        const h1 = await page.locator('h1').allTextContents();
        const text = (await page.locator('body').innerText({ timeout: 2000 })).replace(/\s+/g, ' ');
        console.log(`#   on ${page.url()} (h1 ${JSON.stringify(h1)}): ${text.slice(0, 300)}`);
      } catch {
        console.log(`#   on ${page.url()}`);
      }
    }
    return undefined;
  }
}

/** Calls fn until it returns something truthy, at most timeoutMs; returns that or throws. */
async function poll(what, fn, timeoutMs = 20000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new CheckFailed(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const pathOf = (url) => new URL(url, base).pathname;
const cellTexts = async (row) => (await row.locator('td, th').allInnerTexts()).map((t) => t.trim());

// ---- the webhook receiver ----

/** Every POST: { path, headers, contentType, body, claims, message }. */
const received = [];
const callbacks = []; // { url, status } of the verification callbacks we GOT
const receiver = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    response.writeHead(request.method === 'POST' ? 200 : 405, { 'content-type': 'text/plain' });
    response.end('ok');
    if (request.method !== 'POST') return;
    const body = Buffer.concat(chunks).toString('utf8');
    const contentType = request.headers['content-type'] || '';
    let claims = null;
    let message = null;
    try {
      if (contentType.startsWith('application/jwt')) {
        // Read, not verified: the conformance e2e verifies signatures; here we match messages.
        claims = JSON.parse(Buffer.from(body.trim().split('.')[1], 'base64url').toString('utf8'));
        if (typeof claims.event === 'string') message = claims;
        else if (claims.data && typeof claims.data === 'object') message = claims.data; // xurrent
      } else {
        message = JSON.parse(body);
      }
    } catch {
      message = null;
    }
    received.push({ path: request.url, headers: request.headers, contentType, body, claims, message });
    const callback = message?.event === 'webhook.verify' ? message.payload?.callback : undefined;
    if (typeof callback === 'string') {
      fetch(callback)
        .then((answer) => callbacks.push({ url: callback, status: answer.status }))
        .catch((error) => callbacks.push({ url: callback, status: String(error) }));
    }
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook/people`;
const receivedFor = (event) => received.filter((r) => r.message?.event === event);

// ---- REST helpers (plain HTTP, no browser) ----

async function api(method, url, token, body, contentType = 'application/json') {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const answer = await fetch(base + url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual',
  });
  const text = await answer.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: answer.status, text, json };
}

// ---- page helpers ----

const shotsTaken = new Set();
async function shot(name, { fullPage = true } = {}) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage });
  shotsTaken.add(name);
}

async function sessionCookie(context) {
  return (await context.cookies(`${base}/console/tokens`)).find((c) => c.name === 'gatehouse_session');
}

/** The form holding the button named `button`. */
const formWith = (button) =>
  page.locator('form').filter({ has: page.getByRole('button', { name: button, exact: true }) });

async function h1Text() {
  const h1s = await page.locator('h1').allInnerTexts();
  assert(h1s.length === 1, `expected one <h1>, found ${h1s.length}: ${JSON.stringify(h1s)}`);
  return h1s[0].trim();
}

async function signIn(token) {
  await page.goto(`${base}/console/sign-in`);
  await page.locator('#token').fill(token);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r.url()) === '/console/sign-in'),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
  await page.waitForLoadState('load');
  return answer;
}

/** Goes to the path, reloading until `ready()` holds (time-boxed). */
async function reloadUntil(what, url, ready, timeoutMs = 20000) {
  return poll(what, async () => {
    await page.goto(base + url);
    return ready();
  }, timeoutMs, 400);
}

// Accessibility and structure basics of the page now shown; several `ok` lines.
async function pageBasics(name, { signedIn = true } = {}) {
  await check(`${name}: one <h1>${signedIn ? ', the nav links and a Sign out button' : ''}`, async () => {
    await h1Text();
    if (!signedIn) return;
    const nav = page.locator('nav');
    assert(await nav.count() >= 1, 'no <nav>');
    for (const [text, href] of NAV_LINKS) {
      const link = nav.getByRole('link', { name: text, exact: true });
      assert(await link.count() >= 1, `no nav link "${text}"`);
      const actual = await link.first().getAttribute('href');
      assert(pathOf(actual) === href, `nav link "${text}" goes to ${actual}, not ${href}`);
    }
    assert(await page.getByRole('button', { name: 'Sign out', exact: true }).count() === 1, 'no Sign out button');
  });
  await check(`${name}: every form control has an accessible label`, async () => {
    const unlabelled = await page.evaluate(() => {
      const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
      return [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => !(el.tagName === 'INPUT' && skip.has(el.type)))
        .filter((el) => {
          const labelText = [...(el.labels || [])].map((l) => l.textContent.trim()).join('');
          const aria = (el.getAttribute('aria-label') || '').trim();
          const by = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
            .map((id) => document.getElementById(id)?.textContent.trim() || '').join('');
          return !labelText && !aria && !by;
        })
        .map((el) => el.outerHTML.slice(0, 160));
    });
    assert(unlabelled.length === 0, `unlabelled: ${unlabelled.join('\n')}`);
  });
  await check(`${name}: every POST form carries a csrf_token`, async () => {
    const missing = await page.evaluate(() => [...document.querySelectorAll('form')]
      .filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
      .filter((f) => !f.querySelector('input[type=hidden][name=csrf_token]')?.value)
      .map((f) => f.outerHTML.slice(0, 200)));
    assert(missing.length === 0, `POST forms without a csrf_token: ${missing.join('\n')}`);
  });
  await check(`${name}: Tab moves focus to links and form controls`, async () => {
    const focusable = await page.locator('a[href], button, input:not([type=hidden]), select, textarea, summary').count();
    assert(focusable > 0, 'nothing focusable');
    const describe = () => page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return 'BODY';
      const text = (el.getAttribute('aria-label') || el.textContent || el.name || '').trim().slice(0, 30);
      const where = el.closest('nav') ? ' in nav' : el.closest('form') ? ' in form' : '';
      return `${el.tagName}${el.type ? `[${el.type}]` : ''} "${text}"${where}`;
    });
    // An autofocused field counts as the first stop.
    const focused = [await describe()].filter((f) => f !== 'BODY');
    while (focused.length < Math.min(3, focusable)) {
      await page.keyboard.press('Tab');
      focused.push(await describe());
    }
    const interactive = /^(A|BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)\b/;
    assert(focused.every((f) => interactive.test(f)), `focus went to ${focused.join(', ')}`);
    // The first nav link: Overview for administrators (this admin), else Personal access tokens.
    const goal = signedIn ? /^A "(Overview|Personal access tokens)" in nav$/ : /^INPUT\[password\] .* in form$/;
    assert(focused.some((f) => goal.test(f)),
      `the first ${signedIn ? 'nav link' : 'form control'} is not among the first stops: ${focused.join(', ')}`);
  });
}

// ---- the run ----

// Debian's Chromium; launch() gives it a fresh temporary profile, removed on close.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
page = await context.newPage();
// Script errors and Content-Security-Policy refusals (Chromium reports both as console errors):
// htmx and our script must run under the console's strict CSP.
const browserErrors = [];
page.on('console', (message) => { if (message.type() === 'error') browserErrors.push(message.text()); });
page.on('pageerror', (error) => browserErrors.push(String(error)));
page.setDefaultTimeout(10000);
page.setDefaultNavigationTimeout(15000);

const ids = {};
try {
  // a. Signed out.
  await check('GET /console without a session answers 303 to /console/sign-in', async () => {
    const answer = await page.request.get(`${base}/console`, { maxRedirects: 0 });
    assert(answer.status() === 303, `status ${answer.status()}`);
    assert(pathOf(answer.headers().location || '') === '/console/sign-in', `location ${answer.headers().location}`);
  });
  await check('GET /console/tokens without a session redirects to the sign-in page', async () => {
    const answer = await page.request.get(`${base}/console/tokens`, { maxRedirects: 0 });
    assert([302, 303, 307].includes(answer.status()), `status ${answer.status()}, not a redirect`);
    assert(pathOf(answer.headers().location || '') === '/console/sign-in', `location ${answer.headers().location}`);
    await page.goto(`${base}/console/tokens`);
    assert(pathOf(page.url()) === '/console/sign-in', `landed on ${page.url()}`);
  });
  await check('sign-in page: a POST form to /console/sign-in with a labelled password field', async () => {
    if (pathOf(page.url()) !== '/console/sign-in') await page.goto(`${base}/console/sign-in`);
    const form = page.locator('form').filter({ has: page.locator('#token') });
    assert(await form.count() === 1, 'no form holding #token');
    assert((await form.getAttribute('method'))?.toLowerCase() === 'post', 'form method is not post');
    assert(pathOf(await form.getAttribute('action') ?? page.url()) === '/console/sign-in', 'form action');
    const field = page.getByLabel('Personal access token', { exact: true });
    assert(await field.getAttribute('id') === 'token', 'the label "Personal access token" is not for #token');
    assert(await field.getAttribute('type') === 'password', 'the token field is not type=password');
    assert(await field.getAttribute('name') === 'token', 'the token field is not name=token');
  });
  await pageBasics('sign-in page', { signedIn: false });
  await check('screenshot sign-in.png', () => shot('sign-in'));
  await check('a bad token: 401, an alert with the reason, still signed out', async () => {
    const answer = await signIn('gth_pat_this-is-not-a-real-token');
    assert(answer.status() === 401, `status ${answer.status()}`);
    assert(pathOf(page.url()) === '/console/sign-in', `now on ${page.url()}`);
    const alert = page.locator('[role=alert]');
    assert(await alert.count() >= 1 && await alert.first().isVisible(), 'no visible role=alert');
    assert((await alert.first().innerText()).trim().length > 0, 'the alert is empty');
    assert(!(await sessionCookie(context)), 'a gatehouse_session cookie was set');
    const after = await page.request.get(`${base}/console/tokens`, { maxRedirects: 0 });
    assert(after.status() >= 300 && after.status() < 400, `GET /console/tokens now answers ${after.status()}`);
  });

  // b. Sign in.
  await check('sign in with the admin token lands on /console/tokens', async () => {
    const answer = await signIn(adminToken);
    assert(answer.status() === 303, `POST /console/sign-in answered ${answer.status()}, not 303`);
    assert(pathOf(page.url()) === '/console/tokens', `now on ${page.url()}`);
  });
  await check('cookie gatehouse_session is HttpOnly, SameSite=Strict, Path=/console', async () => {
    const cookie = await sessionCookie(context);
    assert(cookie, 'no gatehouse_session cookie');
    assert(cookie.httpOnly === true, 'not HttpOnly');
    assert(cookie.sameSite === 'Strict', `SameSite=${cookie.sameSite}`);
    assert(cookie.path === '/console', `Path=${cookie.path}`);
    assert(!(await page.evaluate(() => document.cookie)).includes('gatehouse_session'), 'visible to scripts');
  });
  await check('GET /console with an administrator\'s session answers 303 to /console/overview', async () => {
    const answer = await page.request.get(`${base}/console`, { maxRedirects: 0 });
    assert(answer.status() === 303, `status ${answer.status()}`);
    assert(pathOf(answer.headers().location || '') === '/console/overview', `location ${answer.headers().location}`);
  });

  // c. Personal access tokens.
  await check('tokens page lists the admin\'s tokens "browser" and "spare"', async () => {
    await page.goto(`${base}/console/tokens`);
    for (const name of ['browser', 'spare']) {
      const row = page.locator('#tokens tr').filter({ hasText: name });
      assert(await row.count() >= 1, `no row for "${name}" in #tokens`);
    }
  });
  const secret = await check('create token "ci token" (people:read, 30 days): the secret is shown once', async () => {
    const form = formWith('Create token');
    assert(await form.count() === 1, 'no form with a "Create token" button');
    await form.getByLabel('Name', { exact: true }).fill('ci token');
    await form.getByLabel('Description', { exact: true }).fill('made by the browser test');
    const expires = form.getByLabel('Expires in', { exact: true });
    // The session's token lives 90 days from a moment ago: a token it makes may not outlive it.
    const options = await expires.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.disabled]));
    assert(JSON.stringify(options) === JSON.stringify([['7', false], ['30', false], ['60', false],
      ['90', true], ['180', true], ['365', true], ['session', false]]),
      `Expires in options ${JSON.stringify(options)}`);
    await expires.selectOption('30');
    const scope = form.getByLabel('people:read', { exact: true });
    assert(await scope.getAttribute('type') === 'checkbox' && await scope.getAttribute('name') === 'scopes',
      'the people:read label is not for a scopes checkbox');
    await scope.check();
    await form.getByRole('button', { name: 'Create token', exact: true }).click();
    await page.waitForLoadState('load');
    assert(await h1Text() === 'Token created', `h1 "${await h1Text()}"`);
    const value = (await page.locator('#new-secret').innerText()).trim();
    assert(/^gth_pat_\S+$/.test(value), `#new-secret is "${value.slice(0, 12)}…"`);
    assert((await page.locator('body').innerText()).includes('only once'), 'no "only once" warning');
    assert(await page.getByRole('button', { name: 'Copy', exact: true }).count() === 1, 'no Copy button');
    return value;
  });
  await check('screenshot token-created.png', () => shot('token-created'));
  await check('the new secret works on the REST API: GET /v1/me → 200', async () => {
    const answer = await api('GET', '/v1/me', secret);
    assert(answer.status === 200, `status ${answer.status}: ${answer.text.slice(0, 200)}`);
    assert(answer.json?.primary_email === 'ada@example.org', `me is ${answer.text.slice(0, 200)}`);
  });
  await check('REST agrees: "ci token" has exactly people:read and expires in 30 days', async () => {
    const answer = await api('GET', '/v1/personal_access_tokens', adminToken);
    const listed = (Array.isArray(answer.json) ? answer.json : answer.json?.data || []).find((t) => t.name === 'ci token');
    assert(listed, `not in GET /v1/personal_access_tokens (${answer.status})`);
    assert(JSON.stringify(listed.scopes) === '["people:read"]', `scopes ${JSON.stringify(listed.scopes)}`);
    assert(listed.description === 'made by the browser test', `description ${JSON.stringify(listed.description)}`);
    const days = (Date.parse(listed.expires_at) - Date.now()) / 86400000;
    assert(days > 29.9 && days < 30.1, `expires_at ${listed.expires_at} is ${days.toFixed(2)} days away`);
  });
  await check('"Back to tokens": "ci token" is listed, active, people:read', async () => {
    await page.getByRole('link', { name: 'Back to tokens', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/console/tokens');
    const row = page.locator('#tokens tr').filter({ hasText: 'ci token' });
    assert(await row.count() === 1, `${await row.count()} rows for "ci token"`);
    const cells = await cellTexts(row);
    assert(cells.includes('active'), `cells ${JSON.stringify(cells)}`);
    assert(cells.some((c) => c.includes('people:read')), `cells ${JSON.stringify(cells)}`);
    assert(await page.locator('#new-secret').count() === 0, 'the secret is shown again');
    assert(!(await page.content()).includes(secret), 'the secret is in the list page');
  });
  await check('screenshot tokens.png', () => shot('tokens'));
  await check('"ci token" page: renamed and described there; REST agrees', async () => {
    const row = page.locator('#tokens tr').filter({ hasText: 'ci token' });
    await row.getByRole('link', { name: 'ci token', exact: true }).click();
    await page.waitForLoadState('load');
    assert(await h1Text() === 'Token ci token', `h1 "${await h1Text()}"`);
    const form = formWith('Save token');
    assert(await form.count() === 1, 'no form with a "Save token" button');
    assert(await form.getByLabel('people:read', { exact: true }).isChecked(), 'people:read is not ticked');
    assert(await form.getByLabel('webhooks:read', { exact: true }).count() === 0, 'a wider scope is offered');
    await form.getByLabel('Name', { exact: true }).fill('ci token, renamed');
    await form.getByLabel('Description', { exact: true }).fill('renamed by the browser test');
    await form.getByRole('button', { name: 'Save token', exact: true }).click();
    await page.waitForLoadState('load');
    assert((await page.locator('.flash').innerText()).includes('Token saved'), 'no "Token saved"');
    const answer = await api('GET', '/v1/personal_access_tokens', adminToken);
    const listed = (Array.isArray(answer.json) ? answer.json : []).find((t) => t.name === 'ci token, renamed');
    assert(listed, 'the new name is not in GET /v1/personal_access_tokens');
    assert(listed.description === 'renamed by the browser test', `description ${JSON.stringify(listed.description)}`);
    assert(JSON.stringify(listed.scopes) === '["people:read"]', `scopes ${JSON.stringify(listed.scopes)}`);
  });
  await check('screenshot token.png', () => shot('token'));
  await page.goto(`${base}/console/tokens`);
  await check('Revoke "ci token": its status becomes revoked', async () => {
    const row = page.locator('#tokens tr').filter({ hasText: 'ci token' });
    await row.locator('button', { hasText: 'Revoke' }).click();
    await poll('the row shows revoked', async () => (await cellTexts(row)).includes('revoked'), 10000);
    assert(await row.locator('button', { hasText: 'Revoke' }).count() === 0, 'still a Revoke button');
    await page.reload();
    assert((await cellTexts(row)).includes('revoked'), 'not revoked after a reload');
  });
  await check('the revoked secret on the REST API: GET /v1/me → 401', async () => {
    const answer = await api('GET', '/v1/me', secret);
    assert(answer.status === 401, `status ${answer.status}`);
  });

  // d. CSRF.
  await check('POST create-token without csrf_token → 403, no token made', async () => {
    await page.goto(`${base}/console/tokens`);
    const form = formWith('Create token');
    const action = new URL(await form.getAttribute('action') ?? page.url(), page.url()).href;
    const answer = await page.request.post(action, {
      form: { name: 'csrf probe', description: '', expires_in: '30', scopes: 'people:read' },
      maxRedirects: 0,
    });
    assert(answer.status() === 403, `status ${answer.status()}`);
    const forged = await page.request.post(action, {
      form: { name: 'csrf probe', description: '', expires_in: '30', scopes: 'people:read', csrf_token: 'A'.repeat(43) },
      maxRedirects: 0,
    });
    assert(forged.status() === 403, `with a made-up csrf_token: status ${forged.status()}`);
    await page.reload();
    assert(await page.locator('#tokens tr').filter({ hasText: 'csrf probe' }).count() === 0, '"csrf probe" was created');
  });
  await check('POST revoke without csrf_token → 403, the token stays active', async () => {
    const row = page.locator('#tokens tr').filter({ hasText: 'spare' });
    const form = row.locator('form').filter({ has: page.locator('button', { hasText: 'Revoke' }) });
    const action = new URL(await form.getAttribute('action') ?? page.url(), page.url()).href;
    assert(/\/console\/tokens\/[^/]+\/revoke$/.test(action), `revoke action ${action}`);
    const answer = await page.request.post(action, { form: {}, maxRedirects: 0 });
    assert(answer.status() === 403, `status ${answer.status()}`);
    await page.reload();
    assert((await cellTexts(row)).includes('active'), `"spare" is ${JSON.stringify(await cellTexts(row))}`);
    const rest = await api('GET', '/v1/me', spareToken);
    assert(rest.status === 200, `the spare token now gets ${rest.status}`);
  });

  // e. Webhooks.
  await check('the event catalog (GET /v1/events/catalog) has scim_user.create', async () => {
    const answer = await api('GET', '/v1/events/catalog', adminToken);
    const names = (Array.isArray(answer.json) ? answer.json : answer.json?.data || []).map((e) => e.name);
    assert(names.includes('scim_user.create'), `${answer.status}: ${JSON.stringify(names).slice(0, 300)}`);
  });
  await check('New webhook "people hook" (scim_user.create → the receiver): the whsec_ secret once', async () => {
    await page.goto(`${base}/console/webhooks`);
    await page.getByRole('link', { name: 'New webhook', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/console/webhooks/new');
    const form = formWith('Create webhook');
    await form.getByLabel('Name', { exact: true }).fill('people hook');
    const event = form.getByLabel('Event', { exact: true });
    const list = await event.getAttribute('list');
    assert(list, 'the Event field has no datalist');
    const suggestions = await page.locator(`datalist[id="${list}"] option`).evaluateAll((os) => os.map((o) => o.value));
    assert(suggestions.includes('scim_user.create'), `datalist ${JSON.stringify(suggestions)}`);
    await event.fill('scim_user.create');
    await form.getByLabel('URI', { exact: true }).fill(receiverUrl);
    const policy = form.getByLabel('Webhook policy', { exact: true });
    assert((await policy.locator('option').first().innerText()).trim() === 'None', 'first policy option is not None');
    await form.getByLabel('Description', { exact: true }).fill('SCIM users, for the browser test');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && pathOf(r.url()) === '/console/webhooks'),
      form.getByRole('button', { name: 'Create webhook', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    const onItsPage = (url) => /^\/console\/webhooks\/[^/]+$/.test(pathOf(url)) && !pathOf(url).endsWith('/new');
    // The signing secret is shown on the answer to the POST itself: a secret never travels in a
    // redirect URL (logs, history), so there is no 303 here.
    assert(answer.status() === 200 && await h1Text() === 'Webhook created',
      `POST /console/webhooks answered ${answer.status()}, now on ${page.url()}`);
    const value = (await page.locator('#new-secret').innerText()).trim();
    await page.getByRole('link', { name: 'Open the webhook', exact: true }).click();
    await page.waitForURL((url) => onItsPage(url.href));
    ids.webhook = pathOf(page.url()).split('/').pop();
    assert(/^whsec_\S+$/.test(value), `#new-secret is "${value.slice(0, 10)}…"`);
    const rest = await api('GET', `/v1/webhooks/${ids.webhook}`, adminToken);
    assert(rest.status === 200 && rest.json?.name === 'people hook', `GET /v1/webhooks/${ids.webhook}: ${rest.status} ${rest.text.slice(0, 200)}`);
  });
  await check('the receiver got webhook.verify and its callback answered 200', async () => {
    await poll('a webhook.verify message', () => receivedFor('webhook.verify').length > 0, 10000);
    await poll('the callback', () => callbacks.length > 0, 10000);
    assert(callbacks[0].status === 200, `callback ${callbacks[0].url}: ${callbacks[0].status}`);
  });
  await check('the webhook page shows Active (reloaded until verified), the secret no more', async () => {
    await reloadUntil('status Active', `/console/webhooks/${ids.webhook}`,
      async () => await page.getByText('Active', { exact: true }).count() > 0);
    assert(await page.getByText('Unverified', { exact: true }).count() === 0, 'also says Unverified');
    assert(await page.locator('#new-secret').count() === 0, 'the signing secret is shown again');
    assert(await page.getByRole('button', { name: 'Save changes', exact: true }).count() === 1, 'no Save changes');
  });
  await check('screenshot webhook.png', () => shot('webhook'));
  await check('webhooks list: "people hook", scim_user.create, the URI, Active', async () => {
    await page.goto(`${base}/console/webhooks`);
    const row = page.locator('#webhooks tr').filter({ hasText: 'people hook' });
    assert(await row.count() === 1, `${await row.count()} rows`);
    const cells = await cellTexts(row);
    for (const want of ['scim_user.create', receiverUrl, 'Active']) {
      assert(cells.some((c) => c === want || c.includes(want)), `no "${want}" in ${JSON.stringify(cells)}`);
    }
    const href = await row.getByRole('link', { name: 'people hook', exact: true }).getAttribute('href');
    assert(pathOf(href) === `/console/webhooks/${ids.webhook}`, `link ${href}`);
  });
  await check('screenshot webhooks.png', () => shot('webhooks'));

  // f. Webhook policies.
  const pem = await check('New policy "ci policy" (rs256, audience ci-receiver, "people hook"): the public key once', async () => {
    await page.goto(`${base}/console/webhook-policies`);
    await page.getByRole('link', { name: 'New policy', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/console/webhook-policies/new');
    const form = formWith('Create policy');
    await form.getByLabel('Name', { exact: true }).fill('ci policy');
    const alg = form.getByLabel('JWT algorithm', { exact: true });
    assert(await alg.inputValue() === 'rs256', `JWT algorithm defaults to ${await alg.inputValue()}`);
    const expires = form.getByLabel('Claim expires in', { exact: true });
    assert(await expires.inputValue() === '', `claim expiry defaults to "${await expires.inputValue()}", not empty (no exp, Xurrent's default)`);
    assert(await form.getByLabel('Format', { exact: true }).inputValue() === 'xurrent', 'the format defaults to xurrent');
    await expires.fill('00:05');
    await form.getByLabel('Audience', { exact: true }).fill('ci-receiver');
    await form.getByLabel('Format', { exact: true }).selectOption('jwt');
    await form.getByLabel('people hook', { exact: true }).check();
    await form.getByRole('button', { name: 'Create policy', exact: true }).click();
    await page.waitForLoadState('load');
    assert(await h1Text() === 'Policy created', `h1 "${await h1Text()}"`);
    const text = await page.locator('#public-key-pem').textContent();
    assert(text.startsWith('-----BEGIN PUBLIC KEY-----'), `#public-key-pem starts "${text.slice(0, 30)}"`);
    assert(text.trim().endsWith('-----END PUBLIC KEY-----'), 'no END PUBLIC KEY line');
    assert((await page.locator('body').innerText()).includes('only once'), 'no "only once" warning');
    return text;
  });
  await check('screenshot policy-created.png', () => shot('policy-created'));
  await check('"Download public key": a data: link with download=….pem, the file is the PEM', async () => {
    const link = page.getByRole('link', { name: 'Download public key', exact: true });
    const download = await link.getAttribute('download');
    assert(download !== null && download.endsWith('.pem'), `download="${download}"`);
    const href = await link.getAttribute('href');
    const prefix = 'data:application/x-pem-file;base64,';
    assert(href.startsWith(prefix), `href starts "${href.slice(0, 40)}"`);
    const fromHref = Buffer.from(href.slice(prefix.length), 'base64').toString('utf8');
    const [event] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = fs.readFileSync(await event.path(), 'utf8');
    assert(saved === fromHref, 'the saved file differs from the link\'s data');
    assert(event.suggestedFilename().endsWith('.pem'), `saved as ${event.suggestedFilename()}`);
    assert(saved === pem, `the saved file is not the PEM shown:\n${JSON.stringify(saved)}\n${JSON.stringify(pem)}`);
  });
  await check('the policy page (reloaded) no longer shows the public key', async () => {
    const links = await page.locator('main a, body a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const policyLink = links.find((h) => h && /^\/console\/webhook-policies\/[^/]+$/.test(pathOf(h))
      && !h.endsWith('/new'));
    assert(policyLink, `no link to the policy page among ${JSON.stringify(links)}`);
    ids.policy = pathOf(policyLink).split('/').pop();
    await page.goto(new URL(policyLink, page.url()).href);
    await page.reload();
    assert(await page.locator('#public-key-pem').count() === 0, '#public-key-pem is there');
    assert(!(await page.content()).includes('BEGIN PUBLIC KEY'), 'a PEM is on the page');
    assert(await page.getByRole('button', { name: 'Save changes', exact: true }).count() === 1, 'no Save changes');
    assert(await page.getByLabel('Overlap (seconds)', { exact: true }).count() === 1, 'no Rotate key form');
  });
  await check('"people hook" is linked to the policy and still active (REST)', async () => {
    const rest = await api('GET', `/v1/webhooks/${ids.webhook}`, adminToken);
    assert(rest.json?.webhook_policy_id === ids.policy, `webhook_policy_id ${rest.json?.webhook_policy_id}, policy ${ids.policy}`);
    assert(rest.json?.state === 'active', `state ${rest.json?.state}`);
  });
  await check('webhook policies list shows "ci policy"', async () => {
    await page.goto(`${base}/console/webhook-policies`);
    assert(await page.getByText('ci policy').count() >= 1, 'no "ci policy"');
  });
  await check('screenshot webhook-policies.png', () => shot('webhook-policies'));

  // g. SCIM over plain HTTP.
  await check('SCIM: POST /scim/v2/Users grace@example.org → 201', async () => {
    const answer = await api('POST', '/scim/v2/Users', adminToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'grace@example.org',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: 'grace@example.org', primary: true, type: 'work' }],
      active: true,
    }, 'application/scim+json');
    assert(answer.status === 201, `status ${answer.status}: ${answer.text.slice(0, 200)}`);
    ids.user = answer.json.id;
  });
  await check('SCIM: POST /scim/v2/Groups Engineers with grace → 201', async () => {
    const answer = await api('POST', '/scim/v2/Groups', adminToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineers',
      members: [{ value: ids.user }],
    }, 'application/scim+json');
    assert(answer.status === 201, `status ${answer.status}: ${answer.text.slice(0, 200)}`);
    ids.group = answer.json.id;
  });

  // h. SCIM pages.
  const graceLink = () => page.locator('#scim-users').getByRole('link', { name: 'grace@example.org', exact: true });
  await check('SCIM users page: the provisioning-client banner and a link to grace', async () => {
    await page.goto(`${base}/console/scim/users`);
    const banner = page.locator('.banner[role=note]');
    assert(await banner.count() === 1, 'no .banner[role=note]');
    assert((await banner.innerText()).includes('provisioning client'), `banner "${await banner.innerText()}"`);
    assert(await graceLink().count() === 1, 'no grace link');
    assert(pathOf(await graceLink().getAttribute('href')) === `/console/scim/users/${ids.user}`, 'link target');
  });
  await check('screenshot scim-users.png', () => shot('scim-users'));
  await check('SCIM users search "grace" finds her, "zzz" does not', async () => {
    // htmx narrows the list in place (and pushes the URL): wait for the URL and the list.
    const search = async (text, shown) => {
      await page.getByLabel('Search', { exact: true }).and(page.locator('input')).fill(text);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await poll(`search "${text}" ${shown ? 'shows' : 'hides'} grace`, async () =>
        new URL(page.url()).searchParams.get('search') === text && await graceLink().count() === (shown ? 1 : 0), 10000);
    };
    await search('grace', true);
    await search('zzz', false);
  });
  await check('SCIM user page: h1 grace@example.org, her fields, the resource JSON, the banner', async () => {
    await page.goto(`${base}/console/scim/users`);
    await graceLink().click();
    await page.waitForURL((url) => url.pathname === `/console/scim/users/${ids.user}`);
    assert(await h1Text() === 'grace@example.org', `h1 "${await h1Text()}"`);
    assert(await page.locator('dl').count() >= 1, 'no <dl>');
    const text = await page.locator('body').innerText();
    for (const want of ['Hopper', 'urn:ietf:params:scim:schemas:core:2.0:User', ids.user]) {
      assert(text.includes(want), `no "${want}"`);
    }
    assert(await page.locator('.banner[role=note]').count() === 1, 'no .banner[role=note]');
  });
  await check('screenshot scim-user.png', () => shot('scim-user'));
  await check('SCIM groups page lists Engineers; its page links to grace', async () => {
    await page.goto(`${base}/console/scim/groups`);
    const link = page.locator('#scim-groups').getByRole('link', { name: 'Engineers', exact: true });
    assert(await link.count() === 1, 'no Engineers link');
    assert(pathOf(await link.getAttribute('href')) === `/console/scim/groups/${ids.group}`, 'link target');
    await shot('scim-groups');
    await link.click();
    await page.waitForURL((url) => url.pathname === `/console/scim/groups/${ids.group}`);
    const member = page.locator(`a[href$="/console/scim/users/${ids.user}"]`);
    assert(await member.count() >= 1, 'no link to grace\'s page');
  });

  // i. Deliveries.
  const deliveryRow = () => page.locator('#deliveries tr').filter({ hasText: 'scim_user.create' });
  await check('deliveries page: the scim_user.create delivery, succeeded (reloaded until then)', async () => {
    await reloadUntil('a succeeded scim_user.create delivery', '/console/deliveries',
      async () => await deliveryRow().count() === 1 && (await cellTexts(deliveryRow())).includes('succeeded'));
  });
  await check('screenshot deliveries.png', () => shot('deliveries'));
  await check('deliveries filters: status=failed hides it, the webhook shows it', async () => {
    // htmx narrows the list in place (and pushes the URL): wait for the URL and the list.
    const param = (name) => new URL(page.url()).searchParams.get(name);
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await poll('status=failed hides it', async () => param('status') === 'failed' && await deliveryRow().count() === 0, 10000);
    await page.goto(`${base}/console/deliveries`);
    await page.getByLabel('Webhook', { exact: true }).selectOption({ label: 'people hook' });
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await poll('the webhook filter shows it', async () =>
      param('webhook_id') === ids.webhook && await deliveryRow().count() === 1, 10000);
  });
  await check('without JavaScript the filters are plain GET forms: status=failed, then search "zzz"', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    try {
      await plain.addCookies(await context.cookies(`${base}/console/tokens`));
      const noJs = await plain.newPage();
      noJs.setDefaultTimeout(10000);
      await noJs.goto(`${base}/console/deliveries`);
      const row = () => noJs.locator('#deliveries tr').filter({ hasText: 'scim_user.create' });
      assert(await row().count() === 1, 'no scim_user.create row');
      await noJs.getByLabel('Status', { exact: true }).selectOption('failed');
      await Promise.all([
        noJs.waitForURL((url) => url.searchParams.get('status') === 'failed'),
        noJs.getByRole('button', { name: 'Filter', exact: true }).click(),
      ]);
      assert(await row().count() === 0, 'shown with status=failed');
      await noJs.goto(`${base}/console/scim/users`);
      await noJs.getByLabel('Search', { exact: true }).and(noJs.locator('input')).fill('zzz');
      await Promise.all([
        noJs.waitForURL((url) => url.searchParams.get('search') === 'zzz'),
        noJs.getByRole('button', { name: 'Search', exact: true }).click(),
      ]);
      assert(await noJs.locator('#scim-users').getByRole('link', { name: 'grace@example.org' }).count() === 0, 'zzz shows grace');
    } finally {
      await plain.close();
    }
  });
  await check('delivery page: signed (JWT claims with aud ci-receiver), an attempt answered 200', async () => {
    await deliveryRow().locator('td').first().getByRole('link').click();
    await page.waitForURL((url) => /^\/console\/deliveries\/[^/]+$/.test(url.pathname));
    ids.delivery = pathOf(page.url()).split('/').pop();
    assert(await h1Text() === 'Delivery scim_user.create', `h1 "${await h1Text()}"`);
    assert(await page.locator('#request-body, #jwt-claims').count() >= 1, 'neither #request-body nor #jwt-claims');
    const claims = await page.locator('#jwt-claims').innerText();
    assert(claims.includes('"aud"') && claims.includes('ci-receiver'), `#jwt-claims: ${claims.slice(0, 300)}`);
    const attempts = page.locator('#attempts tr').filter({ has: page.locator('td') });
    assert(await attempts.count() >= 1, 'no attempt rows');
    const all = await Promise.all((await attempts.all()).map(cellTexts));
    assert(all.some((cells) => cells.includes('200')), `attempts ${JSON.stringify(all).slice(0, 300)}`);
  });
  await check('screenshot delivery.png', () => shot('delivery'));
  await check('the receiver got scim_user.create once, as a JWT with aud ci-receiver', async () => {
    const got = receivedFor('scim_user.create');
    assert(got.length === 1, `${got.length} messages`);
    assert(got[0].contentType.startsWith('application/jwt'), `content-type ${got[0].contentType}`);
    const aud = got[0].claims?.aud;
    assert(aud === 'ci-receiver' || (Array.isArray(aud) && aud.includes('ci-receiver')), `aud ${JSON.stringify(aud)}`);
  });
  await check('Redeliver: a new delivery page with a "Redelivered" flash; the receiver gets it again', async () => {
    await page.getByRole('button', { name: 'Redeliver', exact: true }).click();
    await page.waitForURL((url) => /^\/console\/deliveries\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith(ids.delivery));
    const flash = page.locator('[role=status].flash');
    assert(await flash.count() >= 1 && (await flash.first().innerText()).includes('Redelivered'), 'no "Redelivered" flash');
    await poll('the second scim_user.create message', () => receivedFor('scim_user.create').length >= 2, 15000);
  });

  // j. Notifications.
  await check('notifications page renders', async () => {
    const answer = await page.goto(`${base}/console/notifications`);
    assert(answer.status() === 200, `status ${answer.status()}`);
    await h1Text();
    const table = await page.locator('#notifications').count();
    const none = await page.getByText('No notifications').count();
    assert(table === 1 || none >= 1, 'neither #notifications nor "No notifications"');
  });
  await check('screenshot notifications.png', () => shot('notifications'));
  await check('an unknown delivery id → 404 page', async () => {
    const answer = await page.goto(`${base}/console/deliveries/01a22919-0000-7000-8000-000000000000`);
    assert(answer.status() === 404, `status ${answer.status()}`);
    await h1Text();
  });

  // k2. The account's SCIM provisioning credential.
  const scimSecret = await check('SCIM credential: "Create credential" shows a gth_scim_ secret once', async () => {
    await page.goto(`${base}/console/scim-token`);
    assert(await h1Text() === 'SCIM provisioning credential', `h1 "${await h1Text()}"`);
    await formWith('Create credential').getByRole('button', { name: 'Create credential', exact: true }).click();
    await page.waitForLoadState('load');
    assert(await h1Text() === 'Credential created', `h1 "${await h1Text()}"`);
    const value = (await page.locator('#new-secret').innerText()).trim();
    assert(/^gth_scim_\S+$/.test(value), `#new-secret is "${value.slice(0, 12)}…"`);
    return value;
  });
  await check('the credential provisions: GET /scim/v2/Users → 200; REST refuses it', async () => {
    const scim = await api('GET', '/scim/v2/Users', scimSecret);
    assert(scim.status === 200, `SCIM status ${scim.status}: ${scim.text.slice(0, 200)}`);
    const rest = await api('GET', '/v1/me', scimSecret);
    assert(rest.status === 401, `REST status ${rest.status}`);
  });
  await check('rotate with a 7-day overlap: the new secret and the old one both work', async () => {
    await page.goto(`${base}/console/scim-token`);
    const form = formWith('Rotate secret');
    await form.getByLabel('The old secret keeps working for', { exact: true }).selectOption('7');
    await form.getByRole('button', { name: 'Rotate secret', exact: true }).click();
    await page.waitForLoadState('load');
    const value = (await page.locator('#new-secret').innerText()).trim();
    assert(/^gth_scim_\S+$/.test(value) && value !== scimSecret, 'no new secret');
    for (const secretValue of [scimSecret, value]) {
      const answer = await api('GET', '/scim/v2/Users', secretValue);
      assert(answer.status === 200, `status ${answer.status}`);
    }
    await page.goto(`${base}/console/scim-token`);
    const card = await page.locator('#credential').innerText();
    assert(card.includes('Previous secret') && card.includes('Last used'), `card: ${card}`);
    assert(!(await page.content()).includes(value), 'the secret is shown again');
  });
  await check('screenshot scim-token.png', () => shot('scim-token'));

  // k2b. People: search, then Sam's page (Ada outranks her specialist).
  await check('People: searching "sam" finds Sam alone; her page disables her; REST agrees', async () => {
    await page.goto(`${base}/console/people`);
    assert(await h1Text() === 'People', `h1 "${await h1Text()}"`);
    await page.getByLabel('Search', { exact: true }).fill('sam');
    await poll('one row', async () => (await page.locator('#people tbody tr').count()) === 1, 10000);
    await page.locator('#people').getByRole('link', { name: 'Sam Specialist', exact: true }).click();
    await page.waitForLoadState('load');
    assert(await h1Text() === 'Sam Specialist', `h1 "${await h1Text()}"`);
    await formWith('Disable person').getByRole('button', { name: 'Disable person', exact: true }).click();
    await page.waitForLoadState('load');
    assert((await page.locator('#person').innerText()).includes('disabled'), 'not shown disabled');
    const answer = await api('GET', '/v1/people?q=sam', adminToken);
    assert(answer.json?.[0]?.disabled === true, `REST ${answer.text.slice(0, 200)}`);
    await formWith('Enable person').getByRole('button', { name: 'Enable person', exact: true }).click();
    await page.waitForLoadState('load');
    const after = await api('GET', '/v1/people?q=sam', adminToken);
    assert(after.json?.[0]?.disabled === false, 'not enabled again');
  });
  await check('screenshot people.png', async () => {
    await page.goto(`${base}/console/people`);
    await shot('people');
  });

  // k3. The account's settings and the events page.
  await check('Account page: keep deliveries 30 days, PATCH answers 204; REST agrees', async () => {
    await page.goto(`${base}/console/account`);
    assert(await h1Text() === 'Account', `h1 "${await h1Text()}"`);
    const form = formWith('Save account');
    await form.getByLabel('Keep finished deliveries for (days)', { exact: true }).fill('30');
    await form.getByLabel('204 No Content (what Entra ID\'s guide prefers)', { exact: true }).check();
    await form.getByRole('button', { name: 'Save account', exact: true }).click();
    await page.waitForLoadState('load');
    assert((await page.locator('.flash').innerText()).includes('Account saved'), 'no "Account saved"');
    const answer = await api('GET', '/v1/account', adminToken);
    assert(answer.json?.settings?.delivery_retention_days === 30, `settings ${JSON.stringify(answer.json?.settings)}`);
    assert(answer.json?.settings?.scim_patch_response === 'no_content', `settings ${JSON.stringify(answer.json?.settings)}`);
    const card = await page.locator('#account').innerText();
    assert(card.includes('30 days') && card.includes('204'), `card: ${card}`);
  });
  await check('screenshot account.png', () => shot('account'));
  await check('Events page: the catalogue, and a published custom event is acknowledged', async () => {
    await page.goto(`${base}/console/events`);
    assert(await h1Text() === 'Events', `h1 "${await h1Text()}"`);
    const catalogue = await page.locator('#event-catalogue').innerText();
    assert(catalogue.includes('person.create') && catalogue.includes('scim_token.rotate'), 'catalogue rows missing');
    const form = formWith('Publish event');
    await form.getByLabel('Event', { exact: true }).fill('app.browser.tested');
    await form.getByLabel('Object id', { exact: true }).fill('B-1');
    await form.getByLabel('Payload (a JSON object)', { exact: true }).fill('{"ok": true}');
    await form.getByRole('button', { name: 'Publish event', exact: true }).click();
    await page.waitForLoadState('load');
    const published = await page.locator('#published').innerText();
    assert(published.includes('app.browser.tested') && published.includes('queued for'), `flash: ${published}`);
  });
  await check('screenshot events.png', () => shot('events'));

  // k4. The overview charts what the API reports.
  await check('Overview: the 24-hour chart\'s successes are REST\'s succeeded deliveries; each chart is an image with a text alternative', async () => {
    await page.goto(`${base}/console/overview`);
    assert(await h1Text() === 'Overview', `h1 "${await h1Text()}"`);
    const rest = await api('GET', '/v1/webhook_deliveries?status=succeeded&per_page=100', adminToken);
    assert(Array.isArray(rest.json), `REST ${rest.status}`);
    const rows = await page.locator('#chart-hourly tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))));
    assert(rows.length === 24, `${rows.length} hourly rows`);
    const succeeded = rows.reduce((sum, cells) => sum + cells[0], 0);
    assert(succeeded === rest.json.length, `chart ${succeeded} vs REST ${rest.json.length}`);
    for (const id of ['chart-hourly', 'chart-daily', 'chart-scim']) {
      const svg = page.locator(`#${id} svg`);
      assert(await svg.getAttribute('role') === 'img', `#${id} svg has no role=img`);
      const desc = await page.locator(`#${id} desc`).textContent();
      assert(desc && desc.trim().length > 0, `#${id} has no <desc>`);
    }
    const attempts = Number(await page.locator('#attempts-24h').innerText());
    assert(attempts >= succeeded, `attempts ${attempts} < successes ${succeeded}`);
    const credential = await page.locator('#credential-use').innerText();
    assert(credential.includes('last used'), `credential: ${credential}`);
  });
  await check('screenshot overview.png', () => shot('overview'));
  await check('the webhook\'s page charts its 24 hours and lists its last deliveries', async () => {
    await page.goto(`${base}/console/webhooks/${ids.webhook}`);
    assert(await page.locator('#chart-webhook svg').count() === 1, 'no #chart-webhook');
    const rows = await page.locator('#recent-deliveries tbody tr').count();
    const rest = await api('GET', `/v1/webhooks/${ids.webhook}/deliveries?per_page=10`, adminToken);
    assert(rows === Math.min(10, rest.json?.length ?? -1), `${rows} rows vs REST ${rest.json?.length}`);
  });

  // l. Accessibility basics on every main page, then narrow screens.
  const pages = [
    ['overview page', '/console/overview'],
    ['tokens page', '/console/tokens'],
    ['SCIM users page', '/console/scim/users'],
    ['SCIM user page', `/console/scim/users/${ids.user}`],
    ['SCIM groups page', '/console/scim/groups'],
    ['SCIM group page', `/console/scim/groups/${ids.group}`],
    ['SCIM credential page', '/console/scim-token'],
    ['account page', '/console/account'],
    ['people page', '/console/people'],
    ['events page', '/console/events'],
    ['webhooks page', '/console/webhooks'],
    ['new webhook page', '/console/webhooks/new'],
    ['webhook page', `/console/webhooks/${ids.webhook}`],
    ['webhook policies page', '/console/webhook-policies'],
    ['new policy page', '/console/webhook-policies/new'],
    ['policy page', `/console/webhook-policies/${ids.policy}`],
    ['deliveries page', '/console/deliveries'],
    ['delivery page', `/console/deliveries/${ids.delivery}`],
    ['notifications page', '/console/notifications'],
  ];
  for (const [name, url] of pages) {
    const shown = url.replace(/\/[0-9a-f]{8}-[0-9a-f-]{27}$/, '/{id}'); // stable check names
    const answer = await check(`${name} (${shown}) answers 200`, async () => {
      const response = await page.goto(base + url);
      assert(response.status() === 200, `status ${response.status()}`);
      return true;
    });
    if (answer) await pageBasics(name);
  }
  await page.setViewportSize({ width: 375, height: 800 });
  for (const [name, url] of [['deliveries page', '/console/deliveries'], ['tokens page', '/console/tokens'], ['overview page', '/console/overview']]) {
    await check(`${name} at 375 px: no horizontal overflow`, async () => {
      await page.goto(base + url);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (url === '/console/deliveries') await shot('deliveries-375');
      assert(width <= 375, `document scrollWidth ${width}`);
    });
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // k. Sign out; the specialist.
  await check('Sign out: back on the sign-in page, the old session no longer works', async () => {
    const old = await sessionCookie(context);
    await page.goto(`${base}/console/tokens`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/console/sign-in');
    const now = await sessionCookie(context);
    assert(!now || now.value !== old.value, 'the cookie is unchanged');
    const replay = await fetch(`${base}/console/tokens`, {
      headers: { cookie: `gatehouse_session=${old.value}` }, redirect: 'manual',
    });
    assert(replay.status >= 300 && replay.status < 400 && pathOf(replay.headers.get('location') || '') === '/console/sign-in',
      `the old session cookie still gets ${replay.status} ${replay.headers.get('location') || ''}`);
  });
  await check('the specialist signs in; the tokens page shows only their own tokens', async () => {
    const answer = await signIn(specialistToken);
    assert(answer.status() === 303 && pathOf(page.url()) === '/console/tokens', `${answer.status()}, now on ${page.url()}`);
    const rows = page.locator('#tokens tr');
    assert(await rows.filter({ hasText: 'sam-laptop' }).count() === 1, 'no "sam-laptop"');
    for (const other of ['browser', 'spare', 'ci token']) {
      assert(await rows.filter({ hasText: other }).count() === 0, `Ada's "${other}" is listed`);
    }
  });
  for (const url of ['/console/webhooks', '/console/webhook-policies', '/console/deliveries', '/console/scim/users']) {
    await check(`the specialist gets a 403 page at ${url}`, async () => {
      const answer = await page.goto(base + url);
      assert(answer.status() === 403, `status ${answer.status()}`);
      await h1Text();
      assert(!(await page.content()).includes('people hook'), 'the page shows the webhook');
    });
  }

  await check('no script error or CSP refusal in the browser (htmx loaded under the CSP)', async () => {
    const htmxLoaded = await page.evaluate(() => typeof window.htmx === 'object');
    assert(htmxLoaded, 'window.htmx is missing: the embedded htmx did not load');
    const relevant = browserErrors.filter((text) => !/status of 4\d\d/.test(text)); // 403/404 pages are tested on purpose
    assert(relevant.length === 0, relevant.join(' | '));
  });

  // m. The API reference (/v1/docs): Redoc, embedded, renders the live OpenAPI document under
  // the page's own CSP, without a session, and asks no other host for anything.
  const consolePage = page;
  const docsContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await docsContext.newPage();
  const docsErrors = [];
  const foreignRequests = [];
  page.on('console', (message) => { if (message.type() === 'error') docsErrors.push(message.text()); });
  page.on('pageerror', (error) => docsErrors.push(String(error)));
  page.on('request', (request) => {
    const url = request.url(); // our pages and assets, Redoc's blob: worker, data: URLs
    if (![`${base}/`, `blob:${base}/`, 'data:'].some((own) => url.startsWith(own))) foreignRequests.push(url);
  });
  // Besides the console errors Chromium prints for them: every CSP refusal, as the page saw it.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI || 'inline'}`);
    });
  });
  page.setDefaultTimeout(15000);
  const summaries = await (async () => {
    const openapi = await (await fetch(`${base}/v1/openapi.json`)).json();
    const all = new Map(); // "METHOD path" -> summary, whitespace as the page shows it
    for (const [route, item] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (operation?.summary) all.set(`${method.toUpperCase()} ${route}`, operation.summary.replace(/\s+/g, ' ').trim());
      }
    }
    return all;
  })();
  await check('GET /v1/docs: Redoc renders the summaries of the document\'s operations', async () => {
    const answer = await page.goto(`${base}/v1/docs`);
    assert(answer.status() === 200, `status ${answer.status()}`);
    assert(/script-src 'self';/.test(answer.headers()['content-security-policy'] || ''), 'no strict CSP');
    for (const operation of ['GET /v1/me', 'POST /v1/personal_access_tokens', 'POST /v1/webhooks']) {
      const summary = summaries.get(operation);
      assert(summary, `${operation} has no summary in /v1/openapi.json`);
      await page.locator('h2').filter({ hasText: summary }).first().waitFor({ state: 'attached' });
    }
    const shown = await page.locator('h2').allInnerTexts();
    const missing = [...summaries].filter(([, summary]) => !shown.some((text) => text.replace(/\s+/g, ' ').trim() === summary));
    assert(missing.length === 0, `not on the page: ${missing.map(([operation]) => operation).join(', ')}`);
    assert(await page.getByText('Gatehouse REST API').first().isVisible(), 'no title');
  });
  await check('screenshot api-docs.png', () => shot('api-docs', { fullPage: false }));
  await check('/v1/docs: the search (a blob: worker under the CSP) finds "revoke"', async () => {
    await page.getByPlaceholder('Search...').fill('revoke');
    const results = page.locator('[data-role="search:results"] li');
    await poll('search results', async () => (await results.count()) > 0);
    const texts = (await results.allInnerTexts()).join(' | ');
    assert(texts.includes(summaries.get('POST /v1/personal_access_tokens/{id}/revoke')), `results: ${texts}`);
  });
  await check('/v1/docs: no script error, no CSP refusal, nothing asked of another host', async () => {
    const violations = await page.evaluate(() => window.cspViolations);
    assert(violations.length === 0, `CSP: ${violations.join(' | ')}`);
    assert(docsErrors.length === 0, docsErrors.join(' | '));
    assert(foreignRequests.length === 0, `requests: ${foreignRequests.join(' | ')}`);
  });
  await docsContext.close();
  page = consolePage;

  await check('every screenshot was written in this run', async () => {
    const missing = SCREENSHOTS.filter((name) => !shotsTaken.has(name));
    assert(missing.length === 0, `missing: ${missing.join(', ')}`);
  });
} finally {
  await browser.close();
  receiver.close();
  receiver.closeAllConnections?.();
}

for (const text of deviations) console.log(`# deviation from the contract: ${text}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
