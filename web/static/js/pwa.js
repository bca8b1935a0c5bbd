// The installable app: registers the service worker (after the page has
// loaded, so its downloads never compete with the first view on a slow line)
// and knows how to remove everything courtwatch keeps on this phone.
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

  if (document.readyState === "complete") register();
  else window.addEventListener("load", register);

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
