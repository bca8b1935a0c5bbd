// Reports sent with no signal are kept on this phone and sent when it returns.
// The form works without this script; with it, a report is never lost.
//
// A report leaves the phone only when courtwatch itself answers, in JSON, that
// it stored it (201/200 with the report's id). Anything else, a proxy's 502, a
// captive portal's 200 login page, a dropped connection, keeps it queued and
// tries again later. A report courtwatch refused (a 4xx with its own JSON
// error) stays on the phone too, with the reasons, until the watcher corrects
// and resends it. Each queued report keeps the form's client key, so a resend
// the server already received is stored once; an entry is deleted as soon as
// it is stored: nothing about past reports stays on the device.
(function () {
  "use strict";
  var KEY = "courtwatch-outbox";
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  var form = document.querySelector("form.report-form");
  var messages = document.getElementById("messages");
  var notice = document.getElementById("outbox-notice");
  var text = {};
  try { text = JSON.parse(document.getElementById("outbox-text").textContent); } catch (e) { /* English defaults */ }

  function word(name, fallback) { return typeof text[name] === "string" ? text[name] : fallback; }
  function load() {
    try {
      var items = JSON.parse(localStorage.getItem(KEY) || "[]");
      if (!Array.isArray(items)) return [];
      return items.filter(function (x) {
        if (!x || typeof x.body !== "string" || typeof x.url !== "string") return false;
        if (x.rejected && !Array.isArray(x.rejected)) x.rejected = [{ field: "", reason: String(x.rejected) }];
        return true;
      });
    } catch (e) { return []; }
  }
  function store(items) { localStorage.setItem(KEY, JSON.stringify(items)); }
  function clientKey(body) { return new URLSearchParams(body).get("client_key") || body; }
  function withLang(url) { return url + (text.lang ? "?lang=" + encodeURIComponent(text.lang) : ""); }

  function element(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Bring the message to the top of the screen and give it the focus, so a
  // screen reader reads it and a thumb does not have to look for it.
  function show(node, quietly) {
    messages.insertBefore(node, messages.firstChild);
    // A report sent in the background must not pull a thumb out of a field
    // it is typing in; the message still waits at the top.
    if (quietly && form && form.contains(document.activeElement)) return;
    window.scrollTo(0, 0);
    node.setAttribute("tabindex", "-1");
    node.focus();
  }

  // What courtwatch answered, read strictly: anything not clearly ours is "try again".
  async function send(item) {
    var response;
    try {
      response = await fetch(item.url, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        body: item.body,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      return { outcome: "retry" };
    }
    if ((response.headers.get("content-type") || "").indexOf("application/json") !== 0) return { outcome: "retry" };
    var answer;
    try { answer = await response.json(); } catch (e) { return { outcome: "retry" }; }
    if (!answer || typeof answer !== "object") return { outcome: "retry" };
    if ((response.status === 201 || response.status === 200) && typeof answer.id === "string" &&
        UUID.test(answer.id) && answer.url === "/reports/" + answer.id &&
        typeof answer.author_token === "string" && answer.author_token.length >= 20) {
      return { outcome: "stored", answer: answer };
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 408 &&
        response.status !== 429 && typeof answer.error === "string") {
      var fields = Array.isArray(answer.fields) ? answer.fields.filter(function (f) {
        return f && typeof f.field === "string" && typeof f.reason === "string";
      }) : [];
      if (!fields.length) fields = [{ field: "", reason: answer.error }];
      return { outcome: "rejected", fields: fields };
    }
    return { outcome: "retry" };
  }

  // Shown as the configured public address (what a lawyer will cite); the link
  // itself stays relative so it works on whatever address this page came from.
  function permalinkOf(answer) {
    var full = answer.permalink;
    return typeof full === "string" && /^https?:\/\/[^\s\/]+\/reports\/[0-9a-f-]{36}$/.test(full) &&
      full.slice(-answer.url.length) === answer.url ? full : answer.url;
  }

  function manageUrl(answer) {
    return withLang(answer.url + "/manage") + "#key=" + encodeURIComponent(answer.author_token);
  }

  function savedBox(answer, heading, own) {
    var url = withLang(answer.url);
    var link = { "class": "permalink", "href": url };
    var code = { "class": "author-token" };
    if (own) { link.id = "permalink"; code.id = "author-token"; }
    return element("div", { "class": "saved", "role": "status", "data-report-id": answer.id }, [
      element("p", {}, [element("strong", {}, [heading])]),
      element("p", {}, [word("permalink", "Permanent link") + ": ",
        element("a", link, [permalinkOf(answer)])]),
      element("p", {}, [word("token", "Your edit key. Keep it private.")]),
      element("p", {}, [element("code", code, [answer.author_token])]),
      // The key rides in the fragment, which a browser never sends to a server.
      element("p", {}, [word("manage_link", "Correct it later:") + " ",
        element("a", own ? { "id": "manage-link", "href": manageUrl(answer) } : { "href": manageUrl(answer) },
          [word("manage_open", "open your report's page")])]),
    ]);
  }

  function labelOf(name) {
    if (!form || !name) return "";
    var label = form.querySelector('label[for="' + CSS.escape(name) + '"]');
    if (!label) {
      var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
      var legend = input && input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
      label = legend;
    }
    return label ? label.textContent.trim() : name;
  }

  function clearFieldErrors() {
    if (!form) return;
    form.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (x) { x.removeAttribute("aria-invalid"); });
  }

  function markFields(fields) {
    clearFieldErrors();
    fields.forEach(function (f) {
      var input = form && f.field && form.querySelector('[name="' + CSS.escape(f.field) + '"]');
      if (!input) return;
      var target = input.type === "radio" ? input.closest("fieldset") : input;
      var id = f.field.replace(/[^a-z_]/g, "") + "-error";
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", id);
      target.insertAdjacentElement("afterend", element("p", { "class": "error", "id": id, "data-outbox": "1" }, [f.reason]));
    });
  }

  function problemsBox(fields, intro) {
    var box = element("div", { "class": "error-summary", "role": "alert" }, [element("p", {}, [intro])]);
    var list = element("ul", {}, []);
    fields.forEach(function (f) {
      var label = labelOf(f.field);
      list.appendChild(element("li", {}, label ? [element("strong", {}, [label]), ": " + f.reason] : [f.reason]));
    });
    box.appendChild(list);
    return box;
  }

  // The queued reports that still need the watcher: counted, or refused with a way to fix.
  function describeQueue() {
    if (!notice) return;
    var items = load();
    notice.textContent = "";
    var waiting = items.filter(function (x) { return !x.rejected; }).length;
    if (waiting) {
      notice.appendChild(element("p", {}, [word("pending", "Saved on this phone: {n} report(s) will be sent when there is signal.").replace("{n}", waiting)]));
    }
    items.filter(function (x) { return x.rejected; }).forEach(function (item) {
      var box = problemsBox(item.rejected, word("rejected", "A report saved on this phone was not accepted."));
      var fix = element("button", { "type": "button", "class": "fix-button" }, [word("fix", "Correct and send again")]);
      fix.addEventListener("click", function () { startFixing(clientKey(item.body)); });
      box.appendChild(fix);
      notice.appendChild(box);
    });
    notice.hidden = !notice.firstChild;
  }

  function samePage(url) {
    try { return form && new URL(url, location.href).pathname === new URL(form.action, location.href).pathname; } catch (e) { return false; }
  }

  // Put a refused report back into its form, with the reasons next to its fields.
  function startFixing(key) {
    var item = load().filter(function (x) { return clientKey(x.body) === key; })[0];
    if (!item) return;
    if (!samePage(item.url)) {
      location.href = new URL(item.url, location.href).pathname + "?lang=" + encodeURIComponent(text.lang || "en") + "#fix=" + encodeURIComponent(key);
      return;
    }
    new URLSearchParams(item.body).forEach(function (value, name) {
      form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (input) {
        if (input.type === "radio") input.checked = input.value === value;
        else input.value = value;
      });
    });
    markFields(item.rejected || []);
    var first = form.querySelector("[aria-invalid]");
    (first || form).scrollIntoView({ block: "center" });
    if (first && first.focus) first.focus();
  }

  function forget(key) { store(load().filter(function (x) { return clientKey(x.body) !== key; })); }
  function keep(item) {
    var key = clientKey(item.body);
    var items = load().filter(function (x) { return clientKey(x.body) !== key; });
    items.push(item);
    store(items);
  }

  // The form's next report needs a key of its own: reusing a sent report's key
  // would make the server answer with that old report (or refuse a different one).
  function renewKey(sentKey) {
    var input = form && form.querySelector('input[name="client_key"]');
    if (!input || input.value !== sentKey) return;
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    input.value = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  async function flushOnce() {
    try {
      var items = load();
      for (var i = 0; i < items.length; i++) {
        if (items[i].rejected) continue;
        var result = await send(items[i]);
        var key = clientKey(items[i].body);
        if (result.outcome === "stored") {
          forget(key);
          renewKey(key);
          show(savedBox(result.answer, word("sent_one", "A report saved on this phone was sent.")), true);
        } else if (result.outcome === "rejected") {
          items[i].rejected = result.fields;
          keep(items[i]);
        }
      }
    } finally {
      describeQueue();
    }
  }
  // One flush at a time (the "online" event, the timer and a caller may ask
  // together); each call resolves once a full pass after it has finished.
  var running = Promise.resolve();
  function flush() {
    running = running.then(flushOnce, flushOnce);
    return running;
  }

  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var body = new URLSearchParams(new FormData(form)).toString();
      var item = { url: form.action, body: body, saved: Date.now(), rejected: null };
      var key = clientKey(body);
      var wasQueued = load().some(function (x) { return clientKey(x.body) === key; });
      var result = await send(item);
      messages.querySelectorAll(".saved, .error-summary").forEach(function (x) { if (!notice.contains(x)) x.remove(); });
      if (result.outcome === "stored") {
        forget(key);
        clearFieldErrors();
        form.hidden = true;
        document.querySelectorAll(".form-intro").forEach(function (x) { x.hidden = true; });
        var box = savedBox(result.answer, word("saved", "Report saved."), true);
        box.appendChild(element("p", {}, [element("a", { "href": withLang(result.answer.url) }, [word("open", "Open the report")])]));
        show(box);
        // The report's own address, never the key: a reload or bookmark finds the report.
        history.replaceState(null, "", withLang(result.answer.url));
      } else if (result.outcome === "rejected") {
        if (wasQueued) { item.rejected = result.fields; keep(item); }
        markFields(result.fields);
        show(problemsBox(result.fields, word("errors", "Please correct the marked fields.")));
      } else {
        keep(item);
        describeQueue();
        messages.insertBefore(notice, messages.firstChild);
        window.scrollTo(0, 0);
        notice.setAttribute("tabindex", "-1");
        notice.focus();
      }
      describeQueue();
    });
    var fixing = /^#fix=(.+)$/.exec(location.hash);
    if (fixing) startFixing(decodeURIComponent(fixing[1]));
  }
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();
  window.courtwatchOutbox = {
    pending: function () { return load().length; },
    rejected: function () { return load().filter(function (x) { return x.rejected; }).length; },
    flush: flush,
  };
})();
