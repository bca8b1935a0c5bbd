// courtwatch's service worker (served at /sw.js, after a line that sets
// self.COURTWATCH: the version, the language and the files to keep).
//
// What it keeps, after one visit: the home page, the four forms, "My reports",
// the courthouse list and the scripts and styles they use, so a watcher with
// no signal can still open a form and queue a report (outbox.js).
// What it never keeps: anything but a GET of this origin; a report's page or
// anything else not on the list below; an answer marked no-store or private
// (the ones that carry an edit key). Pages are taken from the network first and
// from here only when the network fails, so a watcher with signal always sees
// the current page. No page it keeps runs an inline script: the per-request
// CSP nonce of a kept page is never needed.
//
// Background Sync: when signal returns, queued reports are sent from here even
// if no courtwatch page is open (store.js holds the outbox in IndexedDB).
"use strict";

var CONFIG = self.COURTWATCH;
var CACHE = "courtwatch-" + CONFIG.version;
var PAGES = /^\/(new\/(courthouse_arrest|sighting|call_in|watch_shift)|mine|map)?$/;
var HASHED = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/;
// On a connection that is up but useless, fall back to the kept page after this.
var NETWORK_PATIENCE_MS = 6000;

importScripts(CONFIG.store);

function keepable(response) {
  if (!response || response.status !== 200 || response.type !== "basic") return false;
  var control = (response.headers.get("cache-control") || "").toLowerCase();
  return control.indexOf("no-store") === -1 && control.indexOf("private") === -1;
}

// Set by "Remove everything": from then on nothing is kept, everything passes.
var stopped = false;

// Only into the cache the install made: after "Remove everything" (or with a
// worker restarted after that) there is none, and none is made again.
async function put(request, response) {
  if (stopped || !keepable(response) || !(await caches.has(CACHE))) return;
  var cache = await caches.open(CACHE);
  await cache.put(request, response);
}

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    var cache = await caches.open(CACHE);
    await Promise.all(CONFIG.keep.map(async function (url) {
      if (stopped) return;
      try {
        var response = await fetch(url, { cache: "no-cache", credentials: "omit" });
        if (keepable(response)) await cache.put(url, response);
      } catch (e) { /* kept on the next visit instead */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    var names = await caches.keys();
    await Promise.all(names.filter(function (name) {
      return name.indexOf("courtwatch-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
    await self.clients.claim();
  })());
});

function timeout(ms) {
  return new Promise(function (_, reject) { setTimeout(function () { reject(new Error("slow")); }, ms); });
}

// A kept page in another language (or with another ?courthouse=) beats the
// browser's offline page.
async function kept(request) {
  var options = { cacheName: CACHE, ignoreVary: true };
  return (await caches.match(request, options)) ||
    (await caches.match(request, Object.assign({ ignoreSearch: true }, options)));
}

async function networkFirst(request) {
  var fetching = fetch(request);
  try {
    var response = await Promise.race([fetching, timeout(NETWORK_PATIENCE_MS)]);
    if (response.status >= 500) {
      // The server is down (a 502 from a proxy, a 503 while the database
      // restarts): a kept form still lets the watcher queue a report.
      return (await kept(request)) || response;
    }
    await put(request, response.clone());
    return response;
  } catch (e) {
    var answer = await kept(request);
    if (answer) return answer;
    return fetching; // nothing kept: whatever the network finally says
  }
}

async function cacheFirst(request) {
  var answer = await caches.match(request);
  if (answer) return answer;
  var response = await fetch(request);
  await put(request, response.clone());
  return response;
}

// The map page is the same for everyone until a deploy (which makes a new
// worker version, see web/app_shell.py, and so drops this cache): show the kept
// one at once and refresh it in the background. It holds no reports: the page
// draws the view it saved itself, marked as saved, and resumes the live stream.
// Only the page in the language asked for, while the network may still answer:
// a kept page in another language is for when it does not.
async function staleWhileRevalidate(event) {
  var request = event.request;
  var refreshing = fetch(request).then(async function (response) {
    await put(request, response.clone());
    return response;
  });
  event.waitUntil(refreshing.catch(function () {}));
  var answer = await caches.match(request, { cacheName: CACHE, ignoreVary: true });
  if (answer) return answer;
  try {
    return await refreshing;
  } catch (e) {
    return (await kept(request)) || Response.error();
  }
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (stopped || request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(HASHED.test(url.pathname) ? cacheFirst(request) : networkFirst(request));
  } else if (url.pathname === "/api/courthouses") {
    event.respondWith(networkFirst(request));
  } else if (request.mode === "navigate" && PAGES.test(url.pathname)) {
    event.respondWith(url.pathname === "/map" ? staleWhileRevalidate(event) : networkFirst(request));
  }
  // Everything else (reports' pages, the API, posts) goes to the network untouched.
});

// Send what the outbox holds; a report not stored yet makes the sync fail, so
// the browser tries again later.
async function flushOutbox() {
  if (stopped) return;
  var store = self.courtwatchStore;
  var items = await store.outbox.all();
  var waiting = 0;
  for (var i = 0; i < items.length; i++) {
    var item = items[i];
    if (item.rejected) continue;
    var result = await store.send(item);
    if (result.outcome === "stored") {
      await store.remember(item, result.answer);
      var clients = await self.clients.matchAll({ type: "window" });
      clients.forEach(function (client) {
        client.postMessage({ type: "courtwatch-outbox-sent", key: item.key, answer: result.answer });
      });
    } else if (result.outcome === "rejected") {
      item.rejected = result.fields;
      await store.outbox.put(item);
    } else {
      waiting += 1;
    }
  }
  if (waiting) throw new Error(waiting + " report(s) still waiting for signal");
}

self.addEventListener("sync", function (event) {
  if (event.tag === "courtwatch-outbox") event.waitUntil(flushOutbox());
});

self.addEventListener("message", function (event) {
  var type = event.data && event.data.type;
  var reply = function () { if (event.ports[0]) event.ports[0].postMessage("done"); };
  if (type === "courtwatch-wipe") {
    stopped = true;
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) { return caches.delete(name); }));
    }).then(reply, reply));
  }
});

// Alerts (docs/alerts.md). The payload was encrypted to this browser by the
// server (RFC 8291) and carries no personal detail: kind, courthouse, time,
// status, link. One notification per incident: a newer alert of the same
// thread replaces the older one (same tag) and rings again.
function alertText(data) {
  var words = CONFIG.alerts;
  var kind = words.kinds[data.kind] || words.kinds.sighting;
  var courthouse = typeof data.courthouse === "string" && data.courthouse ? data.courthouse : words.nearby;
  var status = words.statuses[data.status] || words.statuses.unverified;
  var count = typeof data.thread_reports === "number" ? data.thread_reports : 1;
  return {
    title: words.title.replace("{kind}", kind).replace("{courthouse}", courthouse),
    body: words.body.replace("{status}", status).replace("{count}", String(count)),
  };
}

// Only this site's report pages are opened from a notification.
function alertPath(link) {
  try {
    var path = new URL(link, self.location.origin).pathname;
    if (/^\/reports\/[0-9a-f-]{36}$/.test(path)) return path;
  } catch (e) { /* not a URL */ }
  return "/map";
}

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  if (!data || typeof data !== "object") data = {};
  var text = alertText(data);
  var thread = typeof data.thread === "string" ? data.thread.slice(0, 64) : "alert";
  event.waitUntil(self.registration.showNotification(text.title, {
    body: text.body,
    tag: "courtwatch-" + thread,
    renotify: true,
    data: { path: alertPath(data.link) },
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var path = (event.notification.data && event.notification.data.path) || "/map";
  event.waitUntil(self.clients.openWindow(path));
});
