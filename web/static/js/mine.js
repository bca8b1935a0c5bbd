// "My reports": what this phone sent, read from its own IndexedDB (store.js);
// the server never learns which reports are whose. And the button that
// removes everything courtwatch keeps on this phone.
(function () {
  "use strict";
  var store = window.courtwatchStore;
  var text = {};
  try { text = JSON.parse(document.getElementById("mine-text").textContent); } catch (e) { /* English below */ }
  var lang = text.lang === "es" ? "es" : "en";
  var list = document.getElementById("mine-list");
  var empty = document.getElementById("mine-empty");
  var waitingBox = document.getElementById("mine-waiting");
  var button = document.getElementById("wipe-button");
  var confirmBox = document.getElementById("wipe-confirm");
  var yes = document.getElementById("wipe-yes");
  var messages = document.getElementById("messages");
  var ID = /^[0-9a-f-]{36}$/;

  function word(name, fallback) { return typeof text[name] === "string" ? text[name] : fallback; }
  function element(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function when(value) {
    // "2026-11-23T10:15" as typed into the form: the courthouse's own clock.
    return typeof value === "string" ? value.replace("T", " ").slice(0, 16) : "";
  }

  function entry(report) {
    var kinds = text.kinds || {};
    var place = report.courthouse_name || report.courthouse || word("no_courthouse", "No courthouse");
    var manage = "/reports/" + report.id + "/manage?lang=" + lang + "#key=" + encodeURIComponent(report.token);
    var sent = new Date(report.sent_at || 0);
    return element("li", { "class": "mine-item", "data-report-id": report.id }, [
      element("p", {}, [element("strong", {}, [kinds[report.kind] || report.kind || ""])]),
      element("p", {}, [place + (report.observed_at ? " · " + when(report.observed_at) : "")]),
      element("p", { "class": "hint" }, [word("sent_at", "Sent") + ": " + sent.toLocaleString(lang)]),
      element("p", {}, [
        element("a", { "class": "manage-link", "href": manage }, [word("manage", "Correct or add the outcome")]),
        element("a", { "href": "/reports/" + report.id + "?lang=" + lang }, [word("view", "Public page")]),
      ]),
    ]);
  }

  async function render() {
    var reports = [];
    var waiting = 0;
    try {
      reports = (await store.mine.all()).filter(function (r) { return r && ID.test(r.id) && typeof r.token === "string"; });
      waiting = (await store.outbox.all()).length;
    } catch (e) { /* nothing stored (or storage refused): an empty list */ }
    reports.sort(function (a, b) { return (b.sent_at || 0) - (a.sent_at || 0); });
    list.replaceChildren.apply(list, reports.map(entry));
    empty.hidden = reports.length > 0;
    waitingBox.hidden = !waiting;
    waitingBox.textContent = waiting ? word("waiting", "Waiting for signal: {n}").replace("{n}", waiting) : "";
    return waiting;
  }

  async function wipe() {
    button.disabled = yes.disabled = true;
    await window.courtwatchApp.wipe();
    list.replaceChildren();
    empty.hidden = false;
    waitingBox.hidden = true;
    confirmBox.hidden = true;
    button.disabled = yes.disabled = false;
    var done = element("p", { "class": "saved", "id": "wiped", "role": "status", "tabindex": "-1" }, [word("wiped", "Removed.")]);
    messages.insertBefore(done, messages.firstChild);
    window.scrollTo(0, 0);
    done.focus();
  }

  // Second tap removes everything, unless reports are still waiting to be sent:
  // losing those is asked about first.
  button.addEventListener("click", async function () {
    var waiting = 0;
    try { waiting = (await store.outbox.all()).length; } catch (e) { /* none readable */ }
    if (!waiting) { await wipe(); return; }
    document.getElementById("wipe-confirm-text").textContent =
      word("wipe_confirm", "{n} report(s) not sent yet will be lost. Remove everything?").replace("{n}", waiting);
    confirmBox.hidden = false;
    yes.focus();
  });
  yes.addEventListener("click", wipe);
  button.hidden = false;
  window.courtwatchMine = { render: render, ready: render() };
})();
