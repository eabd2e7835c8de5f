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
