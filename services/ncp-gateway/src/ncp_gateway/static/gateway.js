// Progressive enhancement only: the pages work without it.
(function () {
  "use strict";
  // Countdown of the session time; a warning dialog before it ends, with Extend (WCAG 2.2.1).
  var left = document.getElementById("time-left");
  if (left) { sessionTimer(left); }
  var form = document.getElementById("selection");
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=los]'));
  var byId = {};
  boxes.forEach(function (b) { byId[b.id] = b; });
  var children = function (box) { return boxes.filter(function (b) { return b.getAttribute("data-parent") === box.id; }); };
  var setDown = function (box, checked) {
    children(box).forEach(function (c) { c.checked = checked; c.indeterminate = false; setDown(c, checked); });
  };
  // Tri-state parents: checked when all children are, mixed when some are.
  var refreshUp = function (box) {
    var parent = byId[box.getAttribute("data-parent")];
    if (!parent) { return; }
    var kids = children(parent);
    var all = kids.every(function (c) { return c.checked; });
    var some = kids.some(function (c) { return c.checked || c.indeterminate; });
    parent.checked = all;
    parent.indeterminate = !all && some;
    refreshUp(parent);
  };
  boxes.forEach(function (box) {
    box.addEventListener("change", function () { setDown(box, box.checked); refreshUp(box); });
  });
  boxes.forEach(function (box) { if (!children(box).length) { refreshUp(box); } });
  form.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  form.querySelectorAll("button[data-select]").forEach(function (button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("data-select") === "all";
      boxes.forEach(function (b) { b.checked = on; b.indeterminate = false; });
    });
  });

  function sessionTimer(left) {
    var timer = document.getElementById("timer");
    var warnAt = parseInt(timer.getAttribute("data-warn"), 10);
    var seconds = parseInt(left.getAttribute("data-seconds"), 10);
    var deadline = Date.now() + seconds * 1000;
    var template = left.getAttribute("data-template");
    var extendForm = document.getElementById("extend-form");
    var status = document.getElementById("session-status");
    var dialog = document.getElementById("session-warning");
    var text = document.getElementById("session-warning-text");
    var warned = false;
    var returnFocus = null;
    var fill = function (pattern, secs) {
      return pattern.replace("{m}", String(Math.floor(secs / 60))).replace("{s}", String(secs % 60));
    };
    var open = function () {
      returnFocus = document.activeElement;
      if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    };
    var close = function () {
      if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
      if (returnFocus && typeof returnFocus.focus === "function") { returnFocus.focus(); }
    };
    var tick = function () {
      seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      left.textContent = fill(template, seconds);
      if (seconds === 0) {
        text.textContent = text.getAttribute("data-expired");
        var extend = document.getElementById("session-warning-extend");
        if (extend) { extend.hidden = true; }
        if (extendForm) { extendForm.hidden = true; }
        if (!dialog.open) { open(); }
        window.clearInterval(interval);
        return;
      }
      if (dialog.open) { text.textContent = fill(text.getAttribute("data-template"), seconds); }
      if (!warned && seconds <= warnAt) {
        warned = true;
        text.textContent = fill(text.getAttribute("data-template"), seconds);
        if (!extendForm) { text.textContent += " " + text.getAttribute("data-limit"); }
        open();
      }
    };
    document.getElementById("session-warning-close").addEventListener("click", close);
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); close(); });
    if (extendForm) {
      extendForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var failed = function () { status.textContent = status.getAttribute("data-failed"); };
        window.fetch(extendForm.action, {
          method: "POST", body: new URLSearchParams(new FormData(extendForm)), credentials: "same-origin",
          headers: {"Accept": "application/json"}
        }).then(function (response) {
          if (response.status === 410) { window.location.reload(); return null; }
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        }).then(function (answer) {
          if (!answer) { return; }
          if (!answer.ok && answer.body.code !== "lifetime_reached") { failed(); return; }
          seconds = answer.body.seconds_left;
          deadline = Date.now() + seconds * 1000;
          warned = seconds <= warnAt;
          if (!answer.body.can_extend) {
            extendForm.hidden = true;
            var extend = document.getElementById("session-warning-extend");
            if (extend) { extend.hidden = true; }
          }
          left.textContent = fill(template, seconds);
          if (dialog.open) { close(); }
          status.textContent = answer.ok ? fill(status.getAttribute("data-extended"), seconds)
                                         : text.getAttribute("data-limit");
        }).catch(failed);
      });
    }
    var interval = window.setInterval(tick, 1000);
    tick();
  }
})();
