// Linkdesk's small behaviours: copy buttons. No inline script is allowed by
// the Content-Security-Policy, so everything hangs off data- attributes.
document.addEventListener("click", async (ev) => {
  const copy = ev.target.closest("[data-copy-from]");
  if (copy) {
    ev.preventDefault();
    const src = document.getElementById(copy.dataset.copyFrom);
    const text = src ? (src.value ?? src.textContent) : "";
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (_) {
      if (src && src.select) { src.select(); ok = document.execCommand("copy"); }
    }
    const status = document.getElementById(copy.dataset.copyStatus || "copy-status");
    if (status) status.textContent = ok ? "Copied to the clipboard." : "Could not copy: select the text and copy it by hand.";
  }
});
// htmx leaves the page as it is when a request fails (4xx/5xx are not swapped): say so in
// words where flash messages appear, instead of failing silently.
document.addEventListener("htmx:responseError", (ev) => {
  const flash = document.getElementById("flash");
  if (!flash) return;
  const doc = new DOMParser().parseFromString(ev.detail.xhr.responseText || "", "text/html");
  const heading = doc.querySelector("h1");
  const detail = doc.querySelector(".error-page p, [role=alert]");
  const p = document.createElement("p");
  p.className = "notice error";
  p.setAttribute("role", "alert");
  p.textContent = heading ? heading.textContent + (detail ? ": " + detail.textContent : "") :
    "That did not work (HTTP " + ev.detail.xhr.status + "). Reload the page and try again.";
  flash.replaceChildren(p);
});
document.addEventListener("htmx:sendError", () => {
  const flash = document.getElementById("flash");
  if (!flash) return;
  const p = document.createElement("p");
  p.className = "notice error";
  p.setAttribute("role", "alert");
  p.textContent = "Linkdesk could not be reached. Check your connection and try again.";
  flash.replaceChildren(p);
});
// Times: the server writes UTC into <time datetime=... data-local>; show them in the viewer's own
// time zone, relative while recent ("3 min ago"), with UTC kept in the title.
(() => {
  // In the page's language, not the browser's: no "vor 6 Minuten" next to "just now".
  const lang = document.documentElement.lang || "en";
  const fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  const rel = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const show = (el) => {
    const t = new Date(el.getAttribute("datetime"));
    if (isNaN(t)) return;
    const min = Math.round((t - Date.now()) / 60000);
    if (Math.abs(min) < 1) el.textContent = "just now";
    else if (Math.abs(min) < 60) el.textContent = rel.format(min, "minute");
    else if (Math.abs(min) < 24 * 60) el.textContent = rel.format(Math.round(min / 60), "hour");
    else el.textContent = fmt.format(t);
  };
  const all = (root) => root.querySelectorAll && root.querySelectorAll("time[data-local]").forEach(show);
  // htmx:load fires for the page and for every fragment swapped in (filters, live rows).
  document.addEventListener("htmx:load", (ev) => all(ev.detail.elt));
  document.addEventListener("DOMContentLoaded", () => all(document));
  setInterval(() => all(document), 60000);
})();
// Focus: after a refused submit, the first field the server marked invalid, so the person
// lands on what to fix (on a whole page and on an htmx swap alike); otherwise, on a page whose
// form is its purpose (form[data-autofocus]), that form's first field; a button the address's
// fragment names comes before that.
(() => {
  const fields = "input:not([type=hidden]):not([disabled]):not([readonly]), select:not([disabled]), textarea:not([disabled])";
  const focusIn = (root) => {
    if (!root || !root.querySelector) return false;
    const bad = root.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); return true; }
    return false;
  };
  document.addEventListener("DOMContentLoaded", () => {
    if (focusIn(document.getElementById("main"))) return;
    // A button named by the address's fragment ("#copy-link" after creating) is the next step.
    const target = location.hash.length > 1 && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.matches("button:not([disabled])")) { target.focus(); return; }
    if (document.activeElement && document.activeElement !== document.body) return;
    const first = document.querySelector("main form[data-autofocus]")?.querySelector(fields);
    if (first) first.focus();
  });
  // htmx:afterSettle names the element swapped into; a swap without errors leaves focus alone.
  document.addEventListener("htmx:afterSettle", (ev) => focusIn(ev.detail.elt));
})();
// "Select all on this page" ticks (or clears) every row's checkbox of the list's row actions.
document.addEventListener("change", (ev) => {
  const all = ev.target.closest("[data-select-all]");
  if (!all) return;
  document.querySelectorAll('input[type=checkbox][name=id][form="' + all.dataset.selectAll + '"]')
    .forEach((box) => { box.checked = all.checked; });
});
// The actions on selected rows show once a row is ticked, so the list's first screen holds rows,
// not idle buttons (with scripts off they always show).
const syncRowActions = () => {
  const form = document.getElementById("rows-form");
  if (form) form.hidden = !document.querySelector('input[type=checkbox][name=id][form="rows-form"]:checked');
};
document.addEventListener("change", syncRowActions);
document.addEventListener("htmx:load", syncRowActions);
document.addEventListener("DOMContentLoaded", syncRowActions);
// A live change tells the parts that count by themselves (quick filters, the header's queue) to
// fetch again. A list stream opened without its page's counts (no counted=1 in its URL) sends them
// as its first message: that one is no change, so a keystroke in the search (a new stream) costs
// those parts no request.
// (One message reaches every element that listens for it: the first is remembered per stream.)
const firstCounts = new WeakMap();
document.addEventListener("htmx:sseMessage", (ev) => {
  const msg = ev.detail, src = msg && msg.target;
  if (msg && msg.type === "counts" && src) {
    if (!firstCounts.has(src)) firstCounts.set(src, msg);
    if (firstCounts.get(src) === msg && !/[?&]counted=1/.test(src.url || "")) return;
  }
  document.body.dispatchEvent(new CustomEvent("linkdesk:changed"));
});
