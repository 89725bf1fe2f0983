// Live progress of background work in the admin app (an import, a campaign's send).
// An element with data-progress="URL" is updated from that same-origin JSON
// ({running, done, total}) every second; when the work is done the page reloads to show
// the outcome. Without this script the page offers a link to refresh.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress");
  var bar = box.querySelector("progress");
  var done = box.querySelector("[data-done]");
  var total = box.querySelector("[data-total]");
  var format = new Intl.NumberFormat(document.documentElement.lang || "nl");

  function show(state) {
    if (!done || !state.total) {
      return; // no count to show (yet): the bar stays indeterminate
    }
    var max = Math.max(state.total, state.done, 1);
    bar.max = max;
    bar.value = state.done;
    done.textContent = format.format(state.done);
    total.textContent = format.format(Math.max(state.total, state.done));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.running) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 500);
})();
