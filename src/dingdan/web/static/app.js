// Dingdan back office: the few behaviours HTMX does not give by itself.
(function () {
  "use strict";
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  // Every HTMX request carries the CSRF token (bound to the session, web/csrf.py) from the cookie,
  // read at send time, so a cookie set after the page loaded is used too.
  document.addEventListener("htmx:configRequest", function (e) {
    var token = csrfToken();
    if (token) { e.detail.headers["x-csrftoken"] = token; }
  });
  // Live pages: mark the page while its event stream is open (a "live" dot; browser tests
  // wait for it before changing an order elsewhere).
  document.addEventListener("htmx:sseOpen", function () { document.body.setAttribute("data-live", "open"); });
  document.addEventListener("htmx:sseError", function () { document.body.setAttribute("data-live", "retrying"); });
  // Forms marked data-reset-on-success clear themselves after HTMX posted them well (the
  // page's Content-Security-Policy allows no hx-on inline handlers).
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (e.detail.successful && form && form.matches && form.matches("form[data-reset-on-success]")) {
      form.reset();
    }
  });
  // "Back" links: data-history-back goes back in history (href is the fallback).
  document.addEventListener("click", function (e) {
    var link = e.target && e.target.closest && e.target.closest("a[data-history-back]");
    if (link && window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
  });
  // "Select all" boxes: data-select-all="<css selector of the boxes>".
  document.addEventListener("change", function (e) {
    var sel = e.target && e.target.getAttribute && e.target.getAttribute("data-select-all");
    if (!sel) { return; }
    document.querySelectorAll(sel).forEach(function (box) { box.checked = e.target.checked; });
  });
})();

// A live update re-renders a part of the page; a <details> the person opened (the customer
// page's "I need help", a panel) stays open through it instead of snapping shut under them.
(function () {
  var open = [];
  function remember() {
    open = Array.prototype.map.call(document.querySelectorAll("details[open][data-testid]"),
      function (d) { return d.getAttribute("data-testid"); });
  }
  function restore() {
    open.forEach(function (id) {
      var d = document.querySelector('details[data-testid="' + id + '"]');
      if (d) { d.open = true; }
    });
  }
  // Swaps from a request, and from the server-sent events extension.
  document.addEventListener("htmx:beforeSwap", remember);
  document.addEventListener("htmx:sseBeforeMessage", remember);
  document.addEventListener("htmx:afterSwap", restore);
  document.addEventListener("htmx:sseMessage", restore);
})();
