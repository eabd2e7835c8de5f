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
