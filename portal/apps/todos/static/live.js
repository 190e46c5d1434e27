// Keeps the todo list in sync with every other tab, user, the API and the admin.
// Without JavaScript the page still works: it just shows the list as loaded.
(function () {
  "use strict";
  var list = document.getElementById("todo-list");
  if (!list || !window.WebSocket) { return; }
  var url = new URL(list.dataset.liveUrl, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var delay = 500;
  var first = true;

  function refresh() {
    // The page being shown (path and query: ?after= picks the page), not the first one.
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("todo-list");
        if (fresh) { list.innerHTML = fresh.innerHTML; }
      })
      .catch(function () {});
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      // The first snapshot matches the page just loaded; later ones follow a
      // reconnection, when changes may have been missed.
      if (data.type === "changed" || (data.type === "snapshot" && !first)) { refresh(); }
      first = false;
    };
    socket.onclose = function () {
      first = false;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
