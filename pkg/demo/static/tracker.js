/*
 * adly tracker: counts ad impressions and clicks. No dependencies.
 *
 *   <script src="https://ads.example.com/tracker.js" async></script>
 *   <div data-ad-id="123">…banner…</div>
 *
 * Impression: at least 50% of a banner visible for one continuous second (the IAB viewability rule), at most
 * once per banner per page view. Click: sent with navigator.sendBeacon, so it survives the page unloading,
 * falling back to fetch with keepalive. Events go to the API the script was loaded from (or the URL in the
 * script tag's data-endpoint attribute). Each send is announced as a DOM event "adly:sent" whose detail says
 * what was sent and, where the transport lets the page read it, the API's answer.
 *
 * Every event carries its own event_id (a random UUID). An impression whose answer did not come (a network
 * error) or was a 503 is sent once more, a second later, with the same event_id: the API stores one event
 * per event_id, so a retry never counts twice.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = (script && script.getAttribute("data-endpoint")) ||
    (script && script.src ? new URL(script.src, location.href).origin : "");
  var VISIBLE = 0.5, DWELL_MS = 1000;

  function announce(detail) {
    document.dispatchEvent(new CustomEvent("adly:sent", { detail: detail }));
  }

  // eventId is a random UUID (crypto.randomUUID where the page is a secure context, else built from
  // crypto.getRandomValues, in the same 8-4-4-4-12 form).
  function eventId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    var b = new Uint8Array(16), h = [];
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    for (var i = 0; i < 16; i++) {
      h.push((b[i] + 0x100).toString(16).slice(1));
      if (i === 3 || i === 5 || i === 7 || i === 9) { h.push("-"); }
    }
    return h.join("");
  }

  function adId(el) {
    var id = el.getAttribute("data-ad-id");
    return /^[0-9]+$/.test(id || "") ? id : null;
  }

  // Impressions are sent with fetch, so the page can show the stream id the API answers with.
  function sendImpression(el, id) {
    var eid = eventId();
    var detail = { type: "impression", adId: id, eventId: eid, element: el, transport: "fetch" };
    var body = JSON.stringify({ ad_id: Number(id), event_id: eid });
    function send(retry) {
      fetch(base + "/track/impression", {
        method: "POST", body: body, keepalive: true,
        headers: { "Content-Type": "text/plain;charset=UTF-8" }
      }).then(function (r) {
        if (r.status === 503 && retry) {
          setTimeout(function () { send(false); }, 1000);
          return;
        }
        return r.json().then(function (b) { detail.status = r.status; detail.answer = b; announce(detail); });
      }).catch(function (err) {
        if (retry) {
          setTimeout(function () { send(false); }, 1000);
          return;
        }
        detail.error = String(err);
        announce(detail);
      });
    }
    send(true);
  }

  function sendClick(el, id) {
    var eid = eventId();
    var url = base + "/track/click", body = JSON.stringify({ ad_id: Number(id), event_id: eid });
    var detail = { type: "click", adId: id, eventId: eid, element: el };
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) {
      detail.transport = "sendBeacon";
      detail.queued = true; // the browser delivers it; a beacon's answer cannot be read
      announce(detail);
      return;
    }
    detail.transport = "fetch";
    fetch(url, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain;charset=UTF-8" } })
      .then(function (r) {
        return r.json().then(function (b) { detail.status = r.status; detail.answer = b; announce(detail); });
      })
      .catch(function (err) { detail.error = String(err); announce(detail); });
  }

  var seen = new WeakSet(), timers = new WeakMap(), observer = null;

  function visible(entry) {
    var el = entry.target, id = adId(el);
    if (!id || seen.has(el)) return;
    if (entry.isIntersecting && entry.intersectionRatio >= VISIBLE) {
      if (!timers.has(el)) {
        timers.set(el, setTimeout(function () {
          timers.delete(el);
          if (seen.has(el)) return;
          seen.add(el);
          if (observer) observer.unobserve(el);
          sendImpression(el, id);
        }, DWELL_MS));
      }
    } else if (timers.has(el)) { // dropped below 50% before a full second: start again next time
      clearTimeout(timers.get(el));
      timers.delete(el);
    }
  }

  function watch(el) {
    if (el.__adly) return;
    el.__adly = true;
    if (observer) observer.observe(el);
    el.addEventListener("click", function () {
      var id = adId(el);
      if (id) sendClick(el, id);
    });
  }

  function start() {
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver(function (entries) { entries.forEach(visible); },
        { threshold: [0, VISIBLE, 1] });
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-ad-id]"), watch);
    // Banners added later (single-page apps) are watched too.
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        Array.prototype.forEach.call(r.addedNodes, function (n) {
          if (n.nodeType !== 1) return;
          if (n.hasAttribute("data-ad-id")) watch(n);
          Array.prototype.forEach.call(n.querySelectorAll("[data-ad-id]"), watch);
        });
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
