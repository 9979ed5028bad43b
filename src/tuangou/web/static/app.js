// Small enhancements; every page works without them.
(function () {
  "use strict";
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(end)) return;
      var left = Math.max(0, Math.floor((end - now) / 1000));
      var t = el.querySelector("time");
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      var text = (d ? d + (document.documentElement.lang === "en" ? "d " : "天 ") : "") +
        pad(h) + ":" + pad(m) + ":" + pad(s);
      if (t) t.textContent = text;
      if (left === 0 && !el.dataset.ended) { el.dataset.ended = "1"; el.classList.add("ended"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    // The sticky action bar's height is the page's bottom padding and scroll padding (--bar-h),
    // so that the page's last content, or a field scrolled to, is never under it.
    var bar = document.querySelector(".sticky-bar");
    if (bar) {
      var fit = function () { document.documentElement.style.setProperty("--bar-h", bar.offsetHeight + "px"); };
      fit();
      if (window.ResizeObserver) new ResizeObserver(fit).observe(bar);
      else window.addEventListener("resize", fit);
    }
    // A refused form shows its first error in the middle of the screen, never under a bar.
    var invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.scrollIntoView({ block: "center" });
    tick(); setInterval(tick, 1000);
    document.querySelectorAll("[data-stepper]").forEach(function (box) {
      var input = box.querySelector("input");
      box.querySelectorAll("button[data-step]").forEach(function (b) {
        b.addEventListener("click", function () {
          var min = parseInt(input.min || "0", 10), max = parseInt(input.max || "9999", 10);
          var v = (parseInt(input.value || "0", 10) || 0) + parseInt(b.dataset.step, 10);
          input.value = Math.min(max, Math.max(min, v));
          // + at the most one may order says why it stops (the item's "at most N" note).
          var item = box.closest("li"), note = item && item.querySelector("[data-limit-note]");
          if (note) note.classList.toggle("alert", v > max);
          input.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
    });
    document.querySelectorAll("[data-total-of]").forEach(function (out) {
      var form = document.getElementById(out.dataset.totalOf);
      if (!form) return;
      var update = function () {
        var total = 0;
        form.querySelectorAll("input[data-price]").forEach(function (i) {
          total += (parseInt(i.value || "0", 10) || 0) * parseInt(i.dataset.price, 10);
        });
        out.textContent = "¥" + Math.floor(total / 100) + "." + pad(total % 100);
      };
      form.addEventListener("change", update); form.addEventListener("input", update); update();
    });
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var text = b.dataset.copy;
        if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () {
          b.dataset.label = b.textContent; b.textContent = b.dataset.done || "✓";
          setTimeout(function () { b.textContent = b.dataset.label; }, 1500);
        });
      });
    });
    // 支付确认中: ask the order's state, backing off (1 s, 2 s, 4 s … at most 15 s), and show
    // the page again once the payment has landed. Without JavaScript a meta refresh does it.
    var poll = document.querySelector("[data-poll]");
    if (poll && window.fetch) {
      var delay = 1000, tries = 0;
      var again = function () { if (++tries < 60) setTimeout(check, delay); delay = Math.min(delay * 2, 15000); };
      var check = function () {
        fetch(poll.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (s) { if (s && s.confirming === false) location.reload(); else again(); }, again);
      };
      again();
    }
    var refresh = document.querySelector("[data-refresh]");
    if (refresh) setTimeout(function () { location.reload(); },
      parseInt(refresh.dataset.refresh, 10) * 1000);
  });
})();
