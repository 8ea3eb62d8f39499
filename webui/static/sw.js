/* Cercle's service worker, served as /sw.js (scope: the whole site) by webui/pwa.py,
   which fills in the version and the list of shell files.

   - install: cache the shell (offline page, CSS, JS, icon);
   - activate: drop the caches of older versions, take control of open pages;
   - a page navigation goes to the network; when the network fails, the offline page;
   - files under /static/ come from the cache first (their cache is renewed with every
     release, since the version is a hash of them);
   - anything else (signed-in pages, the API, the stream) is left alone: never cached. */
"use strict";

const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = "cercle-shell-" + VERSION;
const OFFLINE = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("cercle-shell-") && key !== CACHE)
          .map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

async function offlinePage() {
  const cached = await caches.match(OFFLINE, { cacheName: CACHE });
  return cached || new Response("Offline", {
    status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}

async function fromCacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(offlinePage));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(fromCacheFirst(request));
  }
});
