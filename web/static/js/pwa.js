// The installable app: registers the service worker (after the page has
// loaded, so its downloads never compete with the first view on a slow line)
// and knows how to remove everything courtwatch keeps on this phone.
//
// It also fetches, after the load event, the scripts a page lists in its
// "after-load" block: helpers the page is usable without (the form's
// courthouse search, its time-zone hints). At 400 kbps every byte fetched with
// the first view delays it; these arrive half a second later instead, before
// the worker's own downloads.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "es" ? "es" : "en";
  var supported = "serviceWorker" in navigator;
  var wiped = false;
  var registration = null;

  function register() {
    if (!supported || wiped) return Promise.resolve(null);
    if (!registration) {
      registration = navigator.serviceWorker
        .register("/sw.js?lang=" + lang, { scope: "/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .catch(function () { return null; });
    }
    return registration;
  }

  function tellWorker(message) {
    var worker = supported && navigator.serviceWorker.controller;
    if (!worker) return Promise.resolve();
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { resolve(); };
      worker.postMessage(message, [channel.port2]);
      setTimeout(resolve, 2000); // a worker that does not answer must not stop the wipe
    });
  }

  // Phones get seized: nothing about reports may stay behind. The worker is
  // told to stop keeping anything first (it still serves this page until it
  // is closed), then every store is emptied and the worker unregistered.
  async function wipe() {
    wiped = true;
    await tellWorker({ type: "courtwatch-wipe" });
    try { if (window.courtwatchStore) await window.courtwatchStore.wipe(); } catch (e) { /* go on */ }
    try { localStorage.clear(); } catch (e) { /* go on */ }
    try { sessionStorage.clear(); } catch (e) { /* go on */ }
    try {
      if (window.caches) {
        var names = await caches.keys();
        await Promise.all(names.map(function (name) { return caches.delete(name); }));
      }
    } catch (e) { /* go on */ }
    try {
      if (supported) {
        var registrations = await navigator.serviceWorker.getRegistrations();
        await Promise.all(registrations.map(function (r) { return r.unregister(); }));
      }
    } catch (e) { /* go on */ }
  }

  // Each listed script in order (async = false keeps it); resolves when all
  // have loaded or failed. Only this site's static files, whatever the block says.
  function loadHelpers() {
    var node = document.getElementById("after-load");
    var urls = [];
    try { urls = node ? JSON.parse(node.textContent) : []; } catch (e) { urls = []; }
    if (!Array.isArray(urls)) urls = [];
    return Promise.all(urls.filter(function (src) {
      return typeof src === "string" && /^\/static\/[^/]/.test(src);
    }).map(function (src) {
      return new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = src;
        script.async = false;
        script.onload = script.onerror = resolve;
        document.head.appendChild(script);
      });
    }));
  }

  function afterLoad() { loadHelpers().then(register); }
  if (document.readyState === "complete") afterLoad();
  else window.addEventListener("load", afterLoad);

  window.courtwatchApp = {
    // Resolves once a worker controls this page (its install kept the pages).
    ready: function () {
      return register().then(function (r) {
        if (!r || navigator.serviceWorker.controller) return !!r;
        return new Promise(function (resolve) {
          navigator.serviceWorker.addEventListener("controllerchange", function () { resolve(true); });
        });
      });
    },
    wipe: wipe,
  };
})();
