// A user's whole journey through the dashboard, in real headless Chromium (Debian's, driven by
// playwright-core: no browser download). Run by tests/it/browser.rs, which starts the service and a
// receiver and passes their addresses in the environment; with JOURNEY_PASS=brand it runs instead a
// short pass over every page of a service with a portal name, accent and logo. Exits 0 only if
// every step passed, no page logged a console error, threw, failed a request, answered >= 400 or
// opened a dialog, and axe-core found no serious or critical problem on any page, light or dark.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const BASE = need("SPEAKNODE_BASE_URL");
const API_KEY = need("SPEAKNODE_API_KEY");
const RECEIVER_URL = need("RECEIVER_URL");
const RECEIVER_CONTROL_URL = need("RECEIVER_CONTROL_URL");
const SHOTS = process.env.SCREENSHOT_DIR || "target/screenshots";
const XSS = "<script>alert(1)</script>";
// "full": the whole journey; "brand": a short pass over each page of a branded service.
const PASS = process.env.JOURNEY_PASS || "full";
const BRAND_NAME = process.env.PORTAL_NAME;
const ACCENT = process.env.PORTAL_ACCENT;

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run this through cargo test --test browser)`);
  return value;
}

const problems = [];
let currentStep = "start";

function step(name) {
  currentStep = name;
  console.log(`- ${name}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`${currentStep}: ${message}`);
}

async function eventually(what, probe, { timeout = 20000, every = 250, between } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${currentStep}: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
    if (between) await between();
  }
}

async function api(method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  check(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function receiverReplies(reply) {
  const response = await fetch(RECEIVER_CONTROL_URL, { method: "POST", body: reply });
  check(response.ok, `the receiver refused ${reply}`);
}

function emit(sessionId) {
  const data = { session_id: sessionId, agent_id: "agent_journey", started_at: "2026-11-26T16:58:01Z" };
  return api("POST", "/api/v1/events", { type: "SessionStarted", data });
}

/// Watches every page for anything a user (or a developer console) would see go wrong;
/// `expected404` names the one page that must answer 404 (the invalid-link page).
function watch(page, { expected404 } = {}) {
  page.on("console", (m) => {
    // Chromium logs a page that answers 404 as a console error, whatever its content.
    if (expected404 && m.text().includes("404")) return;
    if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught exception on ${page.url()}: ${e.message}`));
  page.on("requestfailed", (r) => {
    const error = r.failure()?.errorText;
    // ERR_ABORTED is the browser cancelling a load because the page moved on (a quick click
    // while the icon was still loading), not a request that failed.
    if (error !== "net::ERR_ABORTED") problems.push(`request failed: ${r.url()} (${error})`);
  });
  page.on("response", (r) => {
    const fine = r.status() === 404 && expected404 && r.url().endsWith(expected404);
    if (r.status() >= 400 && !fine) problems.push(`${r.status()} for ${r.url()}`);
  });
  page.on("dialog", async (d) => {
    problems.push(`a dialog opened (${d.type()}: ${d.message()}): page content ran as script`);
    await d.dismiss();
  });
}

// axe-core checks each page as it is: WCAG 2.1 A and AA plus axe's best practices, in the light
// and in the dark scheme. Serious and critical findings fail the journey; the others are listed.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const axeFindings = [];

async function accessible(page, label) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    // Evaluated through the DevTools protocol, which the page's CSP does not govern: an injected
    // <script> (page.addScriptTag) is inline script, which `script-src 'self'` refuses.
    if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async (tags) => {
      const results = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
      return results.violations.map((v) => ({
        id: v.id, impact: v.impact, count: v.nodes.length,
        targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
      }));
    }, AXE_TAGS);
    const where = `${label} (${scheme})`;
    axeFindings.push({ where, violations });
    for (const v of violations) {
      const line = `axe on ${where}: ${v.id} [${v.impact}] x${v.count}: ${v.targets.join(" | ")}`;
      if (v.impact === "serious" || v.impact === "critical") problems.push(line);
      else console.log(`  (${line})`);
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function shot(page, name) {
  // The sidebar is sticky: from the top, a full-page picture shows it where a user sees it.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/// The same page as a browser set to a dark appearance shows it.
async function darkShot(page, name) {
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, name);
  await page.emulateMedia({ colorScheme: "light" });
}

/// After sign-in, no page may contain the API key.
async function keyNotShown(page) {
  check(!(await page.content()).includes(API_KEY), `the API key appears in ${page.url()}`);
  check(!page.url().includes(API_KEY), "the API key appears in the URL");
}

const rows = (page) => page.locator("#history li.attempt");
const rowWith = (page, label) => rows(page).filter({ has: page.locator(`.pill:text-is("${label}")`) });

async function reloadUntilRow(page, label, count = 1) {
  await eventually(`${count} "${label}" row(s) in the Request History`, async () => (await rowWith(page, label).count()) >= count, {
    between: () => page.reload(),
  });
}

async function signIn(page) {
  step("a signed-out visitor is sent to /login");
  await page.goto(BASE + "/");
  check(new URL(page.url()).pathname === "/login", `landed on ${page.url()}`);
  await shot(page, "login");
  await accessible(page, "sign-in");

  step("a wrong API key shows an error");
  await page.getByLabel("API key").fill("sk_this_is_not_a_valid_key_000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
  check(new URL(page.url()).pathname === "/login", "a wrong key must not sign in");
  await accessible(page, "sign-in with an error");

  step("signing in with the keyboard only");
  await page.getByLabel("API key").focus();
  await page.keyboard.type(API_KEY);
  await page.keyboard.press("Enter");
  await page.waitForURL(BASE + "/webhooks");
  await page.getByText("No webhooks yet").waitFor();
  await keyNotShown(page);
  await accessible(page, "webhooks list, empty");
}

async function createWebhook(page) {
  step("the form keeps what was typed and shows a bad URL's error beside the field");
  await page.getByRole("link", { name: "+ Create Webhook" }).first().click();
  check(await page.getByLabel("Enabled").isChecked(), "Enabled is on by default");
  await page.getByLabel("URL").fill("not a url");
  await page.getByLabel("Description").fill(XSS);
  await page.getByLabel("SessionStarted").check();
  await page.getByRole("button", { name: "Save" }).click();
  const error = page.locator("#url-error");
  await error.waitFor();
  check((await error.textContent()).includes("URL is not a valid URL"), `error reads: ${await error.textContent()}`);
  check((await page.getByLabel("URL").inputValue()) === "not a url", "the typed URL is kept");
  check((await page.getByLabel("Description").inputValue()) === XSS, "the description is kept");
  check(await page.getByLabel("SessionStarted").isChecked(), "the checked event type is kept");
  const describedBy = await page.getByLabel("URL").getAttribute("aria-describedby");
  check(describedBy.includes("url-error"), "the error is tied to the URL field");
  await shot(page, "create-form-error");
  await darkShot(page, "create-form-error-dark");
  await accessible(page, "create form with errors");

  step("creating the webhook through the form");
  await page.getByLabel("URL").fill(RECEIVER_URL);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook created." }).waitFor();
  const id = new URL(page.url()).pathname.split("/")[2];
  check(id.startsWith("wh_"), `the page of the new webhook: ${page.url()}`);
  check((await page.locator(".lead").first().textContent()).includes(XSS), "the description shows as text");

  step("the new webhook is in the list, its description as text");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
  const row = page.locator("table.webhooks tbody tr").filter({ hasText: RECEIVER_URL });
  await row.waitFor();
  check((await row.locator(".description").textContent()).trim() === XSS, "the description is shown escaped");
  check((await row.textContent()).includes("SessionStarted"), "its event type is listed");
  check((await row.textContent()).includes("Enabled"), "it is enabled");
  await keyNotShown(page);
  return id;
}

/// A second webhook, made through the form with a filter, headers (one in a row added by the
/// "Add header" button) and ordered delivery, then replaying a conversation that ended before it
/// existed; removed afterwards so the rest of the journey sees only the first.
async function deliveryOptions(page) {
  step("a filtered, ordered webhook with headers through the form, shown on its page");
  // Before the webhook exists: only a replay can bring it this conversation (the first webhook
  // takes SessionStarted only).
  const ended = await api("POST", "/api/v1/events", {
    type: "ConversationComplete",
    data: { conversation_id: "conv_journey", session_id: "sess_journey", agent_id: "agent_7",
            started_at: "2026-11-26T16:58:01Z", ended_at: "2026-11-26T17:03:44Z",
            transcript: [{ role: "user", text: "Hello" }] },
  });
  check(ended.deliveries === 0, `nobody subscribes yet: ${JSON.stringify(ended)}`);
  await page.getByRole("link", { name: "+ Create Webhook" }).first().click();
  await page.getByLabel("URL").fill(RECEIVER_URL + "/filtered");
  await page.getByLabel("SessionStarted").check();
  await page.getByLabel("ConversationComplete").check();
  await page.getByLabel("Ordered").check();
  await page.getByLabel("Header 1 name").fill("Authorization");
  await page.getByLabel("Header 1 value").fill("Bearer journey-token");
  await page.getByRole("button", { name: "Add header" }).click();
  check(await page.getByLabel("Header 3 name").isVisible(), "Add header adds a third row");
  await page.getByLabel("Header 3 name").fill("X-Tenant");
  await page.getByLabel("Header 3 value").fill("acme");
  await page.getByLabel("Filter 1 path").fill("agent_id");
  await page.getByLabel("Filter 1 values").fill("agent_7");
  await page.getByLabel("Timeout").fill("10s");
  await shot(page, "create-form-options");
  await accessible(page, "create form with delivery options");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook created." }).waitFor();
  const id = new URL(page.url()).pathname.split("/")[2];
  const headers = await page.locator("#option-headers").textContent();
  check(headers.includes("Authorization") && headers.includes("Bear••••"), `headers read: ${headers}`);
  check(headers.includes("X-Tenant"), `the added row's header is there: ${headers}`);
  check(!(await page.content()).includes("journey-token"), "header values are shown masked");
  const filter = await page.locator("#option-filter").textContent();
  check(filter.includes("agent_id") && filter.includes("agent_7"), `filter reads: ${filter}`);
  check((await page.locator("#option-timeout").textContent()).includes("10s"), "the timeout is shown");
  const webhook = await api("GET", `/api/v1/webhooks/${id}`);
  check(JSON.stringify(webhook.filter) === '{"agent_id":["agent_7"]}', `filter: ${JSON.stringify(webhook.filter)}`);
  check(webhook.headers.Authorization === "Bearer journey-token" && webhook.headers["X-Tenant"] === "acme",
    `headers: ${JSON.stringify(webhook.headers)}`);
  check(webhook.ordered === true, "ordered is saved");
  check((await page.locator("#option-ordered").textContent()).includes("Yes"), "ordered is shown");
  await shot(page, "webhook-options");

  step("replaying the last 7 days delivers the conversation once");
  await page.getByLabel("Events from the last").selectOption("7d");
  await page.getByRole("button", { name: "Replay" }).click();
  await page.getByRole("status").filter({ hasText: "Replay queued" }).waitFor();
  await eventually("the replayed delivery's attempt", async () => {
    const history = await api("GET", `/api/v1/webhooks/${id}/attempts`);
    return history.data.length === 1 && history.data[0].event_id === ended.id;
  });
  await page.getByRole("button", { name: "Replay" }).click();
  await page.getByRole("status").filter({ hasText: "Nothing to replay" }).waitFor();
  await api("DELETE", `/api/v1/webhooks/${id}`);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
}

async function deliveries(page, id) {
  step("an event emitted through the API shows as a 200 row");
  await emit("sess_journey_ok");
  await page.locator("table.webhooks").getByRole("link", { name: RECEIVER_URL }).click();
  await page.waitForURL(`${BASE}/webhooks/${id}`);
  await reloadUntilRow(page, "200");

  step("a row opens to the pretty payload and the response");
  const ok = rowWith(page, "200").first();
  await ok.locator("summary").click();
  const payload = await ok.locator(".io").first().locator("pre").textContent();
  check(payload.includes('"type": "SessionStarted"'), `payload reads: ${payload}`);
  check(payload.includes('"session_id": "sess_journey_ok"'), "the payload carries the event's data");
  check(payload.includes("\n  "), "the payload is pretty-printed");
  check((await ok.locator(".io").nth(1).textContent()).includes("status 200"), "the response body is shown");

  step("a failing receiver shows a 500 row");
  await receiverReplies("500");
  await emit("sess_journey_500");
  await reloadUntilRow(page, "500");

  step("a hanging receiver shows a timeout row");
  await receiverReplies("hang");
  await emit("sess_journey_timeout");
  await reloadUntilRow(page, "timeout");
  await receiverReplies("200");
}

async function toggleEnabled(page, on) {
  await page.getByRole("switch", { name: "Enabled" }).click();
  const expected = on ? "Webhook enabled." : "Webhook disabled";
  await page.getByRole("status").filter({ hasText: expected }).waitFor();
  const state = await page.getByRole("switch", { name: "Enabled" }).getAttribute("aria-checked");
  check(state === String(on), `the switch reads ${state}`);
}

async function retryAndRefresh(page, id) {
  step("toggle Enabled off");
  await toggleEnabled(page, false);
  check((await page.locator(".settings").textContent()).includes("Disabled · manual"), "the settings say disabled");

  step("Retry on a failed row queues a new attempt and the history refreshes itself");
  const before = await rows(page).count();
  await rowWith(page, "timeout").first().getByRole("button", { name: "Retry" }).click();
  await page.getByRole("status").filter({ hasText: "Retry queued" }).waitFor();
  // The webhook is disabled, so the retry waits: the page shows it is pending and polls.
  await page.locator("#history .live-note").waitFor();
  await shot(page, "webhook-disabled-pending");
  await accessible(page, "webhook page, disabled, a retry pending");
  await api("PATCH", `/api/v1/webhooks/${id}`, { enabled: true });
  await eventually("the retried attempt to appear without a reload", async () => (await rows(page).count()) > before);
  const newest = rows(page).first();
  check((await newest.locator(".pill").textContent()) === "200", "the retry succeeded");
  check((await newest.locator(".num").textContent()).includes("#2"), "it is the delivery's attempt #2");
  check((await newest.locator(".trigger").textContent()) === "manual", "its trigger is manual");
  await eventually("the refresh to stop once nothing is pending", async () => (await page.locator("#history .live-note").count()) === 0);

  step("toggle Enabled off and on again from the page");
  await page.reload();
  await toggleEnabled(page, false);
  await toggleEnabled(page, true);
}

async function filters(page) {
  step("the Failed and Succeeded filters");
  const nav = page.getByRole("navigation", { name: "Filter attempts" });
  await nav.getByRole("link", { name: "Failed" }).click();
  await page.waitForURL(/status=failed/);
  const failed = await rows(page).locator(".pill").allTextContents();
  check(failed.length === 2 && failed.includes("500") && failed.includes("timeout"), `failed rows: ${failed}`);
  await nav.getByRole("link", { name: "Succeeded" }).click();
  await page.waitForURL(/status=succeeded/);
  const succeeded = await rows(page).locator(".pill").allTextContents();
  check(succeeded.length >= 2 && succeeded.every((s) => s === "200"), `succeeded rows: ${succeeded}`);
  await nav.getByRole("link", { name: "All" }).click();
  await page.waitForURL((url) => !url.search.includes("status"));
}

async function editWithABadUrl(page, id) {
  step("editing with a bad URL shows the error beside the field and keeps the input");
  await page.getByRole("link", { name: "Edit" }).click();
  check((await page.getByLabel("URL").inputValue()) === RECEIVER_URL, "the form holds the current URL");
  await page.getByLabel("URL").fill("ftp://example.com/hook");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#url-error").filter({ hasText: "URL must use http or https." }).waitFor();
  check((await page.getByLabel("URL").inputValue()) === "ftp://example.com/hook", "the typed URL is kept");
  await accessible(page, "edit form with errors");
  await page.getByLabel("URL").fill(RECEIVER_URL);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook saved." }).waitFor();
  check(new URL(page.url()).pathname === `/webhooks/${id}`, "back on the webhook page");
}

async function secret(page, id) {
  step("the secret is masked, then revealed and copied");
  const value = page.locator("#secret-value");
  check((await value.textContent()).includes("•"), "the secret is masked");
  const { secret: current } = await api("GET", `/api/v1/webhooks/${id}/secret`);
  check(!(await page.content()).includes(current), "the masked page does not contain the secret");
  await page.locator("#secret").getByRole("link", { name: "Reveal" }).click();
  await eventually("the secret to show", async () => (await value.textContent()) === current);
  await page.locator("#secret").getByRole("button", { name: "Copy" }).click();
  await page.locator(".copy-status").filter({ hasText: "Copied" }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === current, "Copy put the secret on the clipboard");

  step("rotating the secret asks first, then shows the new one");
  await page.locator("#secret").getByText("Rotate", { exact: true }).click();
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.getByRole("status").filter({ hasText: "Secret rotated" }).waitFor();
  const { secret: rotated } = await api("GET", `/api/v1/webhooks/${id}/secret`);
  check(rotated !== current, "the API answers a new secret");
  check((await value.textContent()) === rotated, "the page shows the new secret");
  await page.locator("#secret").getByRole("link", { name: "Hide" }).click();
  await eventually("the secret to be masked again", async () => (await value.textContent()).includes("•"));
}

async function testSend(page) {
  step("Send test event makes a test attempt");
  await page.getByLabel("Event type").selectOption("ConversationComplete");
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByRole("status").filter({ hasText: "Test event sent" }).waitFor();
  const newest = rows(page).first();
  check((await newest.locator(".trigger").textContent()) === "test", "the newest attempt is the test");
  check((await newest.locator(".type").textContent()) === "ConversationComplete", "of the chosen type");
  check((await newest.locator(".pill").textContent()) === "200", "and it succeeded");
  // Nothing is left to deliver once the test send is answered.
  const pending = () => page.locator(`[data-stat="pending"]`).textContent();
  await eventually("no delivery to be pending", async () => (await pending()) === "0");
}

async function screenshots(page, context) {
  step("screenshots of the webhook page, Event Types and the list");
  await rows(page).first().locator("summary").click();
  await shot(page, "webhook-history-open");
  await darkShot(page, "webhook-history-open-dark");
  await accessible(page, "webhook page, a history row open");
  const phone = await context.newPage();
  watch(phone);
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(page.url());
  await rows(phone).first().locator("summary").click();
  await shot(phone, "webhook-phone");
  await phone.goto(BASE + "/webhooks");
  await shot(phone, "webhooks-list-phone");
  await phone.close();
  await page.getByRole("link", { name: "Event Types" }).click();
  await page.getByRole("heading", { name: "ConversationComplete" }).waitFor();
  const text = await page.locator("main").textContent();
  check(text.includes('"transcript"') && text.includes("caller_hangup"), "schema and example are shown");
  await shot(page, "event-types");
  await darkShot(page, "event-types-dark");
  await accessible(page, "Event Types");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
  await page.locator("table.webhooks .pill.ok", { hasText: "200" }).waitFor();
  await shot(page, "webhooks-list");
  await darkShot(page, "webhooks-list-dark");
  await accessible(page, "webhooks list");

  step("the Events page finds the conversation by what its data holds, and opens it");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Events" }).click();
  await page.getByRole("heading", { name: "Events", level: 1 }).waitFor();
  await accessible(page, "Events");
  await page.getByRole("searchbox", { name: "Search" }).fill("conversation_id = conv_journey");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/\/events\?q=/);
  const found = page.locator("table.events tbody tr");
  check((await found.count()) === 1, `one event holds conv_journey, not ${await found.count()}`);
  await found.first().getByRole("link").click();
  await page.getByRole("heading", { name: "Payload" }).waitFor();
  const payload = await page.locator("pre").first().textContent();
  check(payload.includes('"conversation_id": "conv_journey"'), `the event's payload: ${payload}`);
  await shot(page, "event");
  await accessible(page, "an event's page");
}

/// A link that is not (or no longer) valid: a 404 page, checked like the others.
async function invalidLink(context, prefix = "") {
  step("an invalid portal link shows its page");
  const page = await context.newPage();
  watch(page, { expected404: "/portal/anything" });
  const response = await page.goto(BASE + "/portal/anything");
  check(response.status() === 404, `the invalid link answered ${response.status()}`);
  await page.getByRole("heading", { name: "This link is invalid or has expired" }).waitFor();
  await shot(page, `${prefix}portal-invalid`);
  await accessible(page, prefix ? "invalid-link page, branded" : "invalid-link page");
  await page.close();
}

async function deleteAndLogOut(page, id) {
  step("deleting the webhook asks first");
  await page.goto(`${BASE}/webhooks/${id}`);
  await page.locator(".head-actions").getByText("Delete", { exact: true }).click();
  await page.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook deleted." }).waitFor();
  await page.getByText("No webhooks yet").waitFor();

  step("logging out sends the user to /login, and the session is gone");
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(BASE + "/login");
  await page.goto(BASE + "/webhooks");
  check(new URL(page.url()).pathname === "/login", "pages need a session again");
}

/// The core flows need no JavaScript: sign in, create, reveal the secret, delete, log out.
async function withoutJavaScript(browser) {
  step("without JavaScript: sign in, create, reveal, delete, log out");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  watch(page);
  await page.goto(BASE + "/login");
  await page.getByLabel("API key").fill(API_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "+ Create Webhook" }).first().click();
  await page.getByLabel("URL").fill(RECEIVER_URL + "/plain");
  await page.getByLabel("ConversationComplete").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook created." }).waitFor();
  await page.locator("#secret").getByRole("link", { name: "Reveal" }).click();
  check((await page.locator("#secret-value").textContent()).startsWith("whsec_"), "the secret shows");
  await page.locator(".head-actions").getByText("Delete", { exact: true }).click();
  await page.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByRole("status").filter({ hasText: "Webhook deleted." }).waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(BASE + "/login");
  await context.close();
}

/// The service's name in the title and the sidebar, its logo loaded, its accent on buttons.
async function checkBrand(page) {
  const title = await page.title();
  check(title.endsWith(` · ${BRAND_NAME}`), `the title reads ${title}`);
  const brand = page.locator(".brand").first();
  check((await brand.textContent()).includes(BRAND_NAME), "the sidebar shows the name");
  const logo = brand.locator("img");
  await eventually("the logo to load", () => logo.evaluate((img) => img.complete && img.naturalWidth > 0));
  const fill = await page.locator(".btn.primary").first().evaluate((b) => getComputedStyle(b).backgroundColor);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(ACCENT.slice(i, i + 2), 16));
  check(fill === `rgb(${r}, ${g}, ${b})`, `buttons are ${fill}, not the accent ${ACCENT}`);
}

/// A short pass over every page of a service with a portal name, accent and logo, entered the
/// way customers do: through a portal link.
async function branded(page, context) {
  step("the branded sign-in page");
  await page.goto(BASE + "/login");
  await checkBrand(page);
  await shot(page, "brand-login");
  await accessible(page, "sign-in, branded");

  step("a portal link opens the branded Webhooks page");
  const link = await api("POST", "/api/v1/portal/sessions", {});
  await page.goto(link.url);
  await page.waitForURL(BASE + "/webhooks");
  await checkBrand(page);
  await accessible(page, "webhooks list, empty, branded");

  step("the branded form with errors");
  await page.getByRole("link", { name: "+ Create Webhook" }).first().click();
  await page.getByLabel("URL").fill("not a url");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#url-error").waitFor();
  await accessible(page, "create form with errors, branded");

  step("the branded webhook page with a history row open");
  const webhook = await api("POST", "/api/v1/webhooks", { url: RECEIVER_URL, event_types: ["SessionStarted"] });
  await emit("sess_brand");
  await page.goto(`${BASE}/webhooks/${webhook.id}`);
  await reloadUntilRow(page, "200");
  await rows(page).first().locator("summary").click();
  await checkBrand(page);
  await shot(page, "brand-webhook");
  await darkShot(page, "brand-webhook-dark");
  await accessible(page, "webhook page, a history row open, branded");

  step("the branded Event Types and list");
  await page.getByRole("link", { name: "Event Types" }).click();
  await page.getByRole("heading", { name: "ConversationComplete" }).waitFor();
  await accessible(page, "Event Types, branded");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
  await accessible(page, "webhooks list, branded");
  await invalidLink(context, "brand-");
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  watch(page);
  try {
    if (PASS === "brand") {
      await branded(page, context);
    } else {
      await signIn(page);
      const id = await createWebhook(page);
      await deliveryOptions(page);
      await deliveries(page, id);
      await retryAndRefresh(page, id);
      await filters(page);
      await editWithABadUrl(page, id);
      await secret(page, id);
      await testSend(page);
      await screenshots(page, context);
      await invalidLink(context);
      await deleteAndLogOut(page, id);
      await withoutJavaScript(browser);
    }
  } catch (error) {
    await page.screenshot({ path: join(SHOTS, "failure.png"), fullPage: true }).catch(() => {});
    problems.push(`${error.stack || error}`);
  } finally {
    await browser.close();
  }
  console.log(`\naxe-core (${AXE_TAGS.join(", ")}), violations of any impact:`);
  for (const { where, violations } of axeFindings) {
    const found = violations.map((v) => `${v.id} [${v.impact}]`).join(", ") || "none";
    console.log(`  ${where}: ${found}`);
  }
  if (problems.length > 0) {
    console.log(`\nFAILED at "${currentStep}":`);
    for (const p of problems) console.log(`  * ${p}`);
    process.exit(1);
  }
  console.log(`\nthe ${PASS === "brand" ? "branded pass" : "whole journey"} passed`);
}

await main();
