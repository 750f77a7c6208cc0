// Progressive enhancement only: the pages work without it.
(function () {
  "use strict";
  // Countdown of the session time.
  var left = document.getElementById("time-left");
  if (left) {
    var seconds = parseInt(left.getAttribute("data-seconds"), 10);
    var template = left.getAttribute("data-template");
    var tick = function () {
      seconds = Math.max(0, seconds - 1);
      left.textContent = template.replace("{m}", String(Math.floor(seconds / 60))).replace("{s}", String(seconds % 60));
    };
    window.setInterval(tick, 1000);
  }
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
})();
