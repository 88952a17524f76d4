// Live updates for the dashboard: relative times tick, and the jobs page
// polls /api/jobs every 5 s and refreshes its table when something changed.
// Everything reads without this script.
"use strict";
(function () {
  function rel(ms) {
    var d = Math.round((ms - Date.now()) / 1000), a = Math.abs(d), s;
    if (a < 60) s = a + "s"; else if (a < 3600) s = Math.round(a / 60) + "m";
    else if (a < 86400) s = Math.round(a / 3600) + "h"; else s = Math.round(a / 86400) + "d";
    return d >= 0 ? "(in " + s + ")" : "(" + s + " ago)";
  }
  function tick() {
    document.querySelectorAll("[data-rel]").forEach(function (el) {
      el.textContent = rel(Number(el.getAttribute("data-rel")));
    });
  }
  setInterval(tick, 1000);
  var page = document.body.getAttribute("data-page");
  if (page !== "jobs") return;
  var last = null;
  function key(jobs) {
    return JSON.stringify(jobs.map(function (j) {
      return [j.job, j.paused, j.next_run, j.running, j.overdue, j.last_run && j.last_run.id,
        j.last_run && j.last_run.status];
    }));
  }
  function poll() {
    fetch("/api/jobs", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (jobs) {
      if (!jobs) return;
      var k = key(jobs);
      if (last !== null && k !== last) {
        return fetch(location.href, { credentials: "same-origin" }).then(function (r) {
          return r.text();
        }).then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("main"), now = document.querySelector("main");
          if (fresh && now && !now.contains(document.activeElement)) now.innerHTML = fresh.innerHTML;
          last = k;
        });
      }
      last = k;
    }).catch(function () {});
  }
  poll();
  setInterval(poll, 5000);
})();
