// SpeakNode Webhooks dashboard: small enhancements over pages that work without script.
// - Copy puts the webhook secret on the clipboard.
// - "Add header" and "Add filter path" add a blank row to the form (the form already has a few
//   blank rows, so without script a user saves and edits again to get more).
// - While deliveries are pending, the Request History and the stats refresh every 2 s, keeping
//   open rows open.
// Failures are shown on the page or ignored, never thrown: the page must stay usable.
"use strict";

const REFRESH_MS = 2000;

function setUpCopy() {
  for (const button of document.querySelectorAll("[data-copy-secret]")) {
    const status = button.parentElement.querySelector(".copy-status");
    button.hidden = !navigator.clipboard;
    button.addEventListener("click", async () => {
      try {
        const response = await fetch(button.dataset.copySecret, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (!response.ok) throw new Error(String(response.status));
        const { secret } = await response.json();
        await navigator.clipboard.writeText(secret);
        if (status) status.textContent = "Copied to the clipboard.";
      } catch (_) {
        if (status) status.textContent = "Could not copy; use Reveal instead.";
      }
    });
  }
}

// A blank copy of the list's last row, its ids and labels numbered for its new place.
function blankRow(list) {
  const row = list.lastElementChild.cloneNode(true);
  const index = list.children.length;
  row.classList.remove("invalid");
  for (const error of row.querySelectorAll(".field-error")) error.remove();
  for (const input of row.querySelectorAll("input")) {
    input.value = "";
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    input.removeAttribute("autofocus");
    input.id = input.id.replace(/\d+$/, String(index));
    const label = input.getAttribute("aria-label");
    if (label) input.setAttribute("aria-label", label.replace(/\d+/, String(index + 1)));
  }
  return row;
}

function setUpAddRow() {
  for (const button of document.querySelectorAll("[data-add-row]")) {
    const list = document.querySelector(`[data-rows="${button.dataset.addRow}"]`);
    if (!list || !list.lastElementChild) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const row = blankRow(list);
      list.append(row);
      row.querySelector("input").focus();
    });
  }
}

function openRows(root) {
  return new Set(
    [...root.querySelectorAll(".attempt")]
      .filter((row) => row.querySelector("details[open]"))
      .map((row) => row.dataset.attempt),
  );
}

// Replaces every live section with its fresh version from `doc`; true while still pending.
function swapLive(doc) {
  for (const section of document.querySelectorAll("[data-live]")) {
    const fresh = doc.getElementById(section.id);
    if (!fresh) return false;
    // Someone is using a control in this section: try again next time.
    if (section.contains(document.activeElement) && document.activeElement !== document.body) {
      return true;
    }
    const open = openRows(section);
    section.replaceWith(fresh);
    for (const row of fresh.querySelectorAll(".attempt")) {
      if (open.has(row.dataset.attempt)) row.querySelector("details").open = true;
    }
  }
  const history = document.getElementById("history");
  return Boolean(history && history.dataset.pending === "true");
}

async function refresh() {
  if (document.hidden) return true;
  const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
  // Signed out or gone: stop quietly; the next navigation shows why.
  if (!response.ok || response.redirected) return false;
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  return swapLive(doc);
}

function keepRefreshing() {
  const history = document.getElementById("history");
  if (!history || history.dataset.pending !== "true") return;
  const tick = () => {
    refresh()
      .catch(() => true)
      .then((again) => {
        if (again) window.setTimeout(tick, REFRESH_MS);
      });
  };
  window.setTimeout(tick, REFRESH_MS);
}

setUpCopy();
setUpAddRow();
keepRefreshing();
