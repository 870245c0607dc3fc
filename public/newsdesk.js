// Newsdesk's additions to Chainlit's page (custom_js in .chainlit/config.toml). Text only: nothing here
// builds HTML from data, and nothing is fetched from outside this server.
(function () {
  "use strict";
  var root = document.documentElement;

  // 1. The source panel opens only when a citation marker is clicked.
  // Chainlit 2.12 opens its side panel with every "side" element of the conversation whenever a message
  // brings new ones (after every answer; full-screen on a phone). A click on a marker opens it with that
  // citation alone, so a panel that appears, or changes, without such a click is closed again at once.
  // newsdesk.css keeps it hidden until a click allows it (data-nd-side), so it never flashes.
  var allowUntil = 0;
  var accepted = null;
  document.addEventListener("click", function (e) {
    if (e.target && e.target.closest && e.target.closest("a.element-link")) {
      allowUntil = Date.now() + 2000;
      root.setAttribute("data-nd-side", "open");
    }
  }, true);

  function signature() {
    var content = document.getElementById("side-view-content");
    if (!content) return null;
    var title = document.getElementById("side-view-title");
    return (title ? title.textContent : "") + "|" + content.children.length;
  }

  function closeSide() {
    var title = document.getElementById("side-view-title");
    if (title && title.closest("[role=dialog]")) {
      // Phone: a drawer (Radix dialog), closed by Escape.
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", code: "Escape", bubbles: true }));
    } else if (title) {
      var button = title.querySelector("button");  // desktop: the panel's back arrow
      if (button) button.click();
    }
  }

  function watchSide() {
    var sig = signature();
    if (sig === null) {
      accepted = null;
      allowUntil = 0;  // a click allows one opening, not the next answer's
      root.removeAttribute("data-nd-side");
      return;
    }
    if (sig === accepted) return;
    if (Date.now() < allowUntil) {
      accepted = sig;
      allowUntil = Math.min(allowUntil, Date.now() + 300);  // the click's own re-render, not a later answer
      root.setAttribute("data-nd-side", "open");
      return;
    }
    accepted = null;
    root.removeAttribute("data-nd-side");
    closeSide();
  }

  // 2. The welcome line under the logo: what is indexed (from /newsdesk/welcome, same server).
  var welcome = null;
  var askedAt = 0;
  function loadWelcome() {
    if (Date.now() - askedAt < 5000) return;  // one request at a time; retried (e.g. after sign-in)
    askedAt = Date.now();
    fetch("/newsdesk/welcome", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { welcome = data; showWelcome(); } })
      .catch(function () {});
  }

  function showWelcome() {
    var screen = document.getElementById("welcome-screen");
    if (!screen) return;
    if (!welcome) { loadWelcome(); return; }
    if (document.getElementById("newsdesk-welcome")) return;
    var box = document.createElement("div");
    box.id = "newsdesk-welcome";
    var lead = document.createElement("p");
    lead.className = "newsdesk-welcome-lead";
    lead.textContent = "Ask about the news in " + welcome.collection;
    var how = document.createElement("p");
    how.className = "newsdesk-welcome-how";
    how.textContent = "Every sentence of an answer cites its source paragraph. Type /check and a claim to " +
      "see which outlets support or contradict it, /sources for the list of articles.";
    box.appendChild(lead);
    box.appendChild(how);
    var logo = screen.querySelector("img.logo");
    if (logo && logo.parentNode === screen) logo.insertAdjacentElement("afterend", box);
    else screen.insertBefore(box, screen.firstChild);
  }

  var scheduled = false;
  new MutationObserver(function () {
    watchSide();  // at once: before the browser paints the panel
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(function () { scheduled = false; showWelcome(); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
