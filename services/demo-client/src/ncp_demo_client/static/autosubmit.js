// Posts the hand-off form at once; the visible button stays as the fallback without scripts.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("emrex-handoff");
  if (form) { form.submit(); }
});
