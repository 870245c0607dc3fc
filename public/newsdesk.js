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

  // A citation belongs to the exchange it was opened from: when the user sends anything (a question, an
  // upload), the panel closes instead of showing the previous citation beside the new exchange.
  var userMessages = -1;
  function watchSends() {
    var n = document.querySelectorAll('[data-step-type="user_message"]').length;
    if (userMessages >= 0 && n > userMessages && signature() !== null) {
      accepted = null;
      allowUntil = 0;
      root.removeAttribute("data-nd-side");
      closeSide();
    }
    userMessages = n;
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

  // 3. What the server keeps with each reply (/newsdesk/message/<id>, from the data layer, so a resumed
  // conversation has it too): the copy with footnotes and the marker tooltips.
  var infos = {};
  function stepId(node) {
    var step = node && node.closest && node.closest('[id^="step-"]');
    return step ? step.id.slice(5) : null;
  }
  function messageInfo(id) {
    if (!infos[id]) {
      infos[id] = fetch("/newsdesk/message/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; })
        // Not kept until it is complete: the data layer stores a reply's metadata from a background task
        // shortly after the reply is shown (longer on a busy server), and until then the answer is empty.
        .then(function (data) { if (!data || !data.plain) delete infos[id]; return data; });
    }
    return infos[id];
  }
  // The reply's stored metadata, asked again (every 400 ms, then up to every 2 s; `tries` times) until it
  // is there.
  function storedInfo(id, tries, wait) {
    wait = wait || 400;
    return messageInfo(id).then(function (data) {
      if ((data && data.plain) || tries <= 0) return data;
      return new Promise(function (ok) { setTimeout(ok, wait); })
        .then(function () { return storedInfo(id, tries - 1, Math.min(2000, wait * 1.5)); });
    });
  }

  // Hovering a marker previews the cited sentence (a title: the browser's own tooltip, text only).
  document.addEventListener("mouseover", function (e) {
    var link = e.target && e.target.closest && e.target.closest("a.element-link");
    if (!link || link.hasAttribute("title")) return;
    var id = stepId(link);
    var n = (link.textContent || "").replace(/[^0-9]/g, "");
    if (!id || !n) return;
    storedInfo(id, 20).then(function (data) {
      var text = data && data.previews && data.previews[n];
      if (text) link.setAttribute("title", text);
    });
  }, true);

  // Copying a reply: Chainlit's copy button puts the raw Markdown on the clipboard (every punctuation mark
  // of an article escaped, "\(" "\-"); Newsdesk's copy is the text as read with the sources as footnotes.
  // The rendered HTML goes along, as Chainlit does, for editors that paste rich text.
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest && e.target.closest("button");
    if (!button || !button.querySelector("svg.lucide-copy")) return;
    var message = button.closest('[data-step-type="assistant_message"]');
    var id = message && stepId(message.querySelector('[id^="step-"]'));
    if (!id || !navigator.clipboard) return;
    e.preventDefault();
    e.stopPropagation();
    var content = message.querySelector(".message-content");
    var seen = content ? content.innerText.replace(/\u2060/g, "") : "";
    var text = storedInfo(id, 10).then(function (data) { return (data && data.plain) || seen; });
    var done = function () {
      button.setAttribute("data-nd-copied", "");
      setTimeout(function () { button.removeAttribute("data-nd-copied"); }, 2000);
    };
    try {
      // A promised blob keeps the click's permission to write while the text is fetched.
      var item = { "text/plain": text.then(function (t) { return new Blob([t], { type: "text/plain" }); }) };
      if (content) item["text/html"] = new Blob([content.innerHTML], { type: "text/html" });
      navigator.clipboard.write([new ClipboardItem(item)]).then(done, function () {
        text.then(function (t) { return navigator.clipboard.writeText(t); }).then(done);
      });
    } catch (err) {
      text.then(function (t) { return navigator.clipboard.writeText(t); }).then(done);
    }
  }, true);

  // 4. The claim table's silent articles: one collapsed line ("Not mentioned by 5 articles: ...") that
  // opens on a click or Enter. Only attributes are set: the text itself stays React's.
  function collapseSilent() {
    var lines = document.querySelectorAll(
      '[data-step-type="assistant_message"] [role="article"]:not([data-nd-silent])');  // Chainlit's paragraphs
    for (var i = 0; i < lines.length; i++) {
      var p = lines[i];
      if (!/^Not mentioned by \d+ articles?:/.test(p.textContent || "")) continue;
      p.setAttribute("data-nd-silent", "closed");
      p.setAttribute("role", "button");
      p.setAttribute("tabindex", "0");
      p.setAttribute("aria-expanded", "false");
      p.setAttribute("title", "Show the articles that do not mention the claim");
    }
  }
  function toggleSilent(e) {
    var p = e.target && e.target.closest && e.target.closest("[data-nd-silent]");
    if (!p || (e.type === "keydown" && e.key !== "Enter" && e.key !== " ")) return;
    if (e.type === "keydown") e.preventDefault();
    var open = p.getAttribute("data-nd-silent") === "open";
    p.setAttribute("data-nd-silent", open ? "closed" : "open");
    p.setAttribute("aria-expanded", open ? "false" : "true");
  }
  document.addEventListener("click", toggleSilent);
  document.addEventListener("keydown", toggleSilent);

  var scheduled = false;
  new MutationObserver(function () {
    watchSends();
    watchSide();  // at once: before the browser paints the panel
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(function () { scheduled = false; showWelcome(); collapseSilent(); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
