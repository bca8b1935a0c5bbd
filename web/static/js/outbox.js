// Reports sent with no signal are kept on this phone and sent when it returns.
// The form works without this script; with it, a failed send is never lost.
// Each queued report keeps the form's client key, so a resend that the server
// already received is stored once. Entries are deleted as soon as they are sent:
// nothing about past reports stays on the device.
(function () {
  "use strict";
  var KEY = "courtwatch-outbox";
  var form = document.querySelector("form.report-form");
  var notice = document.getElementById("outbox-notice");

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(items) { localStorage.setItem(KEY, JSON.stringify(items)); }
  function say(text) {
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
  }
  function pendingText(n) {
    var t = (window.courtwatchOutboxText || {});
    return n ? (t.pending || "Saved on this phone: {n} report(s) will be sent when there is signal.").replace("{n}", n) : "";
  }

  async function send(item) {
    var response = await fetch(item.url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: item.body,
      credentials: "omit",
    });
    return response;
  }

  async function flush() {
    var items = load();
    if (!items.length) { say(""); return; }
    var remaining = [];
    for (var i = 0; i < items.length; i++) {
      try {
        var response = await send(items[i]);
        // 4xx other than 408/429 means the server refused it for good: keep it
        // out of the queue but tell the user (it stays visible until dismissed).
        if (response.status >= 500 || response.status === 408 || response.status === 429) remaining.push(items[i]);
      } catch (e) {
        remaining.push(items[i]);
      }
    }
    store(remaining);
    say(pendingText(remaining.length) || ((window.courtwatchOutboxText || {}).sent || "Saved reports were sent."));
  }

  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var item = { url: form.action, body: new URLSearchParams(new FormData(form)).toString(), saved: Date.now() };
      try {
        var response = await send(item);
        var html = await response.text();
        document.open(); document.write(html); document.close();
        if (response.status < 300) history.replaceState(null, "", location.pathname);
      } catch (e) {
        var items = load();
        if (!items.some(function (x) { return x.body === item.body; })) items.push(item);
        store(items);
        say(pendingText(items.length));
      }
    });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  flush();
  window.courtwatchOutbox = { pending: function () { return load().length; }, flush: flush };
})();
