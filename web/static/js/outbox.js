// Reports sent with no signal are kept on this phone and sent when it returns.
// The form works without this script; with it, a report is never lost.
//
// A report leaves the phone only when courtwatch itself answers, in JSON, that
// it stored it (201/200 with the report's id). Anything else, a proxy's 502, a
// captive portal's 200 login page, a dropped connection, keeps it queued and
// tries again later. A report courtwatch refused (a 4xx with its own JSON
// error) stays on the phone too, with the reasons, until the watcher corrects
// and resends it. Each queued report keeps the form's client key, so a resend
// the server already received is stored once (the page and the service
// worker's Background Sync may both send it). A stored report leaves the
// outbox and is listed under "My reports" on this phone only (store.js), until
// the watcher removes everything.
//
// Photos chosen in the form are checked against the server's limits before
// anything is queued, then kept as Blobs with the report (IndexedDB, on this
// phone, unencrypted: docs/sealed-data.md) and sent with it as multipart.
(function () {
  "use strict";
  // store.js is a deferred script of base.html; a page that loads this one
  // without "defer" runs it first: then wait for it.
  if (window.courtwatchStore) start();
  else document.addEventListener("DOMContentLoaded", start);

  function start() {
    var LEGACY_KEY = "courtwatch-outbox"; // where this outbox lived before IndexedDB
    var store = window.courtwatchStore;
    var form = document.querySelector("form.report-form");
    var messages = document.getElementById("messages");
    var notice = document.getElementById("outbox-notice");
    var text = {};
    try { text = JSON.parse(document.getElementById("outbox-text").textContent); } catch (e) { /* English defaults */ }

    function word(name, fallback) { return typeof text[name] === "string" ? text[name] : fallback; }
    function clientKey(body) { return new URLSearchParams(body).get("client_key") || body; }
    async function load() {
      var items;
      try { items = await store.outbox.all(); } catch (e) { return []; }
      return items.filter(function (x) {
        if (!x || typeof x.body !== "string" || typeof x.url !== "string") return false;
        if (x.rejected && !Array.isArray(x.rejected)) x.rejected = [{ field: "", reason: String(x.rejected) }];
        return true;
      }).sort(function (a, b) { return (a.saved || 0) - (b.saved || 0); });
    }
    // Reports queued by an older version of this script, in localStorage: moved once.
    async function migrate() {
      var old;
      try { old = JSON.parse(localStorage.getItem(LEGACY_KEY) || "[]"); } catch (e) { old = []; }
      if (!Array.isArray(old) || !old.length) { localStorage.removeItem(LEGACY_KEY); return; }
      for (var i = 0; i < old.length; i++) {
        var x = old[i];
        if (x && typeof x.body === "string" && typeof x.url === "string") {
          x.key = clientKey(x.body);
          await store.outbox.put(x);
        }
      }
      localStorage.removeItem(LEGACY_KEY);
    }
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

    var send = store.send;

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
    // Reading the queue takes a moment: when several callers ask at once, only
    // the last to ask (who read the newest state) draws.
    var describing = 0;
    async function describeQueue() {
      if (!notice) return;
      var mine = ++describing;
      var items = await load();
      if (mine !== describing) return;
      notice.textContent = "";
      var waiting = items.filter(function (x) { return !x.rejected; }).length;
      if (waiting) {
        notice.appendChild(element("p", {}, [word("pending", "Saved on this phone: {n} report(s) will be sent when there is signal.").replace("{n}", waiting)]));
      }
      items.filter(function (x) { return x.rejected; }).forEach(function (item) {
        var box = problemsBox(item.rejected, word("rejected", "A report saved on this phone was not accepted."));
        var fix = element("button", { "type": "button", "class": "fix-button" }, [word("fix", "Correct and send again")]);
        // The item as drawn: the form is filled at once, in this click.
        fix.addEventListener("click", function () { fixItem(item); });
        box.appendChild(fix);
        notice.appendChild(box);
      });
      notice.hidden = !notice.firstChild;
    }

    function samePage(url) {
      try { return form && new URL(url, location.href).pathname === new URL(form.action, location.href).pathname; } catch (e) { return false; }
    }

    // Put a refused report back into its form, with the reasons next to its fields.
    async function startFixing(key) {
      var item = (await load()).filter(function (x) { return clientKey(x.body) === key; })[0];
      if (item) fixItem(item);
    }

    function fixItem(item) {
      var key = clientKey(item.body);
      if (!samePage(item.url)) {
        location.href = new URL(item.url, location.href).pathname + "?lang=" + encodeURIComponent(text.lang || "en") + "#fix=" + encodeURIComponent(key);
        return;
      }
      new URLSearchParams(item.body).forEach(function (value, name) {
        form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (input) {
          if (input.type === "file") return; // a page cannot fill one: the photos are chosen again
          if (input.type === "radio") input.checked = input.value === value;
          else input.value = value;
        });
      });
      markFields(item.rejected || []);
      var first = form.querySelector("[aria-invalid]");
      (first || form).scrollIntoView({ block: "center" });
      if (first && first.focus) first.focus();
    }

    // The form's text, as the no-JS form would send it; photos travel apart.
    function formText() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (typeof value === "string") params.append(name, value);
      });
      return params.toString();
    }
    function chosenPhotos() {
      var input = form.querySelector('input[type="file"][name="photos"]');
      return input && input.files ? Array.prototype.slice.call(input.files) : [];
    }
    // The server's limits (courtwatch/photos.py), checked here first: a report
    // queued with a photo the server will refuse would wait for signal for nothing.
    function photoProblem(files) {
      var most = Number(text.photos_most) || 6;
      var mostBytes = Number(text.photo_most_bytes) || 15 * 1024 * 1024;
      if (files.length > most) return word("photos_too_many", "Too many photos.");
      for (var i = 0; i < files.length; i++) {
        if (files[i].size > mostBytes) return word("photo_too_large", "A photo is too large.");
        if (!files[i].size) return word("photo_empty", "A photo is empty.");
      }
      return "";
    }
    // Copies of the photos' bytes: kept in IndexedDB with the report, they do not
    // depend on the file the picker pointed at still being there.
    async function photoBlobs(files) {
      var blobs = [];
      for (var i = 0; i < files.length; i++) {
        blobs.push(new Blob([await files[i].arrayBuffer()], { type: files[i].type || "application/octet-stream" }));
      }
      return blobs;
    }
    function refuseHere(reason) {
      var fields = [{ field: "photos", reason: reason }];
      markFields(fields);
      show(problemsBox(fields, word("errors", "Please correct the marked fields.")));
    }

    function keep(item) {
      item.key = clientKey(item.body);
      return store.outbox.put(item);
    }
    // What "My reports" shows about a report, read from the form as it was sent.
    function about(body, url) {
      var fields = new URLSearchParams(body);
      var code = fields.get("courthouse_code") || fields.get("office") || "";
      var select = form && (form.querySelector("#courthouse_code") || form.querySelector("#office"));
      var option = select && code ? select.querySelector('option[value="' + CSS.escape(code) + '"]') : null;
      var kind = (/\/new\/([a-z_]+)/.exec(new URL(url, location.href).pathname) || [])[1] || "";
      return {
        kind: kind,
        courthouse: code,
        courthouse_name: option ? option.textContent.trim() : "",
        observed_at: fields.get("observed_at") || "",
      };
    }
    // Where the browser has Background Sync, the service worker sends the
    // outbox when signal returns even if no courtwatch page is open.
    function askForSync() {
      if (!("serviceWorker" in navigator)) return;
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.sync) return registration.sync.register("courtwatch-outbox");
      }).catch(function () { /* the page's own retries still run */ });
    }

    // The form's next report needs a key of its own: reusing a sent report's key
    // would make the server answer with that old report (or refuse a different one).
    function renewKey(sentKey) {
      var input = form && form.querySelector('input[name="client_key"]');
      if (!input || (sentKey !== null && input.value !== sentKey)) return;
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      input.value = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    }

    async function flushOnce() {
      try {
        var items = await load();
        for (var i = 0; i < items.length; i++) {
          if (items[i].rejected) continue;
          var result = await send(items[i]);
          var key = clientKey(items[i].body);
          if (result.outcome === "stored") {
            await store.remember(items[i], result.answer);
            renewKey(key);
            show(savedBox(result.answer, word("sent_one", "A report saved on this phone was sent.")), true);
          } else if (result.outcome === "rejected") {
            items[i].rejected = result.fields;
            await keep(items[i]);
          }
        }
      } finally {
        await describeQueue();
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
        var body = formText();
        messages.querySelectorAll(".saved, .error-summary").forEach(function (x) { if (!notice.contains(x)) x.remove(); });
        var files = chosenPhotos();
        var tooMuch = photoProblem(files);
        if (tooMuch) { refuseHere(tooMuch); return; }
        var photos;
        try { photos = await photoBlobs(files); } catch (e) { refuseHere(word("not_kept", "This phone cannot keep the photos.")); return; }
        var item = { url: form.action, body: body, photos: photos, saved: Date.now(), rejected: null, about: about(body, form.action) };
        var key = clientKey(body);
        var wasQueued = (await load()).some(function (x) { return clientKey(x.body) === key; });
        var result = await send(item);
        messages.querySelectorAll(".saved, .error-summary").forEach(function (x) { if (!notice.contains(x)) x.remove(); });
        if (result.outcome === "stored") {
          item.key = key;
          await store.remember(item, result.answer);
          clearFieldErrors();
          form.hidden = true;
          document.querySelectorAll(".form-intro").forEach(function (x) { x.hidden = true; });
          var box = savedBox(result.answer, word("saved", "Report saved."), true);
          box.appendChild(element("p", {}, [element("a", { "href": withLang(result.answer.url) }, [word("open", "Open the report")])]));
          show(box);
          // The report's own address, never the key: a reload or bookmark finds the report.
          history.replaceState(null, "", withLang(result.answer.url));
        } else if (result.outcome === "rejected") {
          if (wasQueued) { item.rejected = result.fields; await keep(item); }
          markFields(result.fields);
          show(problemsBox(result.fields, word("errors", "Please correct the marked fields.")));
        } else {
          try {
            await keep(item);
          } catch (e) {
            // No room on the phone (photos are large): say so, never pretend it is kept.
            refuseHere(word("not_kept", "This phone has no room to keep the report."));
            return;
          }
          askForSync();
          await describeQueue();
          messages.insertBefore(notice, messages.firstChild);
          window.scrollTo(0, 0);
          notice.setAttribute("tabindex", "-1");
          notice.focus();
        }
        await describeQueue();
      });
      var fixing = /^#fix=(.+)$/.exec(location.hash);
      // This form may come from the service worker's cache, whose client key
      // another report may already have used: every page load gets its own.
      if (!fixing) renewKey(null);
    }
    var ready = migrate().catch(function () {}).then(function () {
      if (form && fixing) return startFixing(decodeURIComponent(fixing[1]));
    });
    // The service worker sent queued reports (Background Sync): say so here too.
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", function (event) {
        var data = event.data || {};
        if (data.type !== "courtwatch-outbox-sent" || !data.answer) return;
        renewKey(data.key || "");
        show(savedBox(data.answer, word("sent_one", "A report saved on this phone was sent.")), true);
        describeQueue();
      });
    }
    window.addEventListener("online", flush);
    setInterval(flush, 30000);
    ready.then(flush);
    window.courtwatchOutbox = {
      pending: function () { return ready.then(load).then(function (x) { return x.length; }); },
      rejected: function () { return ready.then(load).then(function (x) { return x.filter(function (y) { return y.rejected; }).length; }); },
      flush: function () { return ready.then(flush); },
    };
  }
})();
