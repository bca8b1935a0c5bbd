// What this phone keeps about its reports, in IndexedDB, shared by the pages
// and the service worker (which cannot read localStorage):
//   outbox: reports not yet stored by courtwatch, keyed by their client key
//           (with their photos as Blobs, until they are stored or wiped);
//   mine:   reports sent from this phone (id, kind, courthouse, time, edit key).
// One record per report, so the page and the service worker never overwrite
// each other's work. wipe() deletes the whole database.
(function (scope) {
  "use strict";
  var NAME = "courtwatch";
  var VERSION = 1;
  var opening = null;

  function open() {
    if (opening) return opening;
    opening = new Promise(function (resolve, reject) {
      var request;
      try { request = scope.indexedDB.open(NAME, VERSION); } catch (e) { reject(e); return; }
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "key" });
        if (!db.objectStoreNames.contains("mine")) db.createObjectStore("mine", { keyPath: "id" });
      };
      request.onsuccess = function () {
        var db = request.result;
        // Another tab (or "Remove everything") wants the database gone: let go.
        db.onversionchange = function () { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = function () { opening = null; reject(request.error); };
    });
    return opening;
  }

  function run(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        var request = work(tx.objectStore(name));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function table(name) {
    return {
      all: function () { return run(name, "readonly", function (s) { return s.getAll(); }).then(function (x) { return x || []; }); },
      get: function (key) { return run(name, "readonly", function (s) { return s.get(key); }); },
      put: function (value) { return run(name, "readwrite", function (s) { return s.put(value); }); },
      remove: function (key) { return run(name, "readwrite", function (s) { return s.delete(key); }); },
      clear: function () { return run(name, "readwrite", function (s) { return s.clear(); }); },
    };
  }

  var outbox = table("outbox");
  var mine = table("mine");

  // Empty both stores first (that works even while another connection is
  // open), then delete the database itself.
  function wipe() {
    var emptied = Promise.all([outbox.clear(), mine.clear()]).catch(function () {});
    return emptied.then(function () {
      return open().then(function (db) { db.close(); }, function () {});
    }).then(function () {
      opening = null;
      return new Promise(function (resolve) {
        var request = scope.indexedDB.deleteDatabase(NAME);
        request.onsuccess = request.onerror = function () { resolve(); };
      });
    });
  }

  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  // Send one queued report and read courtwatch's answer strictly: anything not
  // clearly ours (a proxy's 502, a captive portal's 200 login page, a dropped
  // connection) is "retry"; a 4xx with courtwatch's own JSON error is "rejected".
  // A report with photos goes as the no-JS form would send it (multipart: the
  // browser writes the boundary); its photos are the Blobs kept in the outbox.
  function requestBody(item) {
    var photos = Array.isArray(item.photos) ? item.photos.filter(function (p) { return p instanceof Blob; }) : [];
    if (!photos.length) {
      return { headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" }, body: item.body };
    }
    var data = new FormData();
    new URLSearchParams(item.body).forEach(function (value, name) { data.append(name, value); });
    // A plain name: the phone's file names (dates, places) never leave it.
    photos.forEach(function (blob, i) { data.append("photos", blob, "photo-" + (i + 1)); });
    return { headers: { "Accept": "application/json" }, body: data };
  }

  async function send(item) {
    var response;
    try {
      var request = requestBody(item);
      response = await fetch(item.url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
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

  // A stored report leaves the outbox and joins "my reports" (this phone only).
  function remember(item, answer) {
    var about = item.about || {};
    return mine.put({
      id: answer.id,
      url: answer.url,
      token: answer.author_token,
      kind: String(about.kind || ""),
      courthouse: String(about.courthouse || ""),
      courthouse_name: String(about.courthouse_name || ""),
      observed_at: String(about.observed_at || ""),
      sent_at: Date.now(),
    }).then(function () { return outbox.remove(item.key); });
  }

  scope.courtwatchStore = {
    outbox: outbox, mine: mine, wipe: wipe, send: send, remember: remember,
  };
})(self);
