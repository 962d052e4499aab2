// The dashboard embedded in a platform's page on another site, in real headless Chromium (Debian's,
// driven by playwright-core: no browser download). Run by tests/it/browser.rs, which starts the
// service on 127.0.0.1 with SPEAKNODE_PORTAL_EMBED_ORIGINS set to the listed platform page's
// origin, and two platform pages on localhost (another site than 127.0.0.1) that each mint a
// portal link server-side and frame it: HOST_URL (listed) and UNLISTED_HOST_URL (another port, not
// listed). Exits 0 only if every step passed and nothing went wrong on any page: no console error,
// uncaught exception, failed request, answer >= 400 or dialog, except, on the unlisted page only,
// exactly the one console error of Chromium refusing the frame by frame-ancestors.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const BASE = need("SPEAKNODE_BASE_URL");
const API_KEY = need("SPEAKNODE_API_KEY");
const HOST = need("HOST_URL");
const UNLISTED = need("UNLISTED_HOST_URL");
const RECEIVER_URL = need("RECEIVER_URL");
const SHOTS = process.env.SCREENSHOT_DIR || "target/screenshots";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run this through cargo test --test it browser::)`);
  return value;
}

// What failed, in the order seen; the script exits 1 when any is here.
const problems = [];
let currentStep = "start";

function step(name) {
  currentStep = name;
  console.log(`- ${name}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`${currentStep}: ${message}`);
}

async function eventually(what, probe, { timeout = 15000, every = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${currentStep}: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/// Watches a page and every frame in it for anything a user or a developer console would see go
/// wrong: console errors, uncaught exceptions, failed requests, answers >= 400 and dialogs, each
/// as `{ kind, text }` in the list it returns (judged when the page is done with).
function watch(page) {
  const seen = [];
  page.on("console", (m) => {
    if (m.type() === "error") seen.push({ kind: "console error", text: m.text() });
  });
  page.on("pageerror", (e) => seen.push({ kind: "uncaught exception", text: e.message }));
  page.on("requestfailed", (r) => {
    const error = r.failure()?.errorText;
    // ERR_ABORTED is the browser cancelling a load because the page moved on.
    if (error !== "net::ERR_ABORTED") seen.push({ kind: "request failed", text: `${r.url()} (${error})` });
  });
  page.on("response", (r) => {
    if (r.status() >= 400) seen.push({ kind: "answer >= 400", text: `${r.status()} for ${r.url()}` });
  });
  page.on("dialog", async (d) => {
    seen.push({ kind: "dialog", text: `${d.type()}: ${d.message()}` });
    await d.dismiss();
  });
  return seen;
}

function report(where, seen) {
  for (const e of seen) problems.push(`${e.kind} on ${where}: ${e.text}`);
}

/// The frame on the page that shows the service (by origin), once it has loaded.
async function serviceFrame(page) {
  let found;
  await eventually("the frame to load the dashboard", async () => {
    found = page.frames().find((f) => f !== page.mainFrame() && f.url().startsWith(BASE + "/"));
    return found !== undefined;
  });
  return found;
}

const rows = (frame) => frame.locator("#history li.attempt");

async function signedInThroughTheLink(page, frame) {
  step("the platform's page frames the portal link, and the customer lands on Webhooks signed in");
  check(page.url() === HOST + "/", `the top-level page stays the platform's: ${page.url()}`);
  await frame.waitForURL(BASE + "/webhooks");
  await frame.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await frame.getByText("No webhooks yet").waitFor();
  check(await frame.getByRole("button", { name: "Log out" }).isVisible(), "the frame shows a signed-in page");
  check(!(await page.content()).includes(API_KEY), "the platform's page does not hold the API key");
  check(!(await frame.content()).includes(API_KEY), "the framed page does not hold the API key");
}

/// What Chromium kept: the session cookie exists only in the partition of the platform's site
/// (CHIPS), so the same browser opening the service at top level is not signed in.
async function cookieIsPartitioned(context) {
  step("the session cookie is kept, partitioned under the platform's site");
  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === "speaknode_session");
  check(session !== undefined, `no session cookie for ${BASE}: ${JSON.stringify(cookies.map((c) => c.name))}`);
  const { value: _hidden, ...attributes } = session;
  console.log(`  the cookie as Chromium keeps it (value left out): ${JSON.stringify(attributes)}`);
  check(session.httpOnly && session.secure && session.sameSite === "None", "HttpOnly; Secure; SameSite=None");
  check(session.partitionKey === "http://localhost", `partitioned under the platform's site: ${session.partitionKey}`);
  const top = await context.newPage();
  const seen = watch(top);
  await top.goto(BASE + "/webhooks");
  check(new URL(top.url()).pathname === "/login", `at top level the service asks to sign in: ${top.url()}`);
  await top.close();
  report(`the service at top level`, seen);
}

async function createWebhook(frame) {
  step("creating a webhook in the frame");
  await frame.getByRole("link", { name: "+ Create Webhook" }).first().click();
  await frame.getByLabel("URL").fill(RECEIVER_URL);
  await frame.getByLabel("Description").fill("Made inside the platform's page");
  await frame.getByLabel("SessionStarted").check();
  await frame.getByRole("button", { name: "Save" }).click();
  await frame.getByRole("status").filter({ hasText: "Webhook created." }).waitFor();
  const id = new URL(frame.url()).pathname.split("/")[2];
  check(id?.startsWith("wh_"), `the frame shows the new webhook's page: ${frame.url()}`);
  check((await frame.locator(".lead").first().textContent()).includes("Made inside"), "with its description");
  return id;
}

async function sendTestEvent(frame) {
  step("sending a test event from the frame");
  await frame.getByLabel("Event type").selectOption("SessionStarted");
  await frame.getByRole("button", { name: "Send test event" }).click();
  await frame.getByRole("status").filter({ hasText: "Test event sent" }).waitFor();
  const newest = rows(frame).first();
  check((await newest.locator(".trigger").textContent()) === "test", "the newest attempt is the test");
  check((await newest.locator(".pill").textContent()) === "200", "and the receiver took it");
}

async function openAttempt(frame) {
  step("opening the attempt in the Request History");
  const row = rows(frame).first();
  const details = row.locator("details");
  check((await details.getAttribute("open")) === null, "the row starts closed");
  await row.locator("summary").click();
  await eventually("the row to open", async () => (await details.getAttribute("open")) !== null);
  const payload = row.locator(".io").first().locator("pre");
  await payload.waitFor();
  const text = await payload.textContent();
  check(text.includes('"type": "SessionStarted"'), `payload reads: ${text}`);
  check((await row.locator(".io").nth(1).textContent()).includes("status 200"), "the response is shown");
}

async function toggle(frame, on) {
  await frame.getByRole("switch", { name: "Enabled" }).click();
  const expected = on ? "Webhook enabled." : "Webhook disabled";
  await frame.getByRole("status").filter({ hasText: expected }).waitFor();
  const state = await frame.getByRole("switch", { name: "Enabled" }).getAttribute("aria-checked");
  check(state === String(on), `the switch reads ${state}`);
  const settings = await frame.locator(".settings").textContent();
  check(settings.includes(on ? "Enabled" : "Disabled"), `the settings read: ${settings}`);
}

async function toggleEnabled(page, frame) {
  step("toggling Enabled off and on again in the frame");
  check((await frame.getByRole("switch", { name: "Enabled" }).getAttribute("aria-checked")) === "true", "starts on");
  await toggle(frame, false);
  await toggle(frame, true);
  check(page.url() === HOST + "/", "every form stayed inside the frame");
}

async function listedHost(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1500 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const seen = watch(page);
  try {
    step(`opening the listed platform page ${HOST}`);
    await page.goto(HOST + "/");
    await page.getByRole("heading", { name: "Acme Voice settings" }).waitFor();
    const frame = await serviceFrame(page);
    await signedInThroughTheLink(page, frame);
    await cookieIsPartitioned(context);
    await createWebhook(frame);
    await sendTestEvent(frame);
    await openAttempt(frame);
    await toggleEnabled(page, frame);
    step("a picture of the framed dashboard");
    await rows(frame).first().locator("summary").click();
    // The viewport holds the whole platform page: a full-page capture leaves parts of an
    // out-of-process frame unpainted.
    await frame.locator("html").evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, "embedded.png") });
    step("logging out inside the frame: the sign-in page shows there, with no console error");
    await frame.getByRole("button", { name: "Log out" }).click();
    await frame.getByRole("heading", { name: "Sign in" }).waitFor();
    check(frame.url().endsWith("/login"), `the frame is at ${frame.url()}`);
  } catch (error) {
    await page.screenshot({ path: join(SHOTS, "embedded-failure.png"), fullPage: true }).catch(() => {});
    problems.push(`stopped at "${currentStep}": ${error.stack || error}`);
  } finally {
    await context.close();
  }
  report(`the listed platform page ${HOST}`, seen);
}

/// What Chromium 156 logs in the framing page when `frame-ancestors` refuses the frame: the
/// service's origin and the directive it sent, which lists only the listed page's origin.
function isTheRefusal(e) {
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const words = new RegExp(
    `^Framing '${escape(BASE)}/' violates the following Content Security Policy directive: ` +
      `"frame-ancestors ${escape(HOST)}"\\. The request has been blocked\\.\\n?$`,
  );
  return e.kind === "console error" && words.test(e.text);
}

/// The network side of the same refusal: the frame's final answer (the Webhooks page the link
/// redirects to) is dropped by the browser, not by the network.
function isTheBlockedAnswer(e) {
  return e.kind === "request failed" && e.text === `${BASE}/webhooks (net::ERR_BLOCKED_BY_RESPONSE)`;
}

async function unlistedHost(browser) {
  // A context of its own: nothing from the listed page's run (its cookie partition) carries over.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const seen = watch(page);
  const answers = [];
  page.on("response", (r) => {
    if (r.url().startsWith(BASE + "/")) {
      answers.push(`${r.status()} ${new URL(r.url()).pathname.replace(/^\/portal\/.+/, "/portal/<token>")}`);
    }
  });
  try {
    step(`opening the unlisted platform page ${UNLISTED}: Chromium refuses the frame`);
    await page.goto(UNLISTED + "/");
    await page.getByRole("heading", { name: "Acme Voice settings" }).waitFor();
    const child = page.frames().find((f) => f !== page.mainFrame());
    check(child !== undefined, "the platform's page has its frame");
    // The platform's page has loaded, and so has its frame (the load event waits for it).
    check(!child.url().startsWith(BASE), `the frame shows the service's ${child.url()}`);
    await eventually("Chromium to log the refusal", async () => seen.some(isTheRefusal));
    console.log(`  the service answered the frame's loads: ${answers.join(", ")}`);
    console.log(`  the frame's document: ${child.url()}`);
    check(!child.url().startsWith(BASE), `the frame shows the service's ${child.url()}`);
    const text = await child.evaluate(() => document.body?.innerText ?? "").catch((e) => `(unreadable: ${e.message})`);
    for (const dashboard of ["Log out", "Create Webhook", "Request History", "Event Types", "Webhooks"]) {
      check(!text.includes(dashboard), `the refused frame shows "${dashboard}": ${text}`);
    }
    check((await child.locator("main, nav, form, #history").count()) === 0, "no dashboard element in the frame");
    await page.screenshot({ path: join(SHOTS, "embedded-refused.png"), fullPage: true });
  } catch (error) {
    problems.push(`stopped at "${currentStep}": ${error.stack || error}`);
  } finally {
    await context.close();
  }
  const refusals = seen.filter(isTheRefusal);
  if (refusals.length !== 1) problems.push(`expected one frame-ancestors refusal, got ${refusals.length}`);
  report(`the unlisted platform page ${UNLISTED}`, seen.filter((e) => !isTheRefusal(e) && !isTheBlockedAnswer(e)));
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
  console.log(`chromium ${browser.version()}`);
  try {
    await listedHost(browser);
    await unlistedHost(browser);
  } finally {
    await browser.close();
  }
  if (problems.length > 0) {
    console.log("\nFAILED:");
    for (const p of problems) console.log(`  * ${p}`);
    process.exit(1);
  }
  console.log("\nframed by the listed origin the dashboard works; an unlisted origin's frame is refused");
}

await main();
