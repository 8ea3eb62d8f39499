/* Cercle's only script: small enhancements over pages that work without it.

   - registers the service worker (installable app, offline page);
   - home timeline, infinite scroll: the "Older posts" link loads the next page in place
     when it comes into view (or is followed), instead of leaving the page;
   - home timeline, live updates: asks the node for a short-lived streaming ticket
     (POST /home/stream-ticket, CSRF token in a header), opens the streaming API's
     WebSocket with it, and on each new post fetches /home?min_id=<newest shown> — the
     server's own markup, in the reader's language — and puts the new posts on top.

   No library, no build step, no inline script (the pages' CSP forbids them). Post ids are
   64-bit: they are only ever handled as strings here. */
"use strict";

(function () {
  const PAGE_SIZE = 20;
  const MAX_BACKOFF_MS = 60000;

  function registerServiceWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        /* no offline page then; the site works the same */
      });
    }
  }

  /* The offline page is cached in the language of the day the worker was installed; after
     a switch of language, cache it again in the new one. */
  function refreshOfflinePage() {
    const lang = document.documentElement.lang;
    try {
      if (!("caches" in window) || localStorage.getItem("cercle-offline-lang") === lang) {
        return;
      }
    } catch (error) {
      return; /* storage refused (private mode): keep the page as cached */
    }
    caches.keys().then(function (keys) {
      const shells = keys.filter(function (key) { return key.startsWith("cercle-shell-"); });
      return Promise.all(shells.map(function (key) {
        return caches.open(key).then(function (cache) { return cache.add("/offline"); });
      })).then(function () {
        if (shells.length) {
          localStorage.setItem("cercle-offline-lang", lang);
        }
      });
    }).catch(function () { /* offline right now: next time */ });
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function fetchPage(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  function postsIn(doc) {
    return Array.from(doc.querySelectorAll("#feed article.post[id^='post-']"));
  }

  /* --- infinite scroll -------------------------------------------------------------- */

  function setUpInfiniteScroll(feed) {
    let loading = false;
    let observer = null;

    function currentLink() {
      return document.getElementById("older");
    }

    async function loadOlder(moveFocus) {
      const link = currentLink();
      if (!link || loading) {
        return;
      }
      loading = true;
      link.setAttribute("aria-busy", "true");
      try {
        const doc = await fetchPage(link.href);
        let first = null;
        for (const article of postsIn(doc)) {
          if (!document.getElementById(article.id)) {
            const adopted = document.adoptNode(article);
            feed.appendChild(adopted);
            first = first || adopted;
          }
        }
        const next = doc.getElementById("older");
        const holder = link.closest(".older") || link;
        if (next) {
          link.href = next.href;
          link.removeAttribute("aria-busy");
        } else {
          if (observer) {
            observer.disconnect();
          }
          holder.remove();
        }
        if (moveFocus && first) {
          first.setAttribute("tabindex", "-1");
          first.focus();
        }
      } catch (error) {
        link.removeAttribute("aria-busy"); /* the link still works as a plain link */
      } finally {
        loading = false;
      }
    }

    const link = currentLink();
    if (!link) {
      return;
    }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      loadOlder(true);
    });
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          loadOlder(false).then(function () {
            /* still in view (a tall screen, a short page): keep going */
            const again = currentLink();
            if (again && observer) {
              observer.unobserve(again);
              observer.observe(again);
            }
          });
        }
      }, { rootMargin: "0px 0px 600px 0px" });
      observer.observe(link);
    }
  }

  /* --- live updates ----------------------------------------------------------------- */

  function setUpLiveUpdates(timeline, feed) {
    if (!("WebSocket" in window) || !window.fetch) {
      return;
    }
    const status = document.getElementById("live-status");
    let backoff = 1000;
    let catchingUp = null;
    let again = false;

    function setState(state) {
      timeline.setAttribute("data-live-state", state);
    }

    function announce(count) {
      if (!status || count < 1) {
        return;
      }
      const text = count === 1 ? status.dataset.one : status.dataset.many.replace("{n}", count);
      status.textContent = text;
    }

    function newestId() {
      const first = feed.querySelector("article.post[id^='post-']");
      return first ? first.id.slice("post-".length) : "0";
    }

    async function catchUp() {
      /* one fetch at a time; events arriving meanwhile ask for one more round */
      if (catchingUp) {
        again = true;
        return catchingUp;
      }
      catchingUp = (async function () {
        let added = 0;
        do {
          again = false;
          for (let round = 0; round < 5; round += 1) {
            const doc = await fetchPage(timeline.dataset.newer + encodeURIComponent(newestId()));
            const fresh = postsIn(doc).filter(function (a) { return !document.getElementById(a.id); });
            /* the page is newest first: insert from its oldest so the newest ends on top */
            for (let i = fresh.length - 1; i >= 0; i -= 1) {
              feed.insertBefore(document.adoptNode(fresh[i]), feed.firstChild);
              added += 1;
            }
            if (fresh.length < PAGE_SIZE) {
              break;
            }
          }
        } while (again);
        if (added) {
          const empty = feed.querySelector(".empty");
          if (empty) {
            empty.remove();
          }
          announce(added);
        }
      })();
      try {
        await catchingUp;
      } catch (error) {
        /* the next event (or reconnection) tries again */
      } finally {
        catchingUp = null;
      }
    }

    function onMessage(event) {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.event === "update") {
        catchUp();
      } else if (message.event === "delete") {
        const gone = document.getElementById("post-" + message.payload);
        if (gone && gone.closest("#feed")) {
          gone.remove();
        }
      }
    }

    function retryLater() {
      setState("closed");
      const delay = backoff + Math.floor(Math.random() * 500);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      window.setTimeout(connect, delay);
    }

    async function connect() {
      setState("connecting");
      let grant;
      try {
        const response = await fetch(timeline.dataset.live, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
        });
        if (response.status === 401 || response.status === 403) {
          setState("refused"); /* signed out, or a stale page: a reload fixes it */
          return;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        grant = await response.json();
      } catch (error) {
        retryLater();
        return;
      }
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const url = scheme + "//" + location.host + grant.url + "?stream=" + encodeURIComponent(grant.stream);
      let socket;
      try {
        socket = new WebSocket(url, [grant.ticket]);
      } catch (error) {
        retryLater();
        return;
      }
      socket.addEventListener("open", function () {
        backoff = 1000;
        setState("open");
        catchUp(); /* whatever arrived while the socket was down */
      });
      socket.addEventListener("message", onMessage);
      socket.addEventListener("close", retryLater);
    }

    connect();
  }

  /* --- the "More" menu: a <details> that works without script; with it, Escape and a
     click elsewhere close it, as people expect of a menu ------------------------------ */

  function setUpMenus() {
    const menus = Array.from(document.querySelectorAll("details.more"));
    if (!menus.length) {
      return;
    }
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      for (const menu of menus) {
        if (menu.open) {
          menu.open = false;
          menu.querySelector("summary").focus();
        }
      }
    });
    document.addEventListener("click", function (event) {
      for (const menu of menus) {
        if (menu.open && !menu.contains(event.target)) {
          menu.open = false;
        }
      }
    });
  }

  function start() {
    registerServiceWorker();
    refreshOfflinePage();
    setUpMenus();
    const timeline = document.getElementById("timeline");
    const feed = document.getElementById("feed");
    if (timeline && feed) {
      setUpInfiniteScroll(feed);
      if (timeline.dataset.live) {
        setUpLiveUpdates(timeline, feed);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
