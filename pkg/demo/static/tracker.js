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

  function adId(el) {
    var id = el.getAttribute("data-ad-id");
    return /^[0-9]+$/.test(id || "") ? id : null;
  }

  // Impressions are sent with fetch, so the page can show the stream id the API answers with.
  function sendImpression(el, id) {
    var detail = { type: "impression", adId: id, element: el, transport: "fetch" };
    fetch(base + "/track/impression", {
      method: "POST", body: JSON.stringify({ ad_id: Number(id) }), keepalive: true,
      headers: { "Content-Type": "text/plain;charset=UTF-8" }
    }).then(function (r) {
      return r.json().then(function (body) { detail.status = r.status; detail.answer = body; announce(detail); });
    }).catch(function (err) { detail.error = String(err); announce(detail); });
  }

  function sendClick(el, id) {
    var url = base + "/track/click", body = JSON.stringify({ ad_id: Number(id) });
    var detail = { type: "click", adId: id, element: el };
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
